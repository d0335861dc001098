"""`whyrec ask`: items for a request in plain words. The need is searched in the index (every item's specs,
description and reviews), each item scored by its best-matching unit; the request's hard constraints are checked
against the item's own spec values (price, brand, features in the seller's text); what passes is ranked by the
match, blended with the baseline recommender's score when a user is given (items the user has are left out). When
nothing passes, the closest items are returned with the constraints each breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from whyrec.knowledge.text import format_price
from whyrec.recommend.baseline import BaselineRecommender
from whyrec.recommend.request import ShoppingRequest
from whyrec.retrieval import Embedder, KnowledgeIndex
from whyrec.schema import Product

SEARCH_UNITS = 2000  # units searched for the need; items with no unit among them are not candidates
USER_WEIGHT = 0.5  # with a user: (1 − w) · match + w · the recommender's score, both scaled to [0, 1]


@dataclass(frozen=True)
class Pick:
    item_id: str
    title: str
    price: float | None
    score: float
    match: float
    matched_units: list[str] = field(default_factory=list)  # the item's units most like the need
    broken: list[str] = field(default_factory=list)  # the constraints it breaks (only for the closest items)


@dataclass(frozen=True)
class Answer:
    request: ShoppingRequest
    picks: list[Pick]
    closest: list[Pick]  # only when no item meets every constraint
    candidates: int


class Shopper:
    def __init__(self, index: KnowledgeIndex, embedder: Embedder, recommender: BaselineRecommender | None = None):
        self.index = index
        self.embedder = embedder
        self.recommender = recommender

    def ask(self, request: ShoppingRequest, k: int = 5, user_id: str | None = None) -> Answer:
        store = self.index.store
        query = np.asarray(self.embedder.embed([request.need])[0])
        hits = self.index.vectors.search(query, SEARCH_UNITS)
        units = store.units_by_rowid(r for r, _ in hits)
        best: dict[str, list[tuple[float, str]]] = {}
        for rowid, similarity in hits:
            unit = units[rowid]
            if unit.kind != "history":
                best.setdefault(unit.item_id, []).append((similarity, unit.id))
        owned = set(store.user_items(user_id)) if user_id is not None else set()
        if user_id is not None and self.recommender is not None:
            ranked = self.recommender.recommend(user_id, k=len(self.recommender.items))
            taste = {r.item_id: r.score for r in ranked}
        else:
            taste = {}
        scored: list[Pick] = []
        for item_id, matches in best.items():
            product = store.product(item_id)
            if product is None or item_id in owned:
                continue
            matches.sort(key=lambda m: (-m[0], m[1]))
            scored.append(
                Pick(
                    item_id=item_id,
                    title=product.title,
                    price=product.price,
                    score=0.0,
                    match=round(matches[0][0], 4),
                    matched_units=[unit_id for _, unit_id in matches[:2]],
                    broken=self._broken(product, request),
                )
            )
        scored = _ranked(scored, taste)
        picks = [p for p in scored if not p.broken][:k]
        closest = [] if picks else sorted(scored, key=lambda p: (len(p.broken), -p.score, p.item_id))[:3]
        return Answer(request, picks, closest, candidates=len(scored))

    def _broken(self, product: Product, request: ShoppingRequest) -> list[str]:
        broken = []
        if request.max_price is not None or request.min_price is not None:
            if product.price is None:
                broken.append("its price is not known")
            elif request.max_price is not None and product.price > request.max_price:
                broken.append(f"costs {format_price(product.price)}, over ${request.max_price:g}")
            elif request.min_price is not None and product.price < request.min_price:
                broken.append(f"costs {format_price(product.price)}, under ${request.min_price:g}")
        if request.brands and (product.brand or "").lower() not in {b.lower() for b in request.brands}:
            broken.append(f"brand is {product.brand or 'not known'}, not {' or '.join(request.brands)}")
        if request.must_have:
            seller = " ".join(u.text for u in self.index.store.spec_units(product.item_id)).lower()
            seller += " " + (product.description or "").lower()
            for feature in request.must_have:
                if not all(re.search(rf"\b{re.escape(word)}", seller) for word in feature.split()):
                    broken.append(f"its description does not mention {feature!r}")
        return broken


def _ranked(picks: list[Pick], taste: dict[str, float]) -> list[Pick]:
    if not picks:
        return []
    match = np.array([p.match for p in picks])
    span = float(match.max() - match.min())
    scaled = (match - match.min()) / span if span > 0 else np.ones_like(match)
    if taste:
        scores = (1 - USER_WEIGHT) * scaled + USER_WEIGHT * np.array([taste.get(p.item_id, 0.0) for p in picks])
    else:
        scores = scaled
    rescored = [
        Pick(p.item_id, p.title, p.price, round(float(s), 4), p.match, p.matched_units, p.broken)
        for p, s in zip(picks, scores, strict=True)
    ]
    return sorted(rescored, key=lambda p: (-p.score, p.item_id))
