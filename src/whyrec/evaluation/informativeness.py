"""Does a reason say *why this shopper*? Measures of one reason's claims beyond whether they are true.

The grounding measures of `explain_eval` say whether a reason's claims are backed; a reason can be fully backed and
still say nothing: "The Olive Garden Gift Card is a great gift." These measures read a reason's claims, the checker's
verdicts on them (None for a system nobody checked: every claim is then judged as written), the pair's evidence, the
item's title and the shopper's id:

- `personal_link`: an accepted claim cites a unit tied to this shopper (their history, or a signal whyrec counted
  for them) and speaks to them ("you", "your");
- `aspects`: the catalogue's aspect words (see `whyrec.knowledge.aspects`) the claims name;
- `generic_claims`: claims with nothing item-specific left once the title, the catalogue's kind words, stopwords,
  opinion words and frame words are taken out (`whyrec.agent.shape`: the explainer leaves such claims out when it can,
  so for whyrec this figure is not independent);
- `copied_anecdotes`: claims that speak as a reviewer ("I", "my"), which reads as whyrec's own experience, or that
  retell a reviewer's first-person story naming none of the catalogue's aspects (`whyrec.agent.shape`); a
  reviewer's experience told as theirs that says what the item offers is not one (the explainer leaves the others
  out when it can, so for whyrec this figure is not independent);
- `copied_history`: claims that echo a history line ('Bought "…", rated 5/5') instead of saying what it means;
- `raw_ids`: claims that show a catalogue id ("B00ABC1234", "Item B00…") a shopper cannot read.

Texts are tokenised as the aspect vocabulary tokenises them (lower case, runs of word characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from whyrec.agent.shape import copies_history, first_person, is_thin_in, tells_only_a_story
from whyrec.checker.patterns import ABOUT_USER
from whyrec.errors import WhyrecError
from whyrec.knowledge.aspects import AspectVocabulary
from whyrec.schema import Claim, ClaimVerdict, Evidence

# An Amazon ASIN ("B00ABC1234") or ISBN-10, and the stand-in title of an untitled item ("Item B00…").
ASIN = re.compile(r"\b(?:B0|[0-9])[0-9A-Z]{8,9}\b|\bItem B0[0-9A-Z]+\b")
MIN_ID_LENGTH = 4  # shorter item ids ("P", "42") are too likely to be ordinary words to count as shown ids


@dataclass(frozen=True)
class Informativeness:
    """What one reason says beyond being true; counts are of claims. `supported` is None when no verdicts were given."""

    claims: int
    supported: int | None
    abstained: bool
    personal_link: bool
    aspects: frozenset[str]
    generic_claims: int
    copied_anecdotes: int
    copied_history: int
    raw_ids: int


def measure_informativeness(
    claims: Sequence[Claim],
    verdicts: Sequence[ClaimVerdict] | None,
    evidence: Sequence[Evidence],
    *,
    title: str,
    user_id: str | None,
    vocabulary: AspectVocabulary,
) -> Informativeness:
    """The measures of one reason. A claim is accepted when some accepted verdict is on a claim with its text and
    citations (an explanation's verdicts also hold the draft's dropped claims); with `verdicts` None, every claim is."""
    units = {unit.id: unit for unit in evidence}
    accepted = [claim for claim in claims if verdicts is None or _accepted(claim, verdicts)]
    item_ids = {unit.item_id for unit in evidence if len(unit.item_id) >= MIN_ID_LENGTH}
    return Informativeness(
        claims=len(claims),
        supported=None if verdicts is None else len(accepted),
        abstained=not claims,
        personal_link=any(_links_shopper(claim, units, user_id) for claim in accepted),
        aspects=frozenset(word for claim in claims for word in vocabulary.in_text(claim.text)),
        generic_claims=sum(is_thin_in(claim.text, title, vocabulary) for claim in claims),
        copied_anecdotes=sum(
            first_person(claim.text) or tells_only_a_story(claim.text, claim.cites, units, vocabulary)
            for claim in claims
        ),
        copied_history=sum(copies_history(claim.text, claim.cites, units) for claim in claims),
        raw_ids=sum(_shows_id(claim.text, item_ids) for claim in claims),
    )


def history_relates(evidence: Sequence[Evidence], user_id: str | None) -> bool:
    """The pair's evidence holds something of this shopper's (a unit of their history, a signal counted for them):
    only then can a reason link the item to them."""
    return any(_tied_to(unit, user_id) for unit in evidence)


def summarise_informativeness(rows: Sequence[Informativeness], related: Sequence[bool]) -> dict[str, float]:
    """One system's measures over its reasons; `related[i]`: `history_relates` for the pair of `rows[i]`.

    Shares of reasons: abstention, two_supported (≥ 2 accepted claims, among reasons whose verdicts were given; left
    out when none were), personal_link (among `related` pairs), raw_id_reasons (any claim with an id). Shares of
    claims: generic_claims, copied_anecdote_claims, copied_history_claims. Means per reason: claims_per_reason,
    aspects_per_reason.
    """
    if not rows:
        raise WhyrecError("no reason to measure")
    if len(rows) != len(related):
        raise WhyrecError(f"{len(rows)} reasons but {len(related)} related flags: one flag per reason")
    claims = sum(row.claims for row in rows)
    checked = [row.supported for row in rows if row.supported is not None]
    linkable = [row.personal_link for row, relates in zip(rows, related, strict=True) if relates]
    summary = {
        "reasons": float(len(rows)),
        "abstention": _share(sum(row.abstained for row in rows), len(rows)),
        "claims_per_reason": claims / len(rows),
        "related_pairs": float(len(linkable)),
        "personal_link": _share(sum(linkable), len(linkable)),
        "aspects_per_reason": sum(len(row.aspects) for row in rows) / len(rows),
        "generic_claims": _share(sum(row.generic_claims for row in rows), claims),
        "copied_anecdote_claims": _share(sum(row.copied_anecdotes for row in rows), claims),
        "copied_history_claims": _share(sum(row.copied_history for row in rows), claims),
        "raw_id_reasons": _share(sum(row.raw_ids > 0 for row in rows), len(rows)),
    }
    if checked:
        summary["two_supported"] = _share(sum(n >= 2 for n in checked), len(checked))
    return summary


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _key(claim: Claim) -> tuple[str, tuple[str, ...]]:
    return claim.text.strip().lower(), tuple(claim.cites)


def _accepted(claim: Claim, verdicts: Sequence[ClaimVerdict]) -> bool:
    return any(v.accepted and _key(v.claim) == _key(claim) for v in verdicts)


def _tied_to(unit: Evidence, user_id: str | None) -> bool:
    return user_id is not None and unit.speaker in ("user", "whyrec") and unit.user_id == user_id


def _cited(claim: Claim, units: Mapping[str, Evidence]) -> list[Evidence]:
    return [units[cite] for cite in claim.cites if cite in units]


def _links_shopper(claim: Claim, units: Mapping[str, Evidence], user_id: str | None) -> bool:
    return bool(ABOUT_USER.search(claim.text)) and any(_tied_to(unit, user_id) for unit in _cited(claim, units))


def _shows_id(text: str, item_ids: Iterable[str]) -> bool:
    return bool(ASIN.search(text)) or any(re.search(rf"(?<!\w){re.escape(i)}(?!\w)", text) for i in item_ids)
