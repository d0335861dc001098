"""A draft reason: what a composer (the LLM, or the extractive fallback) hands to the checker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from whyrec.llm.base import ChatMessage, Generation
from whyrec.schema import Claim, ClaimVerdict, Evidence, ModelRun, Product


class DraftClaim(BaseModel):
    text: str = Field(min_length=1)
    cites: list[str] = Field(default_factory=list)


class Usage(BaseModel):
    """What drafting cost: model calls, tokens, seconds inside the model, evidence trimmed to fit the context."""

    model_config = ConfigDict(frozen=True)

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    trimmed: int = 0
    unparsed: int = Field(default=0, description="Calls whose output was not the JSON the schema asks for.")
    prompt_version: str | None = Field(default=None, description="The prompt version the calls used (A/B).")

    def add(self, generation: Generation, parsed: bool = True) -> Usage:
        return Usage(
            calls=self.calls + 1,
            prompt_tokens=self.prompt_tokens + generation.prompt_tokens,
            completion_tokens=self.completion_tokens + generation.completion_tokens,
            seconds=self.seconds + generation.seconds,
            trimmed=self.trimmed,
            unparsed=self.unparsed + (not parsed),
            prompt_version=self.prompt_version,
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            seconds=self.seconds + other.seconds,
            trimmed=max(self.trimmed, other.trimmed),
            unparsed=self.unparsed + other.unparsed,
            prompt_version=self.prompt_version or other.prompt_version,
        )


class Draft(BaseModel):
    claims: list[DraftClaim]
    usage: Usage = Usage()
    # The conversation that produced it (ending with the model's answer) and its handle → id map, for a repair.
    messages: list[ChatMessage] = Field(default_factory=list)
    handles: dict[str, str] = Field(default_factory=dict)


class DraftRequest(BaseModel):
    """Everything a composer may use for one pair: the item, its ranked evidence, the user's profile, a question."""

    product: Product
    evidence: list[Evidence]
    profile: list[str] = Field(default_factory=list)
    question: str | None = None
    user_id: str | None = Field(default=None, description="Whom the reason is for: picks the prompt in an A/B test.")


ClaimListener = Callable[[DraftClaim], None]


class Composer(Protocol):
    """Writes a short reason for recommending an item, each claim citing the evidence ids it rests on."""

    name: str
    # True when the composer writes in its own words: a claim that copies a history line is then asked for again and
    # left out. The extractive composer quotes by design (its traceability), so copying is its way of writing.
    rewrites: bool

    def compose(self, request: DraftRequest, on_claim: ClaimListener | None = None) -> Draft:
        """The draft; `on_claim` hears each claim as soon as it is written, before the draft is done."""
        ...

    def repair(self, request: DraftRequest, draft: Draft, rejected: Sequence[ClaimVerdict]) -> Draft:
        """Rewrite the rejected claims (or give none); a composer that cannot returns an empty draft."""
        ...

    def describe(self, usage: Usage) -> ModelRun | None:
        """The model behind the draft, for the manifest; None for a composer without one."""
        ...


def place_claims(claims: Sequence[DraftClaim]) -> tuple[str, list[Claim]]:
    """Join claims into one reason and record where each claim sits in it."""
    parts: list[str] = []
    placed: list[Claim] = []
    offset = 0
    for claim in claims:
        text = claim.text.strip()
        if parts:
            offset += 1  # the joining space
        placed.append(Claim(text=text, cites=list(claim.cites), span=(offset, offset + len(text))))
        parts.append(text)
        offset += len(text)
    return " ".join(parts), placed
