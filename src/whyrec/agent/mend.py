"""Mending a rejected claim without asking the model again: whyrec changes what the claim cites, cuts off a
failing part, or tells a reviewer's "I" as "they"; it never adds anything the claim did not say, and the checker
decides again.

- **narrow**: one reviewer's words drawn from several reviewers' lines ("A reviewer says it's for Christmas and
  everyone loves it", citing two reviews) cite each of those reviews alone in turn; the first that says it all, or
  whose part stands on its own once the rest is cut off (trim), is kept: "A reviewer says it's for Christmas." One
  reviewer's words are never retold as "reviewers'": a blind reader found that telling one review's words as what
  reviewers say, when only one of the two cited says them.
- **recite**: a claim left unsupported only because it cites the wrong unit (the model wrote "a reviewer says …" and
  cited the title) cites instead the one unit of the pair's evidence that the checker finds supports it, among the
  RECITE_CANDIDATES that share the most words with it.
- **reframe**: a reviewer's own words told under "A reviewer says" with their "I" kept ("A reviewer says the articles
  show up fine, and I do like the overall content", refused by the checker's first-person rule) are told in the third
  person ("…, and they do like the overall content"): only the pronouns change (I → they, my → their, we → they, am
  → are, was → were after "I"), and only when a cited review speaks in the first person.
- **trim**: a claim whose later part fails ("A reviewer says the magazine is even better and even though I'm not a
  computer wonk they give me …", the second part a first-person story) keeps the parts before it, when those stand
  on their own; so does one whose later part says nothing to check ("A reviewer says it's a good gift card. Good
  food. What's not to like?"). Only ever words taken away, at a boundary the checker split the claim at.

A contradicted claim is not mended, nor one with nothing to check but in a later part: no citation makes it true.
Each mended verdict says what changed (`ClaimVerdict.mended`), so a reader of the verdicts sees the claim as the model
wrote it.

Asking the model again instead (`Settings.reask`) is measured by `benchmarks/reask.py` on dev pairs (seed 11, 20 demo
and 20 reviews-only pairs, qwen2.5-1.5b); see README, "Measured".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from whyrec.agent.draft import DraftClaim
from whyrec.knowledge.aspects import tokenize
from whyrec.knowledge.text import STOPWORDS
from whyrec.schema import ClaimVerdict, Evidence

Check = Callable[[DraftClaim], ClaimVerdict]  # the checker's verdict on one claim against the pair's evidence

RECITE_CANDIDATES = 3  # units tried for a claim that cites the wrong one: those sharing the most words with it
MAX_TRIMS = 2  # failing parts cut off one after the other, from the end
MIN_TRIMMED_WORDS = 4  # what is left must still say something: "A reviewer says it" does not
_TRAILING_JOINER = re.compile(r"[\s,;:]*(?:\b(?:and|or|but|while|though|although|because|so)\b[\s,;:]*)*$", re.I)

_ENDS_SENTENCE = re.compile(r"[.!?…][\"”')]*$")  # a part kept whole already ends its sentence ('… a gift card."')

Mended = tuple[DraftClaim, ClaimVerdict]

# Who says it, at a claim's start: "A reviewer says", "One reviewer writes that", "Another reviewer notes"
_REVIEWER_SAYS = re.compile(
    r"^\s*(?:an?|one|another|the)\s+reviewer\s+(?:says|writes|notes|adds|mentions|explains|reports)\b", re.I
)
_APOSTROPHE = "['’]"
# "I" with what follows it when that changes too ("I am" → "they are"), and the other first-person words ("us" is
# left alone: "the US" lower-cases to it)
_FIRST_PERSON = re.compile(
    rf"\bI(?:{_APOSTROPHE}(?:m|ve|d|ll))?\b(?:\s+(?:am|was)\b)?"
    rf"|\b(?:we(?:{_APOSTROPHE}(?:re|ve|d|ll))?|me|my|mine|myself|our|ours|ourselves)\b",
    re.I,
)
_THIRD_PERSON = {
    "i": "they", "i'm": "they're", "i've": "they've", "i'd": "they'd", "i'll": "they'll", "i am": "they are",
    "i was": "they were", "we": "they", "we're": "they're", "we've": "they've", "we'd": "they'd", "we'll": "they'll",
    "me": "them", "my": "their", "mine": "theirs", "myself": "themselves", "our": "their", "ours": "theirs",
    "ourselves": "themselves",
}  # fmt: skip


def third_person(text: str) -> str:
    """`text` with its first-person words told in the third person, capitalised where a sentence starts."""

    def swap(found: re.Match[str]) -> str:
        said = " ".join(found.group().replace("’", "'").lower().split())
        told = _THIRD_PERSON.get(said, said)
        starts = found.start() == 0 or re.search(r"[.!?]\s*$", text[: found.start()]) is not None
        return told[0].upper() + told[1:] if starts else told

    return _FIRST_PERSON.sub(swap, text)


class Mender:
    """Mends rejected claims (see the module's docstring) with one `check` per attempt."""

    def __init__(self, check: Check):
        self.check = check

    def mend(
        self, claims: Sequence[DraftClaim], verdicts: Sequence[ClaimVerdict], evidence: Sequence[Evidence]
    ) -> tuple[list[DraftClaim], list[ClaimVerdict]]:
        """The claims and verdicts, with each rejected claim that another citation or a cut makes supported replaced
        by its mended form and that form's verdict."""
        out_claims, out_verdicts = list(claims), list(verdicts)
        for n, (claim, verdict) in enumerate(zip(claims, verdicts, strict=True)):
            if verdict.label not in ("unsupported", "invalid_citation"):
                continue
            mended = (
                self._trim(claim, verdict)  # a later part that says nothing ("What's not to like?") is cut off
                if verdict.rule == "no_content"
                else self._reframe(claim, verdict, evidence)
                or self._narrow(claim, verdict, evidence)
                or self._recite(claim, verdict, evidence)
                or self._trim(claim, verdict)
            )
            if mended is not None:
                out_claims[n], out_verdicts[n] = mended
        return out_claims, out_verdicts

    def _verdict(self, claim: DraftClaim, attempt: int) -> ClaimVerdict:
        return self.check(claim).model_copy(update={"attempt": attempt})

    @staticmethod
    def _told(verdict: ClaimVerdict, how: str) -> ClaimVerdict:
        return verdict.model_copy(update={"detail": f"{how}: {verdict.detail}", "mended": how})

    def _reframe(self, claim: DraftClaim, verdict: ClaimVerdict, evidence: Sequence[Evidence]) -> Mended | None:
        if verdict.rule != "first_person" or not _REVIEWER_SAYS.match(claim.text):
            return None
        units = {e.id: e for e in evidence}
        if not any(c in units and units[c].speaker == "reviewer" and _FIRST_PERSON.search(units[c].text)
                   for c in claim.cites):  # fmt: skip
            return None
        told = DraftClaim(text=third_person(claim.text), cites=claim.cites)
        again = self._verdict(told, verdict.attempt)
        return (told, self._told(again, "told in the third person")) if again.accepted else None

    def _narrow(self, claim: DraftClaim, verdict: ClaimVerdict, evidence: Sequence[Evidence]) -> Mended | None:
        if verdict.rule != "subject_is_reviewer":
            return None
        units = {e.id: e for e in evidence}
        reviews = [c for c in claim.cites if c in units and units[c].speaker == "reviewer"]
        if len({units[c].user_id for c in reviews}) < 2:
            return None
        for unit_id in reviews:
            alone = DraftClaim(text=claim.text, cites=[unit_id])
            how = f"cited only {unit_id} (it cited {', '.join(claim.cites)})"
            again = self._verdict(alone, verdict.attempt)
            if again.accepted:
                return alone, self._told(again, how)
            trimmed = self._trim(alone, again)
            if trimmed is not None:
                cut, cut_verdict = trimmed
                both = {"detail": f"{how}, {cut_verdict.detail}", "mended": f"{how}, {cut_verdict.mended}"}
                return cut, cut_verdict.model_copy(update=both)
        return None

    def _recite(self, claim: DraftClaim, verdict: ClaimVerdict, evidence: Sequence[Evidence]) -> Mended | None:
        for unit in closest(claim.text, evidence, exclude=claim.cites):
            moved = DraftClaim(text=claim.text, cites=[unit.id])
            again = self._verdict(moved, verdict.attempt)
            if again.accepted:
                return moved, self._told(again, f"cited again (it cited {', '.join(claim.cites) or 'nothing'})")
        return None

    def _trim(self, claim: DraftClaim, verdict: ClaimVerdict) -> Mended | None:
        text, failed = claim.text, verdict
        for _ in range(MAX_TRIMS):
            if failed.atoms < 2 or failed.atom_span is None:
                return None
            kept = _TRAILING_JOINER.sub("", text[: failed.atom_span[0]])
            if len(kept.split()) < MIN_TRIMMED_WORDS:  # the failing part came first: nothing stands without it
                return None
            why, text = failed.detail, kept if _ENDS_SENTENCE.search(kept) else kept + "."
            cut = DraftClaim(text=text, cites=claim.cites)
            failed = self._verdict(cut, verdict.attempt)
            if failed.accepted:
                return cut, self._told(failed, f"kept the part before {claim.text[len(kept) :].strip()!r} ({why})")
        return None


def closest(text: str, evidence: Sequence[Evidence], exclude: Sequence[str]) -> list[Evidence]:
    """The units (not already cited) sharing the most content words with `text`, best first, at most
    RECITE_CANDIDATES."""
    words = {w for w in tokenize(text) if w not in STOPWORDS}
    shared = [(len(words & set(tokenize(e.text))), e.rank, e) for e in evidence if e.id not in exclude]
    best = sorted((s for s in shared if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return [e for _, _, e in best[:RECITE_CANDIDATES]]
