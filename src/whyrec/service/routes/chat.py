"""/v1/chat, its server-sent-events twin /v1/chat/stream, and /v1/sessions/{id}."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from whyrec.agent.chat import ChatSession
from whyrec.errors import WhyrecError
from whyrec.schema import ChatAnswer
from whyrec.service.core import Service
from whyrec.service.errors import answer_for
from whyrec.service.models import ChatBody, SessionView

SSE_DESCRIPTION = (
    'Server-sent events: `stage` ({"stage": "retrieve"|"generate"|"check"|"repair"}) as each stage starts, '
    '`claim` ({"text", "cites"}) as soon as the checker accepts a claim the answer will hold, '
    'then one `answer` (a ChatAnswer) or one `error` ({"code", "message"}).'
)


def router(service: Service, guarded: list[Any]) -> APIRouter:
    routes = APIRouter(dependencies=guarded, tags=["chat"])

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

    @routes.post("/v1/chat")
    def chat(body: ChatBody) -> ChatAnswer:
        """One chat turn. The first turn names `user_id` and `item_id`; later turns give the `session_id` back."""
        with service.turn():
            return service.chat.ask(session_for(body), body.message)

    @routes.post(
        "/v1/chat/stream",
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
            except Exception as exc:  # the error table, as a request would have answered it
                failed = answer_for(exc)
                events.put(("error", {"code": failed.code, "message": failed.message}))
            finally:
                events.put(None)

        def stream() -> Iterator[str]:
            while (event := events.get()) is not None:
                name, data = event
                yield f"event: {name}\ndata: {json.dumps(data if name != 'stage' else {'stage': data})}\n\n"

        threading.Thread(target=work, name="whyrec-chat-stream", daemon=True).start()
        return StreamingResponse(stream(), media_type="text/event-stream")

    @routes.get("/v1/sessions/{session_id}")
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

    return routes
