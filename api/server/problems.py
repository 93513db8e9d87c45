"""Errors as JSON: one message naming the bad value, the right status, never a traceback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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

__all__ = ["Answered", "error_answer", "install_problem_handlers", "problem", "status_of"]

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        return error_answer(e, request.url.path)

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
        return error_answer(e, request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, e: Exception) -> JSONResponse:
        return error_answer(e, request.url.path)


def error_answer(error: Exception, path: str) -> JSONResponse:
    """The JSON error answering a request for ``path`` that raised ``error``.

    A lineagelog error gets its status (``status_of``), an ``HTTPException`` its own,
    anything else 500 with its details in the server's log only.
    """
    if isinstance(error, LineageError):
        return problem(status_of(error), type(error).__name__, str(error))
    if isinstance(error, HTTPException):
        detail = error.detail if isinstance(error.detail, str) else "request refused"
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no route {path!r}; the API is described at /docs"
        return problem(error.status_code, "HTTPError", detail)
    _log.error("unexpected error answering %s", path, exc_info=error)
    return problem(
        500,
        "InternalError",
        f"the server failed answering {path} ({type(error).__name__}); its log has the details",
    )


class Answered:
    """An ASGI app whose errors are answered as ``install_problem_handlers`` answers them.

    For an app served beside FastAPI's stack rather than inside it (the server's
    fast lanes): an error raised before the response started becomes its JSON
    answer; one raised after is raised on (the response cannot be taken back).
    """

    def __init__(self, app: ASGIApp) -> None:
        """Answer ``app``'s errors."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; answer what it raises before it starts its response."""
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as error:
            if started:
                raise
            await error_answer(error, scope["path"])(scope, receive, send)
