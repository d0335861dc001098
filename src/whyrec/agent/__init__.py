"""Reason composers and the explain loop (retrieve → prompt → generate → check → mend → keep what is supported)."""

from whyrec.agent.draft import Composer, Draft, DraftClaim, DraftRequest
from whyrec.agent.explain import Explainer
from whyrec.agent.extractive import ExtractiveComposer
from whyrec.agent.llm_composer import LLMComposer, claims_schema

__all__ = [
    "Composer",
    "Draft",
    "DraftClaim",
    "DraftRequest",
    "Explainer",
    "ExtractiveComposer",
    "LLMComposer",
    "claims_schema",
]
