"""`whyrec ask`: items for a request in plain words. The need is searched in the index (every item's specs,
description and reviews), each item scored by its best-matching unit; the request's hard constraints are checked
against the item's own spec values (price, brand, features in the seller's text); what passes is ranked by the
match, blended with the baseline recommender's score when a user is given (items the user has are left out). When
nothing passes, the closest items are returned with the constraints each breaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from whyrec.errors import UnknownIdError
from whyrec.knowledge.text import format_price
from whyrec.recommend.baseline import BaselineRecommender
from whyrec.recommend.request import ShoppingRequest
from whyrec.retrieval import Embedder, KnowledgeIndex
from whyrec.schema import Explanation, Product

if TYPE_CHECKING:
    from whyrec.agent.explain import Explainer

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
        keys = store.unit_keys(r for r, _ in hits)
        best: dict[str, list[tuple[float, str]]] = {}
        for rowid, similarity in hits:
            unit_id, item_id, kind = keys[rowid]
            if kind != "history":
                best.setdefault(item_id, []).append((similarity, unit_id))
        owned = set(store.user_items(user_id)) if user_id is not None else set()
        if user_id is not None and self.recommender is not None:
            ranked = self.recommender.recommend(user_id, k=len(self.recommender.items))
            taste = {r.item_id: r.score for r in ranked}
        else:
            taste = {}
        matches = {item: sorted(m, key=lambda m: (-m[0], m[1])) for item, m in best.items() if item not in owned}
        order = _ranked({item: m[0][0] for item, m in matches.items()}, taste)
        # Products are read in rank order until k meet every constraint (a catalogue of millions answers a need
        # with hundreds of candidates); all of them only when none does, for the closest.
        picks: list[Pick] = []
        breaking: list[Pick] = []
        for item_id, score in order:
            product = store.product(item_id)
            if product is None:
                continue
            found = matches[item_id]
            pick = Pick(
                item_id=item_id,
                title=product.title,
                price=product.price,
                score=score,
                match=round(found[0][0], 4),
                matched_units=[unit_id for _, unit_id in found[:2]],
                broken=self._broken(product, request),
            )
            (breaking if pick.broken else picks).append(pick)
            if len(picks) == k:
                break
        closest = [] if picks else sorted(breaking, key=lambda p: (len(p.broken), -p.score, p.item_id))[:3]
        return Answer(request, picks, closest, candidates=len(order))

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


def _ranked(match: dict[str, float], taste: dict[str, float]) -> list[tuple[str, float]]:
    """Items by score, best first: the match scaled to [0, 1], blended with the recommender's score given a user."""
    if not match:
        return []
    items = list(match)
    values = np.array([match[i] for i in items])
    span = float(values.max() - values.min())
    scaled = (values - values.min()) / span if span > 0 else np.ones_like(values)
    if taste:
        scores = (1 - USER_WEIGHT) * scaled + USER_WEIGHT * np.array([taste.get(i, 0.0) for i in items])
    else:
        scores = scaled
    return sorted(((i, round(float(s), 4)) for i, s in zip(items, scores, strict=True)), key=lambda p: (-p[1], p[0]))


@dataclass(frozen=True)
class Asked:
    """`whyrec ask`'s whole answer: the request as read, the picks, and a checked reason for each (with --explain)."""

    request: ShoppingRequest
    answer: Answer
    explanations: list[Explanation]


class Concierge:
    """Reads a request in plain words (with the model, checked, or by rules), asks the shopper, and explains each
    pick with the explain pipeline when it has one."""

    def __init__(
        self, shopper: Shopper, read: Callable[[str, list[str]], ShoppingRequest], explainer: Explainer | None
    ):
        self.shopper, self.read, self.explainer = shopper, read, explainer

    def __call__(self, text: str, user_id: str | None = None, k: int = 5) -> Asked:
        store = self.shopper.index.store
        if user_id is not None and not store.has_user(user_id):
            raise UnknownIdError(f"unknown user {user_id!r}")
        wanted = self.read(text, store.brands())
        answer = self.shopper.ask(wanted, k=k, user_id=user_id)
        explanations = (
            # the whole request as the question: a reason that repeats a constraint ("under $30") is checked against
            # the specs
            [self.explainer.explain(user_id, pick.item_id, question=wanted.text) for pick in answer.picks]
            if self.explainer is not None
            else []
        )
        return Asked(wanted, answer, explanations)
