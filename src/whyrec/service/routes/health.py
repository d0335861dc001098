"""/healthz, /readyz and the web page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse

from whyrec import __version__
from whyrec.service.core import Service
from whyrec.service.models import Health, Readiness


def router(service: Service, static: Any) -> APIRouter:
    routes = APIRouter()

    @routes.get("/healthz", tags=["service"])
    def healthz() -> Health:
        """The process is up."""
        return Health(status="ok", version=__version__)

    @routes.get("/readyz", tags=["service"], responses={503: {"model": Readiness, "description": "Not ready"}})
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

    @routes.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(static / "index.html"), media_type="text/html")

    return routes
