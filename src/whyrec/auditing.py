"""Audit mode: check a reason written by any system for a user–item pair against whyrec's evidence for that pair.

The evidence is what retrieval finds for the pair with the reason itself as the question, plus any unit the reason
cites by id that belongs to the pair (the item's own specs and reviews, the user's own history). A cited id from another
item or another user's history stays out, and the claim citing it gets `invalid_citation`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from whyrec.checker.audit import parse_reason
from whyrec.checker.claims import MAX_REASON_CHARS
from whyrec.checker.engine import RuleChecker
from whyrec.errors import CatalogueError, WhyrecError
from whyrec.knowledge.reader import bounded_lines, decode_line, too_long
from whyrec.retrieval.index import KnowledgeIndex
from whyrec.retrieval.pair import PairRetriever
from whyrec.schema import Audit, Evidence, EvidenceUnit


class AuditRequest(BaseModel):
    """One line of a reasons file: `{"user_id": …, "item_id": …, "reason": …}`, optionally with an `id`."""

    # python-re: the schema's pattern means what str.strip() means by an empty reason ("\f" and "\x1c" are spaces)
    model_config = ConfigDict(extra="ignore", frozen=True, regex_engine="python-re")

    id: str | None = None
    user_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS, pattern=r"\S", description="Not only spaces.")

    @field_validator("reason", mode="before")
    @classmethod
    def _not_blank(cls, value: object) -> object:
        if isinstance(value, str) and value and not value.strip():
            raise ValueError("the reason is empty")
        return value


def read_requests(path: Path) -> Iterator[AuditRequest]:
    """Requests from a JSONL file; a bad line is a CatalogueError naming the file, the line and the field."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise WhyrecError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        for line_no, raw in enumerate(bounded_lines(handle), start=1):
            if isinstance(raw, int):
                raise too_long(raw, path, line_no)
            if not raw.strip():
                continue
            text = decode_line(raw, path, line_no)  # "not valid UTF-8 (byte N)", naming file and line
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CatalogueError(f"not JSON: {exc.msg}", path, line_no) from None
            except RecursionError:
                raise CatalogueError("not JSON: nested too deeply", path, line_no) from None
            except ValueError:  # after its subclasses: an integer of more digits than int() takes
                raise CatalogueError("not JSON: a number with too many digits", path, line_no) from None
            try:
                request = AuditRequest.model_validate(value)
            except ValidationError as exc:
                problem = exc.errors()[0]
                field = ".".join(str(p) for p in problem["loc"]) or None
                raise CatalogueError(problem["msg"], path, line_no, field) from None
            yield request


@dataclass
class Auditor:
    index: KnowledgeIndex
    retriever: PairRetriever
    checker: RuleChecker
    k: int = 16

    def evidence(self, request: AuditRequest) -> list[Evidence]:
        retrieved = self.retriever.for_pair(request.user_id, request.item_id, question=request.reason, k=self.k)
        have = {e.id for e in retrieved}
        cited = {c for claim in parse_reason(request.reason, retrieved) for c in claim.cites} - have
        extra = [u for u in self.index.store.units_by_id(cited).values() if _belongs(u, request)]
        start = len(retrieved) + 1
        return retrieved + [
            Evidence(**u.model_dump(), score=0.0, rank=start + n)
            for n, u in enumerate(sorted(extra, key=lambda u: u.id))
        ]

    def audit(self, request: AuditRequest) -> Audit:
        if not request.reason.strip():
            raise WhyrecError("the reason is empty")
        evidence = self.evidence(request)
        claims = parse_reason(request.reason, evidence)
        verdicts = self.checker.check(claims, evidence, uncited="best")
        return Audit(
            id=request.id,
            user_id=request.user_id,
            item_id=request.item_id,
            reason=request.reason,
            verdicts=verdicts,
            evidence=evidence,
            checker=self.checker.name,
        )


def _belongs(unit: EvidenceUnit, request: AuditRequest) -> bool:
    if unit.kind == "history":
        return unit.user_id == request.user_id and unit.item_id != request.item_id
    return unit.item_id == request.item_id and unit.user_id != request.user_id
