"""First rule set: citations present and valid for the pair, claims about "you" backed by the user's own history,
quotes found word for word, and enough of the claim's content words in the cited text.

Rules run in order and the first that decides gives the verdict. The full rule set (numbers, attributes, negation,
polarity, superlatives) comes with issue 3/7; OVERLAP_THRESHOLD is provisional until it is calibrated there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from whyrec.knowledge.text import content_words
from whyrec.schema import Claim, ClaimVerdict, Evidence, EvidenceSpan, VerdictLabel

OVERLAP_THRESHOLD = 0.6
_QUOTE = re.compile(r'"([^"]+)"')
_ABOUT_USER = re.compile(r"\b(you|your|yours|you've|you're)\b", re.I)
_ABOUT_REVIEWERS = re.compile(r"\b(reviewers?|customers?|buyers?|people)\b", re.I)


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


class CitationChecker:
    """Checks each claim against the evidence retrieved for its pair. Deterministic and explainable."""

    name = "citations-v1"

    def check(self, claims: Sequence[Claim], evidence: Sequence[Evidence]) -> list[ClaimVerdict]:
        by_id = {e.id: e for e in evidence}
        return [self.check_claim(claim, by_id) for claim in claims]

    def check_claim(self, claim: Claim, evidence: Mapping[str, Evidence]) -> ClaimVerdict:
        def verdict(
            label: VerdictLabel, rule: str, detail: str, spans: list[EvidenceSpan] | None = None, score: float = 0.0
        ) -> ClaimVerdict:
            return ClaimVerdict(
                claim=claim, label=label, rule=rule, detail=detail, evidence_spans=spans or [], score=round(score, 3)
            )

        if not claim.cites:
            return verdict("uncited", "citation_present", "the claim cites no evidence")
        missing = [c for c in claim.cites if c not in evidence]
        if missing:
            return verdict("invalid_citation", "citation_valid", f"not evidence retrieved for this pair: {missing[0]}")
        cited = [evidence[c] for c in claim.cites]
        # What the claim says in its own words; quoted text is the evidence's words, checked by quote_exact.
        frame = _QUOTE.sub(" ", claim.text)

        if _ABOUT_USER.search(frame) and not any(e.speaker == "user" for e in cited):
            return verdict("unsupported", "subject_is_user", "a claim about the user must cite the user's own history")
        if _ABOUT_REVIEWERS.search(frame) and not any(e.speaker == "reviewer" for e in cited):
            return verdict("unsupported", "subject_is_reviewer", "a claim about reviewers must cite a review")

        quotes = [q.rstrip("…").strip() for q in _QUOTE.findall(claim.text)]
        quote_spans: list[EvidenceSpan] = []
        for quote in quotes:
            span = next((s for e in cited if (s := _find(quote, e)) is not None), None)
            if span is None:
                return verdict("unsupported", "quote_exact", f"quoted text not found in the cited evidence: {quote!r}")
            quote_spans.append(span)

        # Naming the item ("The Olive Garden Gift Card is a great Christmas gift") says which item is meant; it is not
        # a claim, so the title's words need no support, unless the claim says nothing else.
        title = next((e for e in evidence.values() if e.field == "title" and e.kind == "spec"), None)
        words = content_words(frame)
        if title is not None and words - content_words(title.text):
            words -= content_words(title.text)
        if not words:
            return verdict("supported", "quote_exact", "every quote is found word for word", quote_spans, 1.0)
        cited_words = set().union(*(content_words(e.text) for e in cited))
        coverage = len(words & cited_words) / len(words)
        spans = quote_spans + [
            EvidenceSpan(unit_id=e.id, start=0, end=len(e.text)) for e in cited if content_words(e.text) & words
        ]
        if coverage >= OVERLAP_THRESHOLD:
            return verdict(
                "supported",
                "content_overlap",
                f"{coverage:.0%} of the claim's content words are cited",
                spans,
                coverage,
            )
        missing_words = ", ".join(sorted(words - cited_words)[:5])
        return verdict("unsupported", "content_overlap", f"not in the cited evidence: {missing_words}", spans, coverage)


def _find(quote: str, unit: Evidence) -> EvidenceSpan | None:
    """Where `quote` stands in the unit's text (case and spacing aside)."""
    haystack, needle = unit.text.lower(), _normalise(quote)
    start = _normalise(haystack).find(needle)
    if start < 0 or not needle:
        return None
    return EvidenceSpan(unit_id=unit.id, start=start, end=start + len(needle))
