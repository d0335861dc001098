"""A draft reason: what a composer (extractive now, an LLM later) hands to the checker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, Field

from whyrec.schema import Claim, Evidence, Product


class DraftClaim(BaseModel):
    text: str = Field(min_length=1)
    cites: list[str] = Field(default_factory=list)


class Draft(BaseModel):
    claims: list[DraftClaim]


class Composer(Protocol):
    """Writes a short reason for recommending `product`, each claim citing the evidence ids it rests on."""

    name: str

    def compose(self, product: Product, evidence: Sequence[Evidence]) -> Draft: ...


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
