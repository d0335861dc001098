"""/v1/explain and /v1/audit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from whyrec.auditing import AuditRequest
from whyrec.schema import Audit, Explanation
from whyrec.service.core import Service
from whyrec.service.models import ExplainBody


def router(service: Service, guarded: list[Any]) -> APIRouter:
    routes = APIRouter(dependencies=guarded)

    @routes.post("/v1/explain", tags=["explain"])
    def explain(body: ExplainBody) -> Explanation:
        """A checked, cited reason for recommending `item_id` to `user_id` (to any shopper, without one)."""
        with service.turn():
            result: Explanation = service.explainer.explain(body.user_id, body.item_id, body.question, body.k)
            return result

    @routes.post("/v1/audit", tags=["audit"])
    def audit(body: AuditRequest) -> Audit:
        """The checker's verdict on each claim of a reason written by any system."""
        with service.turn():
            return service.auditor.audit(body)

    return routes
