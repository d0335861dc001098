"""The HTTP API and the web chat page.

One model serves every request: the endpoints that run the pipeline take one lock, so llama.cpp, the SQLite store
and chat sessions are never used by two requests at once (on a CPU box the model is the bottleneck anyway; a
process per core group behind a balancer is the way to scale). Errors are JSON `{"error": {"code", "message"}}`
with no stack trace or path; unknown ids are 404, bad bodies 422, big bodies 413, a missing or wrong token 401.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException

from whyrec import __version__
from whyrec.agent.chat import KEPT_TURNS, Chat, ChatSession
from whyrec.agent.explain import Explainer
from whyrec.agent.intents import MAX_MESSAGE_CHARS
from whyrec.auditing import Auditor, AuditRequest
from whyrec.errors import (
    ModelError,
    ServiceBusy,
    StorageError,
    TimeoutExceeded,
    UnknownIdError,
    WhyrecError,
)
from whyrec.feedback import Feedback, FeedbackStore
from whyrec.llm.deadline import deadline
from whyrec.schema import Audit, ChatAnswer, Evidence, Explanation, Preferences
from whyrec.service.guards import BodyLimit, RateLimit, SecurityHeaders
from whyrec.service.sessions import SessionStore

log = logging.getLogger("whyrec.service")

STATIC = resources.files("whyrec.service") / "static"
ID = Field(min_length=1, max_length=200)
SSE_DESCRIPTION = (
    'Server-sent events: `stage` ({"stage": "retrieve"|"generate"|"check"|"repair"}) as each stage starts, '
    '`claim` ({"text", "cites"}) as soon as the checker accepts a claim the answer will hold, '
    'then one `answer` (a ChatAnswer) or one `error` ({"code", "message"}).'
)
# The log has the path and the cause; the answer has neither.
MODEL_UNAVAILABLE = "the model is not available; see the server log"
STORAGE_UNAVAILABLE = "a data file of the service is damaged; see the server log"
# Module level: endpoint annotations are resolved against this module's names (postponed annotations).
_BEARER = HTTPBearer(auto_error=False)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExplainBody(_Body):
    user_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Omit for a new shopper: the item's evidence alone."
    )
    item_id: str = ID
    question: str | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)
    k: int | None = Field(default=None, ge=1, le=100)


class ChatBody(_Body):
    """Start a session with `user_id` and `item_id`, then continue it with `session_id`. Giving another `item_id`
    with a session moves the conversation to that item."""

    # The schema says it too, so that clients (and schemathesis) know a body needs one or the other.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["session_id"], "properties": {"session_id": {"type": "string"}}},
                {
                    "required": ["user_id", "item_id"],
                    "properties": {"user_id": {"type": "string"}, "item_id": {"type": "string"}},
                },
            ]
        },
    )

    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    session_id: str | None = Field(default=None, min_length=1, max_length=200)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    item_id: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _session_or_pair(self) -> ChatBody:
        if self.session_id is None:
            self.pair()
        return self

    def pair(self) -> tuple[str, str]:
        if self.user_id is None or self.item_id is None:
            raise ValueError("a new chat needs user_id and item_id (or give a session_id)")
        return self.user_id, self.item_id


class FeedbackReceipt(BaseModel):
    id: int
    preferences: Preferences | None = Field(default=None, description="The session's preferences after this feedback.")


class ItemRef(BaseModel):
    item_id: str
    title: str
    rating: float | None = None


class UserView(BaseModel):
    user_id: str
    history: list[ItemRef] = Field(description="Items the user bought or reviewed, latest first.")
    aspects: list[str] = Field(description="What the user wrote about most in their reviews.")
    items: list[ItemRef] = Field(description="Other items to ask about, closest to what the user writes about first.")


class UserList(BaseModel):
    users: list[str]
    total: int


class SessionView(BaseModel):
    session_id: str
    user_id: str
    item_id: str
    turns: int
    preferences: Preferences
    transcript: list[dict[str, str]]


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    ready: bool
    index: str
    composer: str
    model: str
    sessions: int


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


@dataclass
class Service:
    """The wired parts the API serves: built by factory.make_service."""

    chat: Chat
    auditor: Auditor
    feedback: FeedbackStore
    sessions: SessionStore
    # () -> (ready, what): whether the model file is in place, without loading it
    model_ready: Callable[[], tuple[bool, str]] | None = None
    # seconds a request may wait for the model and use it (503 if it stays busy, 504 past it); None: no limit
    request_timeout: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def explainer(self) -> Explainer:
        return self.chat.explainer

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the model (and the store and sessions) for one request, within the request timeout."""
        started = time.monotonic()
        if not self.lock.acquire(timeout=-1 if self.request_timeout is None else self.request_timeout):
            raise ServiceBusy(f"the model stayed busy for {self.request_timeout:g} s; try again")
        try:
            with deadline(self.request_timeout, since=started):
                yield
        finally:
            self.lock.release()


