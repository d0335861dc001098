"""The reviewer's words whyrec adds when a reason says nothing about the item itself.

A reason made only of whyrec's figures ("8 of the 50 other shoppers who reviewed …", "2 of the 2 reviews that mention
the birthday are positive") says why the item fits this shopper but not what it offers, which is the second half of
the reason shape: readers score such reasons "true but thin". When none of the kept claims cites a review or a
seller's words with something item-specific in it (`says_what_it_offers`), `item_quote` picks one review sentence of
the pair's evidence, or of the reviews an aspect figure of the reason counted (the explainer adds those after the
evidence), and whyrec adds it as a quotation (`A reviewer wrote: "…"`), checked like any other claim.

The sentence must say something about the item (not thin once the title, opinion and frame words are out), be at
least MIN_QUOTE_WORDS words, come from a review of 4 or 5 stars (or none given: a reason is not explained by a
complaint), not be cited already, and not speak in the first person (a reviewer's own story is not what the item
offers, and quoted it still reads as an anecdote). Preferred: a sentence naming an aspect a kept claim counts ("the
birthday" above), then one naming any of the catalogue's aspects, then the evidence's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from whyrec.agent.draft import DraftClaim
from whyrec.agent.shape import first_person, is_thin_in, weakness
from whyrec.knowledge.aspects import AspectVocabulary
from whyrec.schema import Evidence

MAX_QUOTE_CHARS = 160
MIN_QUOTE_WORDS = 5
POSITIVE_RATING = 4.0
QUOTE_DETAIL = "quoted by whyrec: no other claim said what the item offers"  # starts the quote's verdict detail
MAX_REASON_CLAIMS = 4  # the reason shape's cap: the quote is not added to a reason that already has this many
ASPECT_FIELD = "aspect:"  # the field of a signal counting one aspect over the reviews


def quote(text: str) -> str:
    """`text` cut at a word boundary to MAX_QUOTE_CHARS, an ellipsis marking the cut."""
    text = text.strip()
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    return text[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _weak(claim: DraftClaim, units: Mapping[str, Evidence], title: str, vocabulary: AspectVocabulary) -> bool:
    """Left out of a reason once two others stand (`whyrec.agent.shape.weakness`)."""
    return weakness(claim.text, claim.cites, title, units, vocabulary) is not None


def says_what_it_offers(
    claim: DraftClaim, units: Mapping[str, Evidence], title: str, vocabulary: AspectVocabulary
) -> bool:
    """The claim cites a reviewer's or the seller's words and says something item-specific: it is neither thin nor a
    reviewer's story retold that names no aspect (the claims the explainer leaves out as weak)."""
    cited = [units[c] for c in claim.cites if c in units]
    return any(u.speaker in ("reviewer", "seller") for u in cited) and not _weak(claim, units, title, vocabulary)


def needs_quote(
    kept: Sequence[DraftClaim], evidence: Sequence[Evidence], title: str, vocabulary: AspectVocabulary
) -> bool:
    """The reason has claims, fewer than MAX_REASON_CLAIMS of them not weak, and none says what the item offers."""
    units = {e.id: e for e in evidence}
    staying = [claim for claim in kept if not _weak(claim, units, title, vocabulary)]
    return (
        bool(kept)
        and len(staying) < MAX_REASON_CLAIMS
        and not any(says_what_it_offers(claim, units, title, vocabulary) for claim in kept)
    )


def item_quote(
    kept: Sequence[DraftClaim], evidence: Sequence[Evidence], title: str, vocabulary: AspectVocabulary
) -> DraftClaim | None:
    """The quotation to add to `kept` (see the module's docstring), or None when the reason needs none
    (`needs_quote`) or no sentence qualifies (`pick_quote`)."""
    return pick_quote(kept, evidence, title, vocabulary) if needs_quote(kept, evidence, title, vocabulary) else None


def pick_quote(
    kept: Sequence[DraftClaim], evidence: Sequence[Evidence], title: str, vocabulary: AspectVocabulary
) -> DraftClaim | None:
    """The review sentence of `evidence` to quote beside `kept`, or None when none qualifies."""
    units = {e.id: e for e in evidence}
    cited = {c for claim in kept for c in claim.cites}
    counted = {
        (units[c].field or "").removeprefix(ASPECT_FIELD)
        for c in cited
        if c in units and (units[c].field or "").startswith(ASPECT_FIELD)
    }
    candidates = [
        e
        for e in evidence
        if e.kind == "review"
        and e.id not in cited
        and (e.rating is None or e.rating >= POSITIVE_RATING)
        and len(e.text.split()) >= MIN_QUOTE_WORDS
        and not first_person(e.text)
        and not is_thin_in(e.text, title, vocabulary)
    ]
    if not candidates:
        return None

    def preference(unit: Evidence) -> tuple[bool, bool, int]:
        named = vocabulary.in_text(unit.text)
        return (not (named & counted), not named, unit.rank)

    best = min(candidates, key=preference)
    return DraftClaim(text=f'A reviewer wrote: "{quote(best.text)}"', cites=[best.id])
