"""Reason composers and the explain loop (retrieve → compose → check → keep what is supported)."""

from whyrec.agent.explain import Explainer
from whyrec.agent.extractive import ExtractiveComposer

__all__ = ["Explainer", "ExtractiveComposer"]
