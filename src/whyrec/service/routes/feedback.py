"""/v1/feedback."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from whyrec.agent.chat import KEPT_TURNS
from whyrec.agent.preferences import record_feedback
from whyrec.errors import UnknownIdError
from whyrec.feedback import Feedback
from whyrec.service.core import Service
from whyrec.service.models import FeedbackReceipt


def router(service: Service, guarded: list[Any]) -> APIRouter:
    routes = APIRouter(dependencies=guarded)

    @routes.post("/v1/feedback", tags=["feedback"], status_code=201)
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
            number, _ = record_feedback(service.feedback, body, explanation)
            return FeedbackReceipt(id=number, preferences=preferences)

    return routes
