"""Mending a rejected claim without asking the model again: whyrec changes what the claim cites or whose words it
says they are, never what it says, and the checker decides again.

- **recite**: a claim left unsupported only because it cites the wrong unit (the model wrote "a reviewer says …" and
  cited the title) cites instead the one unit of the pair's evidence that the checker finds supports it, among the
  RECITE_CANDIDATES that share the most words with it.
- **reattribute**: "A reviewer says it's a Christmas gift and great for anyone", citing two reviewers' lines, is told
  as theirs: "Reviewers say …". The checker still needs every part said by one of them.
- **trim**: a claim whose later part fails ("A reviewer says the magazine is even better and even though I'm not a
  computer wonk they give me …", the second part a first-person story) keeps the parts before it, when those stand
  on their own. Only ever words taken away, at a boundary the checker split the claim at.

A contradicted claim, or one with nothing to check, is not mended: no citation or speaker makes it true. Each mended
verdict says what changed, so a reader of the verdicts sees the claim as the model wrote it.

Measured on dev pairs (seed 11, 20 demo and 20 reviews-only pairs, qwen2.5-1.5b, `benchmarks/reask.py`): asking the
model again about what whyrec could not mend kept 1 of the 13 claims it rewrote (greedy decoding mostly wrote the
rejected claim again) and made a pair's p50 1.17x (demo) and 1.04x (reviews only) as long, so the explain loop mends and
drops by default and re-asks only when told to (`Settings.reask`).
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

# "A reviewer says", "One happy customer notes", "Another buyer found": one reviewer as the claim's subject, at its
# start, with the verb that follows
_ONE_REVIEWER_SAYS = re.compile(
    r"^(?:a|one|another)\s+(?:\w+\s+)?(?:reviewer|customer|buyer|user|shopper|purchaser|reader|subscriber|owner)"
    r"\s+(?P<verb>[a-z]+)\b",
    re.I,
)
MAX_TRIMS = 2  # failing parts cut off one after the other, from the end
MIN_TRIMMED_WORDS = 4  # what is left must still say something: "A reviewer says it" does not
_TRAILING_JOINER = re.compile(r"[\s,;:]*(?:\b(?:and|or|but|while|though|although|because|so)\b[\s,;:]*)*$", re.I)
_PLURAL_VERBS = {"says": "say", "has": "have", "does": "do", "is": "are", "was": "were"}


def reattributed(text: str) -> str | None:
    """The claim told as several reviewers' words ("A reviewer says X" → "Reviewers say X"), or None when it does
    not start with one reviewer as the subject of a verb."""
    match = _ONE_REVIEWER_SAYS.match(text)
    if match is None:
        return None
    verb = match.group("verb")
    lower = verb.lower()
    if lower in _PLURAL_VERBS:
        plural = _PLURAL_VERBS[lower]
    elif lower.endswith(("ches", "shes", "sses", "xes")):
        plural = verb[:-2]  # "watches" → "watch"
    elif lower.endswith("ies") and len(lower) > 4:
        plural = verb[:-3] + "y"  # "relies" → "rely"
    elif lower.endswith("s") and not lower.endswith("ss"):
        plural = verb[:-1]  # "notes" → "note", "finds" → "find"
    else:
        plural = verb  # past tense: "said", "found"
    return f"Reviewers {plural}{text[match.end() :]}"


class Mender:
    """Mends rejected claims (see the module's docstring) with one `check` per attempt."""

    def __init__(self, check: Check):
        self.check = check

    def mend(
        self, claims: Sequence[DraftClaim], verdicts: Sequence[ClaimVerdict], evidence: Sequence[Evidence]
    ) -> tuple[list[DraftClaim], list[ClaimVerdict]]:
        """The claims and verdicts, with each rejected claim that a new citation or speaker makes supported
        replaced by its mended form and that form's verdict."""
        out_claims, out_verdicts = list(claims), list(verdicts)
        for n, (claim, verdict) in enumerate(zip(claims, verdicts, strict=True)):
            if verdict.label not in ("unsupported", "invalid_citation") or verdict.rule == "no_content":
                continue
            mended = (
                self._reattribute(claim, verdict, evidence)
                or self._recite(claim, verdict, evidence)
                or self._trim(claim, verdict)
            )
            if mended is not None:
                out_claims[n], out_verdicts[n] = mended
        return out_claims, out_verdicts

    def _recite(
        self, claim: DraftClaim, verdict: ClaimVerdict, evidence: Sequence[Evidence]
    ) -> tuple[DraftClaim, ClaimVerdict] | None:
        for unit in closest(claim.text, evidence, exclude=claim.cites):
            moved = DraftClaim(text=claim.text, cites=[unit.id])
            again = self.check(moved).model_copy(update={"attempt": verdict.attempt})
            if again.accepted:
                was = ", ".join(claim.cites) or "nothing"
                how = f"cited again (it cited {was})"
                return moved, again.model_copy(update={"detail": f"{how}: {again.detail}", "mended": how})
        return None

    def _reattribute(
        self, claim: DraftClaim, verdict: ClaimVerdict, evidence: Sequence[Evidence]
    ) -> tuple[DraftClaim, ClaimVerdict] | None:
        if verdict.rule != "subject_is_reviewer":
            return None
        units = {e.id: e for e in evidence}
        writers = {units[c].user_id for c in claim.cites if c in units and units[c].speaker == "reviewer"}
        text = reattributed(claim.text)
        if len(writers) < 2 or text is None:
            return None
        told = DraftClaim(text=text, cites=claim.cites)
        again = self.check(told).model_copy(update={"attempt": verdict.attempt})
        if not again.accepted:
            return None
        how = f"told as {len(writers)} reviewers' words (it said {claim.text!r})"
        return told, again.model_copy(update={"detail": f"{how}: {again.detail}", "mended": how})

    def _trim(self, claim: DraftClaim, verdict: ClaimVerdict) -> tuple[DraftClaim, ClaimVerdict] | None:
        text, failed = claim.text, verdict
        for _ in range(MAX_TRIMS):
            if failed.atoms < 2 or failed.atom_span is None:
                return None
            kept = _TRAILING_JOINER.sub("", text[: failed.atom_span[0]])
            if len(kept.split()) < MIN_TRIMMED_WORDS:  # the failing part came first: nothing stands without it
                return None
            text = kept + "."
            failed = self.check(DraftClaim(text=text, cites=claim.cites)).model_copy(
                update={"attempt": verdict.attempt}
            )
            if failed.accepted:
                how = f"kept the part before {claim.text[len(kept) :].strip()!r} ({verdict.detail})"
                mended = failed.model_copy(update={"detail": f"{how}: {failed.detail}", "mended": how})
                return DraftClaim(text=text, cites=claim.cites), mended
        return None


def closest(text: str, evidence: Sequence[Evidence], exclude: Sequence[str]) -> list[Evidence]:
    """The units (not already cited) sharing the most content words with `text`, best first, at most
    RECITE_CANDIDATES."""
    words = {w for w in tokenize(text) if w not in STOPWORDS}
    shared = [(len(words & set(tokenize(e.text))), e.rank, e) for e in evidence if e.id not in exclude]
    best = sorted((s for s in shared if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return [e for _, _, e in best[:RECITE_CANDIDATES]]
