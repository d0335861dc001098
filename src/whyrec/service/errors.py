"""The one table from errors to HTTP answers: a JSON body `{"error": {"code", "message"}}` and a status, with no
stack trace or path (the server log has those). The request handlers and the chat stream's `error` event both read
it, so an error says the same thing whichever way it reaches the client."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from whyrec.errors import ModelError, ServiceBusy, StorageError, TimeoutExceeded, UnknownIdError, WhyrecError

log = logging.getLogger("whyrec.service")

# The log has the path and the cause; the answer has neither.
MODEL_UNAVAILABLE = "the model is not available; see the server log"
STORAGE_UNAVAILABLE = "a data file of the service is damaged; see the server log"
INTERNAL = "internal error; see the server log"


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


@dataclass(frozen=True)
class Answer:
    status: int
    code: str
    message: str
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Rule:
    """How one error class is answered. `message`: a fixed text instead of the error's own (which may name paths);
    `log`: the level at which the server logs it (None: not logged)."""

    kind: type[Exception]
    status: int
    code: str
    message: str | None = None
    log: int | None = None
    headers: Mapping[str, str] | None = None


# First match wins: subclasses before WhyrecError.
TABLE: tuple[Rule, ...] = (
    Rule(UnknownIdError, 404, "not_found"),
    Rule(ModelError, 503, "model_unavailable", MODEL_UNAVAILABLE, logging.ERROR),
    Rule(StorageError, 503, "storage_unavailable", STORAGE_UNAVAILABLE, logging.ERROR),
    Rule(ServiceBusy, 503, "busy", headers={"Retry-After": "1"}),
    Rule(TimeoutExceeded, 504, "timeout", log=logging.WARNING),
    Rule(WhyrecError, 422, "invalid_request"),
)
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}

# What the OpenAPI schema says each status means.
RESPONSES: dict[int | str, dict[str, Any]] = {
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


def answer_for(exc: Exception) -> Answer:
    """The answer to `exc` (logged as its rule says); anything the table does not know is a 500."""
    for rule in TABLE:
        if isinstance(exc, rule.kind):
            if rule.log is not None:
                log.log(rule.log, "%s: %s", rule.code.replace("_", " "), exc)
            return Answer(rule.status, rule.code, rule.message or str(exc), rule.headers)
    log.error("unhandled error", exc_info=exc)
    return Answer(500, "internal_error", INTERNAL)


def response(answer: Answer) -> JSONResponse:
    body = {"error": {"code": answer.code, "message": answer.message}}
    return JSONResponse(body, status_code=answer.status, headers=answer.headers)


def _validation(exc: RequestValidationError) -> Answer:
    problem: dict[str, Any] = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    if problem.get("type") == "json_invalid":  # loc is ("body", character offset)
        offset = problem["loc"][-1]
        detail = (problem.get("ctx") or {"error": "JSON decode error"})["error"]
        return Answer(422, "invalid_request", f"body: not JSON ({detail}, at character {offset})")
    where = ".".join(str(p) for p in problem["loc"])
    return Answer(422, "invalid_request", f"{where}: {problem['msg']}" if where else str(problem["msg"]))


def install(app: FastAPI) -> None:
    """Answer every error through the table: whyrec's, FastAPI's validation, Starlette's HTTP ones, the rest."""

    async def by_table(_: Request, exc: Exception) -> JSONResponse:
        return response(answer_for(exc))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return response(_validation(exc))

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return response(Answer(exc.status_code, code, str(exc.detail), exc.headers))

    for rule in TABLE:
        app.add_exception_handler(rule.kind, by_table)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, by_table)
