"""Auditing a reason written by any system: split it into claims, read its citation markers, check each claim.

Markers are square brackets after a claim holding evidence ids (`[B00ABC:spec:price]`, `[id1, id2]`) or 1-based
positions in the evidence list (`[1]`, `[2,3]`). A claim with no marker is checked against the evidence units that
match it best. `check(reason, evidence)` is the whole of it for Python callers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from whyrec.checker.claims import split_claims
from whyrec.checker.engine import RuleChecker
from whyrec.schema import Claim, ClaimVerdict, Evidence, EvidenceUnit

_MARKER = re.compile(r"\[([^\[\]\n]{1,400})\]")
_MARKER_SPLIT = re.compile(r"[,;\s]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


def _ids(body: str, evidence: Sequence[Evidence]) -> list[str]:
    ids = []
    for token in _MARKER_SPLIT.split(body.strip()):
        if not token:
            continue
        if token.isdigit() and 1 <= int(token) <= len(evidence):
            ids.append(evidence[int(token) - 1].id)
        else:
            ids.append(token)
    return ids


def parse_reason(reason: str, evidence: Sequence[Evidence]) -> list[Claim]:
    """The claims of a reason with the ids each cites; spans are offsets in `reason`, markers included."""
    markers = list(_MARKER.finditer(reason))
    masked = _MARKER.sub(lambda m: " " * len(m.group()), reason)
    spans = split_claims(masked)
    cites: list[list[str]] = [[] for _ in spans]
    ends = [s.end for s in spans]
    for marker in markers:
        if not spans:
            break
        # a marker belongs to the claim it stands in, or else to the last claim before it
        owner = max((i for i, s in enumerate(spans) if s.start <= marker.start()), default=0)
        cites[owner].extend(_ids(marker.group(1), evidence))
        ends[owner] = max(ends[owner], marker.end())
    # a marker at the end of a sentence cites for its clauses that carry none of their own
    for n in range(len(spans) - 2, -1, -1):
        if not cites[n] and spans[n + 1].sentence == spans[n].sentence:
            cites[n] = list(cites[n + 1])
    return [
        Claim(
            text=_SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(span.text.split())),
            cites=list(dict.fromkeys(cited)),
            span=(span.start, end),
        )
        for span, cited, end in zip(spans, cites, ends, strict=True)
    ]


def as_evidence(evidence: Sequence[Evidence | EvidenceUnit | str]) -> list[Evidence]:
    """Evidence as the checker takes it: retrieved Evidence as is, units and plain strings numbered in order."""
    out = []
    for rank, item in enumerate(evidence, start=1):
        if isinstance(item, Evidence):
            out.append(item)
        elif isinstance(item, EvidenceUnit):
            out.append(Evidence(**item.model_dump(), score=0.0, rank=rank))
        else:
            out.append(
                Evidence(
                    id=f"e{rank}",
                    item_id="",
                    kind="description",
                    text=item,
                    source_ref=f"evidence[{rank - 1}]",
                    score=0.0,
                    rank=rank,
                )
            )
    return out


_DEFAULT: RuleChecker | None = None


def check(
    reason: str, evidence: Sequence[Evidence | EvidenceUnit | str], checker: RuleChecker | None = None
) -> list[ClaimVerdict]:
    """Verdicts for each claim of `reason` against `evidence` (Evidence, EvidenceUnit or plain strings, which get
    the ids e1, e2, …). Uncited claims are checked against the best-matching evidence. Lexical rules only, unless a
    checker with an embedder is passed."""
    global _DEFAULT
    if checker is None:
        _DEFAULT = _DEFAULT or RuleChecker()
        checker = _DEFAULT
    units = as_evidence(evidence)
    return checker.check(parse_reason(reason, units), units, uncited="best")
