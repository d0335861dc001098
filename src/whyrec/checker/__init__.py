"""The deterministic consistency checker: one verdict per claim, with the rule that decided it."""

from whyrec.checker.citations import CitationChecker

__all__ = ["CitationChecker"]
