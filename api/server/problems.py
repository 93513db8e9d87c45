"""Errors as JSON: one message naming the bad value, the right status, never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from lineagelog.domain.errors import (
    AmbiguousReferenceError,
    LineageError,
    NotFoundError,
    StorageError,
)

__all__ = ["install_problem_handlers", "problem", "status_of"]

_log = logging.getLogger("lineagelog.server")


def status_of(error: LineageError) -> int:
    """The HTTP status of a lineagelog error: 404 unknown, 400 bad value, 503 storage."""
    if isinstance(error, AmbiguousReferenceError):
        return 400
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, StorageError):
        return 503
    return 400


def problem(status: int, error: str, message: str, parameter: str | None = None) -> JSONResponse:
    """A JSON error response (the ``Problem`` model)."""
    body = {"error": error, "message": message, "parameter": parameter}
    return JSONResponse(body, status_code=status)


def install_problem_handlers(app: FastAPI) -> None:
    """Turn lineagelog errors, bad parameters and anything unexpected into JSON errors."""

    @app.exception_handler(LineageError)
    async def _lineage_error(request: Request, e: LineageError) -> JSONResponse:
        return problem(status_of(e), type(e).__name__, str(e))

    @app.exception_handler(RequestValidationError)
    async def _bad_parameter(request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path")]
        name = ".".join(location) or None
        given = first.get("input")
        shown = "" if isinstance(given, (dict, list)) or given is None else f" {given!r}"
        message = f"parameter {name!r}{shown}: {first.get('msg', 'is not valid')}"
        return problem(400, "InvalidParameter", message, name)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, e: HTTPException) -> JSONResponse:
        detail = e.detail if isinstance(e.detail, str) else "request refused"
        if e.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.url.path!r}; the API is described at /docs"
        return problem(e.status_code, "HTTPError", detail)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, e: Exception) -> JSONResponse:
        _log.exception("unexpected error answering %s", request.url.path)
        return problem(
            500,
            "InternalError",
            f"the server failed answering {request.url.path} ({type(e).__name__}); "
            "its log has the details",
        )