def _error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "A body that cannot be decoded (not UTF-8)",
        401: "Missing or wrong bearer token",
        404: "Unknown user, item or session",
        413: "Request body too large",
        422: "Malformed request",
        429: "Rate limited",
        503: "The model stayed busy past the request timeout or is not available, or a data file is damaged",
        504: "The request ran past its timeout",
    }.items()
}


def create_app(service: Service, token: str | None = None, max_body_bytes: int = 65536, rate_limit: int = 120) -> Any:
    """The FastAPI app around `service`. With `token`, every /v1 endpoint needs `Authorization: Bearer <token>`."""
    app = FastAPI(
        title="whyrec",
        version=__version__,
        description="Explain recommendations with cited evidence; audit any system's reasons; chat about them.",
        responses=_RESPONSES,
    )
    expected = token.encode() if token else None

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        if expected is None:
            return
        given = credentials.credentials.encode() if credentials is not None else b""
        if not secrets.compare_digest(given, expected):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorised)] if expected else []  # no token: the schema declares no security

    @app.exception_handler(UnknownIdError)
    async def unknown(_: Request, exc: UnknownIdError) -> JSONResponse:
        return _error(404, "not_found", str(exc))

    @app.exception_handler(ModelError)
    async def model_error(_: Request, exc: ModelError) -> JSONResponse:
        log.error("model error: %s", exc)
        return _error(503, "model_unavailable", MODEL_UNAVAILABLE)

    @app.exception_handler(StorageError)
    async def storage_error(_: Request, exc: StorageError) -> JSONResponse:
        log.error("storage error: %s", exc)
        return _error(503, "storage_unavailable", STORAGE_UNAVAILABLE)

    @app.exception_handler(ServiceBusy)
    async def busy(_: Request, exc: ServiceBusy) -> JSONResponse:
        return _error(503, "busy", str(exc), headers={"Retry-After": "1"})

    @app.exception_handler(TimeoutExceeded)
    async def timed_out(_: Request, exc: TimeoutExceeded) -> JSONResponse:
        log.warning("request timed out: %s", exc)
        return _error(504, "timeout", str(exc))

    @app.exception_handler(WhyrecError)
    async def bad_request(_: Request, exc: WhyrecError) -> JSONResponse:
        return _error(422, "invalid_request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problem: dict[str, Any] = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        if problem.get("type") == "json_invalid":  # loc is ("body", character offset)
            offset = problem["loc"][-1]
            detail = (problem.get("ctx") or {"error": "JSON decode error"})["error"]
            return _error(422, "invalid_request", f"body: not JSON ({detail}, at character {offset})")
        where = ".".join(str(p) for p in problem["loc"])
        return _error(422, "invalid_request", f"{where}: {problem['msg']}" if where else str(problem["msg"]))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        codes = {
            400: "bad_request",
            401: "unauthorized",
            404: "not_found",
            405: "method_not_allowed",
            413: "body_too_large",
        }
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def crashed(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _error(500, "internal_error", "internal error; see the server log")

    @app.get("/healthz", tags=["service"])
    def healthz() -> Health:
        """The process is up."""
        return Health(status="ok", version=__version__)

    @app.get("/readyz", tags=["service"], responses={503: {"model": Readiness, "description": "Not ready"}})
    def readyz() -> JSONResponse:
        """Index open and model file in place (the model itself loads on the first request that needs it)."""
        manifest = service.explainer.index.manifest
        ready, model = service.model_ready() if service.model_ready else (True, "none")
        body = Readiness(
            ready=ready,
            index=f"{manifest.count} units, {manifest.embedder}",
            composer=service.explainer.composer.name,
            model=model,
            sessions=len(service.sessions),
        )
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @app.post("/v1/explain", tags=["explain"], dependencies=guarded)
    def explain(body: ExplainBody) -> Explanation:
        """A checked, cited reason for recommending `item_id` to `user_id` (to any shopper, without one)."""
        with service.turn():
            result: Explanation = service.explainer.explain(body.user_id, body.item_id, body.question, body.k)
            return result

    @app.post("/v1/audit", tags=["audit"], dependencies=guarded)
    def audit(body: AuditRequest) -> Audit:
        """The checker's verdict on each claim of a reason written by any system."""
        with service.turn():
            return service.auditor.audit(body)

    def session_for(body: ChatBody) -> ChatSession:
        """The body's session (moved to its item_id if it names another), or a new one; call under the lock."""
        if body.session_id is None:
            session = service.chat.start(*body.pair())  # with what the user said in earlier feedback
            service.sessions.add(session)
            return session
        session = service.sessions.get(body.session_id)
        if body.user_id is not None and body.user_id != session.user_id:
            raise WhyrecError("a session belongs to one user: start a new session for another user")
        if body.item_id is not None and body.item_id != session.item_id:
            service.chat.switch(session, body.item_id)
        return session

    @app.post("/v1/chat", tags=["chat"], dependencies=guarded)
    def chat(body: ChatBody) -> ChatAnswer:
        """One chat turn. The first turn names `user_id` and `item_id`; later turns give the `session_id` back."""
        with service.turn():
            return service.chat.ask(session_for(body), body.message)

    @app.post(
        "/v1/chat/stream",
        tags=["chat"],
        dependencies=guarded,
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": SSE_DESCRIPTION}},
    )
    def chat_stream(body: ChatBody) -> StreamingResponse:
        """The same chat turn as server-sent events: `stage` as each stage starts, `claim` as each checked claim is
        ready, then `answer` (or `error`)."""
        with service.turn():  # a bad session or id is still a plain 404/422, before the stream starts
            session = session_for(body)
        events: queue.Queue[tuple[str, Any] | None] = queue.Queue()

        def work() -> None:
            try:
                with service.turn():
                    answer = service.chat.ask(
                        session,
                        body.message,
                        progress=lambda stage: events.put(("stage", stage)),
                        on_claim=lambda claim, verdict: events.put(
                            ("claim", {"text": claim.text, "cites": claim.cites})
                        ),
                    )
                events.put(("answer", answer.model_dump(mode="json")))
            except ModelError as exc:
                log.error("model error: %s", exc)
                events.put(("error", {"code": "model_unavailable", "message": MODEL_UNAVAILABLE}))
            except StorageError as exc:
                log.error("storage error: %s", exc)
                events.put(("error", {"code": "storage_unavailable", "message": STORAGE_UNAVAILABLE}))
            except WhyrecError as exc:
                code = {ServiceBusy: "busy", TimeoutExceeded: "timeout"}.get(type(exc), "invalid_request")
                events.put(("error", {"code": code, "message": str(exc)}))
            except Exception:
                log.exception("unhandled error in a chat stream")
                events.put(("error", {"code": "internal_error", "message": "internal error; see the server log"}))
            finally:
                events.put(None)

        def stream() -> Iterator[str]:
            while (event := events.get()) is not None:
                name, data = event
                yield f"event: {name}\ndata: {json.dumps(data if name != 'stage' else {'stage': data})}\n\n"

        threading.Thread(target=work, name="whyrec-chat-stream", daemon=True).start()
        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.get("/v1/sessions/{session_id}", tags=["chat"], dependencies=guarded)
    def session_view(session_id: str) -> SessionView:
        """A chat session's state and (bounded) transcript."""
        with service.turn():
            session = service.sessions.get(session_id)
            return SessionView(
                session_id=session.id,
                user_id=session.user_id,
                item_id=session.item_id,
                turns=session.turns,
                preferences=session.preferences,
                transcript=session.transcript(),
            )

    @app.post("/v1/feedback", tags=["feedback"], dependencies=guarded, status_code=201)
    def feedback(body: Feedback) -> FeedbackReceipt:
        """Store a thumb and/or text about a reason. Text on a session ("I don't care about price") also updates
        that session's preferences, used from its next answer on."""
        with service.turn():
            service.explainer.retriever.check_pair(body.user_id, body.item_id)
            preferences = explanation = None
            if body.session_id is not None:
                session = service.sessions.get(body.session_id)
                if body.turn is not None:  # the reason as whyrec gave it, not the client's copy
                    explanation = session.explanation_at(body.turn, body.item_id)
                    if explanation is None:
                        raise UnknownIdError(
                            f"turn {body.turn} of session {body.session_id} explained no item {body.item_id!r} "
                            f"(the last {KEPT_TURNS} turns are kept)"
                        )
                if body.text:
                    service.chat.note(session, body.text)
                preferences = session.preferences
            return FeedbackReceipt(id=service.feedback.record(body, explanation), preferences=preferences)

    @app.get("/v1/users", tags=["catalogue"], dependencies=guarded)
    def users(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> UserList:
        """Users with the longest histories first."""
        store = service.explainer.index.store
        with service.turn():
            return UserList(users=[u for u, _ in store.users_by_activity(limit)], total=store.count_users())

    @app.get("/v1/users/{user_id}", tags=["catalogue"], dependencies=guarded)
    def user(user_id: str, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> UserView:
        """A user's history, what they write about, and items to ask about."""
        with service.turn():
            return _user_view(service, user_id, limit)

    @app.get("/v1/items/{item_id}/evidence", tags=["catalogue"], dependencies=guarded)
    def item_evidence(
        item_id: str,
        user_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        question: Annotated[str | None, Query(max_length=MAX_MESSAGE_CHARS)] = None,
        k: Annotated[int, Query(ge=1, le=100)] = 12,
    ) -> list[Evidence]:
        """Evidence for the item: for `user_id`, what a reason for that user would rest on; else its own units."""
        with service.turn():
            return _item_evidence(service, item_id, user_id, question, k)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    guarded_app: Any = SecurityHeaders(RateLimit(BodyLimit(app, max_body_bytes), rate_limit))
    guarded_app.fastapi = app
    return guarded_app


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
