"""Citations: present, retrieved for this pair, and quotes found word for word in what they cite."""

from __future__ import annotations

import re

from whyrec.checker.rules.base import ClaimView, Context, Decision, span
from whyrec.schema import Evidence, EvidenceSpan


class CitationPresent:
    name = "citation_present"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if view.cited or view.auto_cited:
            return None
        if view.claim.cites:
            return None  # cites something: citation_valid decides
        return Decision("uncited", "the claim cites no evidence")


class CitationValid:
    name = "citation_valid"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        missing = [c for c in view.claim.cites if c not in ctx.evidence]
        if missing:
            return Decision("invalid_citation", f"not evidence retrieved for this pair: {missing[0]}")
        return None


def find_quote(quote: str, unit: Evidence) -> EvidenceSpan | None:
    """Where `quote` stands in the unit's text, case and spacing aside (offsets in the unit's own text)."""
    words = quote.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), unit.text, re.IGNORECASE)
    return span(unit, match.start(), match.end()) if match else None


class QuoteExact:
    name = "quote_exact"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if not view.quotes:
            return None
        found = []
        for quote in view.quotes:
            hit = next((s for e in view.cited if (s := find_quote(quote, e)) is not None), None)
            if hit is None:
                return Decision("unsupported", f"quoted text not found in the cited evidence: {quote!r}")
            found.append(hit)
        if not view.content(ctx):
            return Decision("supported", "every quote is found word for word", tuple(found))
        return None
