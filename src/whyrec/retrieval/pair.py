"""Evidence for one user–item pair: this item's specs and reviews ranked by what the user cares about, plus the
user's own history ranked by how close it is to this item. Nothing from other items or other users' histories."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from whyrec.errors import UnknownIdError
from whyrec.knowledge.context import wanted_ids, with_context
from whyrec.knowledge.text import word_list
from whyrec.retrieval.embedder import Embedder, Vectors
from whyrec.retrieval.index import KnowledgeIndex
from whyrec.schema import Evidence, EvidenceUnit

# Every reason may need to say what the item is and what it costs, whatever the user wrote about.
PINNED_SPEC_FIELDS = ("title", "price", "brand")
# Weight of relevance against redundancy when picking review sentences (maximal marginal relevance).
MMR_LAMBDA = 0.7
# How much a sentence's justification score (JustificationProbe, 0–1) moves its relevance: a sentence that says
# something about the item beats chatter of the same relevance ("I sent this to my sister"). Small, because the probe
# learnt on Yelp sentences and transfers weakly to products (see eval/justify).
JUSTIFY_WEIGHT = 0.1
# A review sentence with fewer content words than this ("great", "Perfect", "was gift") can back no specific claim.
MIN_CONTENT_WORDS = 2


def unit_direction(vector: Vectors) -> Vectors | None:
    """`vector` scaled to length 1 (float32); None for the zero vector."""
    norm = float(np.linalg.norm(vector))
    return (vector / norm).astype(np.float32) if norm > 0 else None


def _mean_direction(vectors: Vectors) -> Vectors | None:
    return unit_direction(vectors.mean(axis=0)) if len(vectors) else None


def _suggest(wanted: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


class PairRetriever:
    """`for_pair(user, item)`: the evidence a reason for recommending `item` to `user` may rest on."""

    def __init__(
        self,
        index: KnowledgeIndex,
        embedder: Embedder,
        k: int = 12,
        history_k: int = 3,
        aspects: Callable[[str, str | None], str] | None = None,
        signals: Callable[[str | None, str], list[EvidenceUnit]] | None = None,
        justify: Callable[[Vectors], npt.NDArray[np.float64]] | None = None,
    ):
        """`aspects(user, exclude_item)` names what the user writes about as a phrase ("design, card"), such as
        `AspectProfiler.phrase`; without it the user's direction comes from their review sentences alone.
        `signals(user, item)` puts whyrec's own counts for the pair (`SignalMaker.for_pair`) first, in up to a third
        of the `k` slots. `justify(vectors)` scores how well each sentence could justify a recommendation
        (`JustificationProbe.score`), which breaks near ties in relevance."""
        self.index = index
        self.embedder = embedder
        self.k = k
        self.history_k = history_k
        self.aspects = aspects
        self.signals = signals
        self.justify = justify

    # The evidence slots of a list of k: what the item is and costs (PINNED_SPEC_FIELDS) keeps at least one and up
    # to a quarter; the user's history up to `history_k` and a quarter; whyrec's counts up to a third (for_pair).
    @staticmethod
    def pinned_slots(k: int) -> int:
        return max(1, k // 4)

    def history_slots(self, k: int) -> int:
        return min(self.history_k, k // 4)

    def refit(self, ranked: Sequence[Evidence], k: int) -> list[Evidence]:
        """Evidence `for_pair` ranked for more than k slots, then filtered (chat's "not relevant", preferences), cut
        back to k by the same slot rules and ranked again."""
        history = [e for e in ranked if e.kind == "history"][: self.history_slots(k)]
        pinned = [e for e in ranked if e.kind == "spec" and e.field in PINNED_SPEC_FIELDS][: self.pinned_slots(k)]
        rest = [e for e in ranked if e.kind != "history" and e not in pinned]
        item = [*pinned, *rest][: k - len(history)]
        return [e.model_copy(update={"rank": rank}) for rank, e in enumerate([*item, *history], start=1)]

    def check_pair(self, user_id: str | None, item_id: str) -> None:
        """Raise UnknownIdError for an item or user the catalogue does not hold (no user: only the item)."""
        store = self.index.store
        if store.product(item_id) is None:
            raise UnknownIdError(f"unknown item {item_id!r}{_suggest(item_id, store.item_ids())}")
        if user_id is not None and not store.has_user(user_id):
            raise UnknownIdError(f"unknown user {user_id!r}{_suggest(user_id, store.user_ids())}")

    def user_profile(self, user_id: str, exclude_item: str | None = None) -> Vectors | None:
        """Direction of what the user wrote about: the mean of their review sentences on other items, plus (with
        `aspects`) the embedding of their aspect words, each of length 1. eval/profile_retrieval.py measures both
        parts and the sum on the demo catalogue."""
        rowids = self.index.store.user_rowids(user_id, "review", exclude_item=exclude_item)
        reviews = _mean_direction(self.index.vectors.vectors(rowids))
        phrase = self.aspects(user_id, exclude_item) if self.aspects is not None and reviews is not None else ""
        if not phrase or reviews is None:
            return reviews
        return unit_direction(reviews + self.embedder.embed([phrase])[0])

    def for_pair(
        self, user_id: str | None, item_id: str, question: str | None = None, k: int | None = None
    ) -> list[Evidence]:
        """Ranked evidence for (user, item). The user's own review of this item is left out: it is not a reason.
        No user (a shopper whyrec knows nothing about): the item's evidence alone, ranked by the question or by the
        item itself, and no history."""
        self.check_pair(user_id, item_id)
        k = k or self.k
        # whyrec's counts take up to a third of the k slots, first: what links this shopper to the item, and what
        # its reviews agree on (trimmed last when the prompt must be cut)
        counted = self.signals(user_id, item_id)[: k // 3] if self.signals is not None else []
        slots = k  # what the item is and costs, and the history, keep the share of k they had without signals
        k -= len(counted)
        store, vectors = self.index.store, self.index.vectors
        item_rowids = store.item_unit_rowids(item_id, exclude_user=user_id)
        history_rowids = store.user_rowids(user_id, "history", exclude_item=item_id) if user_id is not None else []

        query: Vectors | None = None
        if question:
            query = self.embedder.embed([question])[0]
        elif user_id is not None:
            query = self.user_profile(user_id, exclude_item=item_id)
        facts = store.units_by_rowid(store.spec_rowids(item_id, PINNED_SPEC_FIELDS))
        # In PINNED_SPEC_FIELDS order: with a small k, the price matters more than the brand.
        item_facts = sorted(facts, key=lambda rowid: PINNED_SPEC_FIELDS.index(facts[rowid].field or ""))
        fact_vectors = vectors.vectors(item_facts)
        item_direction = _mean_direction(fact_vectors)
        if query is None:  # a user with no reviews elsewhere: rank by the item itself
            query = item_direction

        history_slots = min(self.history_slots(slots), len(history_rowids))
        pinned = item_facts[: self.pinned_slots(slots)]
        picked: dict[int, float] = {}
        units: dict[int, EvidenceUnit] = {}
        if query is not None:
            picked = dict(zip(pinned, (fact_vectors[: len(pinned)] @ query).tolist(), strict=True))
            rest = max(0, k - history_slots - len(picked))
            candidates = [(r, s) for r, s in vectors.search(query, 4 * rest, among=item_rowids) if r not in picked]
            units = {**facts, **store.units_by_rowid(r for r, _ in candidates)}
            candidates = [(r, s) for r, s in candidates if _worth_citing(units[r])]
            candidate_vectors = vectors.vectors([r for r, _ in candidates])
            if self.justify is not None and candidates:
                worth = self.justify(candidate_vectors)
                candidates = [
                    (r, s + JUSTIFY_WEIGHT * (float(w) - 0.5)) for (r, s), w in zip(candidates, worth, strict=True)
                ]
            picked.update(_diverse(candidates, candidate_vectors, units, rest))
        history: list[tuple[int, float]] = []
        if history_slots and item_direction is not None:
            history = vectors.search(item_direction, history_slots, among=history_rowids)

        units.update(store.units_by_rowid(r for r in [*picked, *(r for r, _ in history)] if r not in units))
        ranked = sorted(picked.items(), key=lambda pair: -pair[1]) + history
        chosen = [units[rowid] for rowid, _ in ranked]
        chosen[:0] = counted
        scores = [1.0] * len(counted) + [score for _, score in ranked]
        known = store.units_by_id(wanted_ids(chosen))
        return [
            _evidence(unit, score, rank)
            for rank, (unit, score) in enumerate(zip(with_context(chosen, known), scores, strict=True), start=1)
        ]


def _worth_citing(unit: EvidenceUnit) -> bool:
    """A review sentence names enough to back a claim; the seller's units always do."""
    return unit.kind != "review" or len(word_list(unit.text)) >= MIN_CONTENT_WORDS


def _diverse(
    candidates: list[tuple[int, float]], candidate_vectors: Vectors, units: dict[int, EvidenceUnit], n: int
) -> list[tuple[int, float]]:
    """Maximal marginal relevance over the candidates: relevant, but not the same thing said five times."""
    chosen: list[int] = []
    seen_texts: set[str] = set()
    relevance = np.array([score for _, score in candidates], dtype=np.float32)
    for _ in range(min(n, len(candidates))):
        best, best_value = -1, -np.inf
        for i in range(len(candidates)):
            if i in chosen or units[candidates[i][0]].text.lower().strip(" .!") in seen_texts:
                continue
            redundancy = max((float(candidate_vectors[i] @ candidate_vectors[j]) for j in chosen), default=0.0)
            value = MMR_LAMBDA * relevance[i] - (1 - MMR_LAMBDA) * redundancy
            if value > best_value:
                best, best_value = i, value
        if best < 0:
            break
        chosen.append(best)
        seen_texts.add(units[candidates[best][0]].text.lower().strip(" .!"))
    return [candidates[i] for i in chosen]


def _evidence(unit: EvidenceUnit, score: float, rank: int) -> Evidence:
    return Evidence(**unit.model_dump(), score=round(score, 4), rank=rank)
