"""Versioned prompt templates (package data) and their renderers."""

from whyrec.prompts.explain import (
    DEFAULT_PROMPT,
    ExplainPrompt,
    evidence_line,
    handles_for,
    load_prompt,
    variant_for,
)

__all__ = ["DEFAULT_PROMPT", "ExplainPrompt", "evidence_line", "handles_for", "load_prompt", "variant_for"]
