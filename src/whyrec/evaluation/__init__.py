"""Evaluation of whyrec: grounding (the checker against labelled data sets)."""
