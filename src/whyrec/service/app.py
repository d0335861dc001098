"""The HTTP API and the web chat page.

One model serves every request: the endpoints that run the pipeline take one lock (`core.Service.turn`), so
llama.cpp, the SQLite store and chat sessions are never used by two requests at once (on a CPU box the model is the
bottleneck anyway; a process per core group behind a balancer is the way to scale). The endpoints are one router per
area (`routes/`); errors are answered from one table (`errors.py`) as JSON `{"error": {"code", "message"}}` with no
stack trace or path; request and response bodies are in `models.py`.
"""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from whyrec import __version__
from whyrec.service import errors
from whyrec.service.core import Service
from whyrec.service.guards import BodyLimit, RateLimit, SecurityHeaders
from whyrec.service.routes import catalogue, chat, explain, feedback, health

__all__ = ["Service", "create_app"]

STATIC = resources.files("whyrec.service") / "static"
# Module level: endpoint annotations are resolved against this module's names (postponed annotations).
_BEARER = HTTPBearer(auto_error=False)


def create_app(service: Service, token: str | None = None, max_body_bytes: int = 65536, rate_limit: int = 120) -> Any:
    """The FastAPI app around `service`. With `token`, every /v1 endpoint needs `Authorization: Bearer <token>`."""
    app = FastAPI(
        title="whyrec",
        version=__version__,
        description="Explain recommendations with cited evidence; audit any system's reasons; chat about them.",
        responses=errors.RESPONSES,
    )
    expected = token.encode() if token else None

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        if expected is None:
            return
        given = credentials.credentials.encode() if credentials is not None else b""
        if not secrets.compare_digest(given, expected):
            raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorised)] if expected else []  # no token: the schema declares no security
    errors.install(app)
    app.include_router(health.router(service, STATIC))
    for area in (explain, chat, feedback, catalogue):
        app.include_router(area.router(service, guarded))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    guarded_app: Any = SecurityHeaders(RateLimit(BodyLimit(app, max_body_bytes), rate_limit))
    guarded_app.fastapi = app
    return guarded_app
