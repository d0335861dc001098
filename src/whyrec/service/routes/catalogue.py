"""/v1/users, /v1/users/{id} and /v1/items/{id}/evidence: what the web page offers to ask about."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from whyrec.agent.intents import MAX_MESSAGE_CHARS
from whyrec.errors import UnknownIdError
from whyrec.schema import Evidence
from whyrec.service.core import Service
from whyrec.service.models import ItemRef, UserList, UserView


def router(service: Service, guarded: list[Any]) -> APIRouter:
    routes = APIRouter(dependencies=guarded, tags=["catalogue"])

    @routes.get("/v1/users")
    def users(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> UserList:
        """Users with the longest histories first."""
        store = service.explainer.index.store
        with service.turn():
            return UserList(users=[u for u, _ in store.users_by_activity(limit)], total=store.count_users())

    @routes.get("/v1/users/{user_id}")
    def user(user_id: str, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> UserView:
        """A user's history, what they write about, and items to ask about."""
        with service.turn():
            return _user_view(service, user_id, limit)

    @routes.get("/v1/items/{item_id}/evidence")
    def item_evidence(
        item_id: str,
        user_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        question: Annotated[str | None, Query(max_length=MAX_MESSAGE_CHARS)] = None,
        k: Annotated[int, Query(ge=1, le=100)] = 12,
    ) -> list[Evidence]:
        """Evidence for the item: for `user_id`, what a reason for that user would rest on; else its own units."""
        with service.turn():
            return _item_evidence(service, item_id, user_id, question, k)

    return routes


def _user_view(service: Service, user_id: str, limit: int) -> UserView:
    explainer = service.explainer
    store = explainer.index.store
    if not store.has_user(user_id):
        raise UnknownIdError(f"unknown user {user_id!r}")
    titles = store.titles()
    mine = store.user_items(user_id)
    ratings = {u.item_id: u.rating for u in store.units_by_rowid(store.user_rowids(user_id, "history")).values()}
    history = [ItemRef(item_id=i, title=titles.get(i, i), rating=ratings.get(i)) for i in mine[:limit]]
    others = [i for i in titles if i not in set(mine)]
    profile = explainer.retriever.user_profile(user_id)
    if profile is not None:
        rows = store.title_rowids()
        with_title = [i for i in others if i in rows]
        scores = explainer.index.vectors.vectors([rows[i] for i in with_title]) @ profile
        ranked = [i for _, i in sorted(zip((-scores).tolist(), with_title, strict=True))]
        others = ranked + [i for i in others if i not in rows]
    items = [ItemRef(item_id=i, title=titles[i]) for i in others[:limit]]
    return UserView(user_id=user_id, history=history, aspects=explainer.profiles.words(user_id), items=items)


def _item_evidence(service: Service, item_id: str, user_id: str | None, question: str | None, k: int) -> list[Evidence]:
    explainer = service.explainer
    store = explainer.index.store
    if user_id is not None:
        return list(explainer.retriever.for_pair(user_id, item_id, question=question or None, k=k))
    if store.product(item_id) is None:
        raise UnknownIdError(f"unknown item {item_id!r}")
    rowids = sorted(store.item_unit_rowids(item_id))[:k]
    units = store.units_by_rowid(rowids)
    return [Evidence(**units[r].model_dump(), score=0.0, rank=n) for n, r in enumerate(rowids, start=1)]
