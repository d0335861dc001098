"""A review sentence with its review around it: the sentences before and after it, so that a reader (the checker)
can tell what the sentence is about ("The feel and action are so much better." after "I returned it for the
Yamaha.") and whether it is hedged or negated by its neighbours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from whyrec.schema import EvidenceUnit, ReviewContext

U = TypeVar("U", bound=EvidenceUnit)


def neighbour_ids(unit: EvidenceUnit) -> tuple[str, str] | None:
    """The ids of the sentences before and after a review sentence (`<item>:rev:<review>:s<n>`); None otherwise."""
    if unit.kind != "review":
        return None
    head, _, sentence = unit.id.rpartition(":s")
    if not head or not sentence.isdigit():
        return None
    n = int(sentence)
    return f"{head}:s{n - 1}", f"{head}:s{n + 1}"


def with_context(units: Sequence[U], known: Mapping[str, EvidenceUnit]) -> list[U]:
    """The units, each review sentence given its neighbours from `known` (id → unit)."""
    out: list[U] = []
    for unit in units:
        ids = neighbour_ids(unit)
        if ids is None:
            out.append(unit)
            continue
        before, after = (known.get(i) for i in ids)
        context = ReviewContext(before=before.text if before else None, after=after.text if after else None)
        out.append(unit.model_copy(update={"context": context}))
    return out


def wanted_ids(units: Sequence[EvidenceUnit]) -> list[str]:
    """Every neighbour id the units' context needs."""
    return [i for unit in units if (ids := neighbour_ids(unit)) for i in ids]
