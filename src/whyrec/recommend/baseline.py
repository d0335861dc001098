"""A baseline recommender over the catalogue: item–item collaborative filtering blended with content similarity.

- Collaborative: items are the columns of the user × item interaction matrix (1 per interaction, scipy.sparse), and
  two items are similar by the cosine of their columns (Sarwar et al., WWW 2001). A candidate scores the mean
  similarity to the items in the user's history.
- Content: an item is the mean of its evidence vectors (the index's MiniLM embeddings of its specs, description and
  reviews). A candidate scores the cosine with the mean of the user's history items.
- Blend: each score is min–max scaled over the user's candidates, then `alpha · collaborative + (1 − alpha) · content`
  (alpha 1 is collaborative only, 0 content only); popularity breaks ties. Items the user already has are excluded.
  A user with no history gets the most popular items (cold start).

`held_out` interactions are left out of everything (the interaction matrix, the user's history, and the user's own
review in the item's content vector), so a leave-one-out evaluation cannot see its answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from whyrec.errors import UnknownIdError, WhyrecError
from whyrec.retrieval import KnowledgeIndex

DEFAULT_ALPHA = 0.5
_TIE = 1e-6  # the weight of popularity in the score: enough to order ties, never to reorder real differences


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    collaborative: float
    content: float
    popularity: int
    because: list[str]  # the history items most like this one (collaborative, then content), for the reason


class BaselineRecommender:
    """`recommend(user, k)`: the k items the blend scores highest among those the user does not have."""

    def __init__(self, index: KnowledgeIndex, alpha: float = DEFAULT_ALPHA, held_out: Iterable[tuple[str, str]] = ()):
        if not 0.0 <= alpha <= 1.0:
            raise WhyrecError(f"alpha must be between 0 and 1, not {alpha}")
        self.alpha = alpha
        store = self.store = index.store
        hidden = set(held_out)
        self.items = store.item_ids()
        self.item_index = {item: n for n, item in enumerate(self.items)}
        self.histories: dict[str, list[int]] = {}
        for user, item, _rating, _time in store.interactions():
            if (user, item) not in hidden and item in self.item_index:
                self.histories.setdefault(user, []).append(self.item_index[item])
        self._known_users = set(store.user_ids())
        self.popularity = np.zeros(len(self.items), dtype=np.int64)
        for history in self.histories.values():
            self.popularity[history] += 1
        self.collaborative = _item_cosine(self.histories, len(self.items))
        self.content = _content_vectors(index, self.items, hidden)

    def titles(self) -> dict[str, str]:
        return self.store.titles()

    def history(self, user_id: str | None) -> list[str]:
        return [self.items[n] for n in self.histories.get(user_id, [])] if user_id is not None else []

    def recommend(self, user_id: str | None, k: int = 5) -> list[Recommendation]:
        """The `k` best items for the user that they do not have yet. No user (a new shopper): the most popular."""
        if user_id is not None and user_id not in self._known_users:
            raise UnknownIdError(f"unknown user {user_id!r}")
        if k < 1:
            raise WhyrecError(f"k must be at least 1, not {k}")
        owned = self.histories.get(user_id, []) if user_id is not None else []
        candidates = np.setdiff1d(np.arange(len(self.items)), owned)
        if candidates.size == 0:
            return []
        if owned:
            collaborative = np.asarray(self.collaborative[candidates][:, owned].mean(axis=1)).ravel()
            profile = self.content[owned].mean(axis=0)
            content = self.content[candidates] @ (profile / max(float(np.linalg.norm(profile)), 1e-12))
            score = self.alpha * _scaled(collaborative) + (1 - self.alpha) * _scaled(content)
        else:  # cold start: nothing to be like
            collaborative = content = np.zeros(candidates.size)
            score = np.zeros(candidates.size)
        score = score + _TIE * self.popularity[candidates] / max(1, int(self.popularity.max()))
        order = np.lexsort((candidates, -score))[:k]  # highest score first; ties by catalogue order
        return [
            Recommendation(
                item_id=self.items[candidates[n]],
                score=round(float(score[n]), 6),
                collaborative=round(float(collaborative[n]), 6),
                content=round(float(content[n]), 6),
                popularity=int(self.popularity[candidates[n]]),
                because=self._because(int(candidates[n]), owned),
            )
            for n in order
        ]

    def rank_of(self, user_id: str, item_id: str) -> int | None:
        """Where `item_id` comes in the user's full ranking (1 is first); None if the user already has it."""
        ranked = self.recommend(user_id, k=len(self.items))
        return next((n for n, r in enumerate(ranked, start=1) if r.item_id == item_id), None)

    def _because(self, item: int, owned: list[int], n: int = 2) -> list[str]:
        if not owned:
            return []
        row = np.asarray(self.collaborative[item][:, owned].todense()).ravel()
        content = self.content[owned] @ self.content[item]
        order = sorted(range(len(owned)), key=lambda j: (-row[j], -content[j], owned[j]))
        return [self.items[owned[j]] for j in order[:n]]


def popularity_ranking(recommender: BaselineRecommender, user_id: str, k: int) -> list[str]:
    """The baseline of baselines: the most interacted-with items the user does not have."""
    owned = set(recommender.histories.get(user_id, []))
    order = sorted(range(len(recommender.items)), key=lambda n: (-recommender.popularity[n], n))
    return [recommender.items[n] for n in order if n not in owned][:k]


def _item_cosine(histories: dict[str, list[int]], n_items: int) -> sparse.csr_matrix:
    rows = [u for u, items in enumerate(histories.values()) for _ in items]
    cols = [i for items in histories.values() for i in items]
    matrix = sparse.csr_matrix((np.ones(len(cols), dtype=np.float64), (rows, cols)), shape=(len(histories), n_items))
    matrix.data[:] = 1.0  # a user who bought an item twice counts once
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
    scaled = matrix @ sparse.diags(1.0 / np.maximum(norms, 1e-12))
    similarity = (scaled.T @ scaled).tocsr()
    similarity.setdiag(0.0)  # an item is not its own neighbour
    similarity.eliminate_zeros()
    return similarity


def _content_vectors(index: KnowledgeIndex, items: list[str], hidden: set[tuple[str, str]]) -> np.ndarray:
    vectors = np.zeros((len(items), index.vectors.dim), dtype=np.float32)
    for n, item in enumerate(items):
        rowids = [rowid for rowid, user in index.store.item_units(item) if (user, item) not in hidden]
        if rowids:
            mean = index.vectors.vectors(rowids).mean(axis=0)
            vectors[n] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return vectors


def _scaled(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values, dtype=np.float64)
