"""``POST /api/v1/lineage``: the OpenLineage endpoint, as Marquez serves it.

A FastAPI ``APIRouter`` for ``lineagelog serve`` to mount. One RunEvent per
request: 201 when it is recorded (or was already), 400 with a message naming
the failing field when the specification refuses it (nothing is recorded), 413
when the body is larger than the endpoint's limit (read no further).
The body is kept verbatim in the log.

Other tools post here once per event, many times a second, so the route is a
bare ASGI one (``starlette.routing.Route``): it reads the raw body and answers,
without FastAPI's dependency solving and exit stacks around it, which cost
about a tenth of a request. FastAPI documents only its own routes, so the same
endpoint is registered a second time as an ``APIRoute``, after the bare one:
that one lists it on ``/docs`` and ``/openapi.json``, and a request never
reaches it (routes match in order; the bare route takes every POST).

Needs the ``server`` extra (FastAPI) and the ``openlineage`` extra (jsonschema).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from lineagelog.adapters.openlineage.ingest import append_at_once, append_received, receive_event
from lineagelog.api.context import LineageContext, open_context
from lineagelog.domain.errors import InvalidOpenLineageEventError

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

__all__ = ["LINEAGE_PATH", "MAX_EVENT_BYTES", "ContextOf", "LineageEndpoint", "openlineage_router"]

LINEAGE_PATH = "/api/v1/lineage"
"""Where OpenLineage clients post RunEvents (the HTTP transport's default endpoint)."""

MAX_EVENT_BYTES = 16 * 1024 * 1024
"""The largest RunEvent body taken (16 MiB): schema and column-lineage facets of wide
tables run to a few megabytes; a body beyond this is refused before it is all read."""

ContextOf = Callable[[Request], Awaitable[LineageContext]]
"""Gives the stores a request records into, or raises (``HTTPException(403)``) to refuse it."""


async def _configured_context(request: Request) -> LineageContext:
    """The stores of the configuration (``configure`` or the environment)."""
    return await run_in_threadpool(open_context)  # the first call opens them: not on the loop


class LineageEndpoint:
    """The endpoint as an ASGI app: checks, reads the raw body (up to a limit), records it.

    Args:
        context: awaited with each request for the stores to record into (see
            ``openlineage_router``).
        max_bytes: the largest body taken; a larger one is answered 413.
    """

    def __init__(self, context: ContextOf, max_bytes: int = MAX_EVENT_BYTES) -> None:
        self._context = context
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request (ASGI)."""
        response = await self.record(Request(scope, receive, send))
        await response(scope, receive, send)

    async def record(self, request: Request) -> JSONResponse:
        """Record one OpenLineage RunEvent (Marquez's ``POST /api/v1/lineage``).

        The body is one RunEvent as JSON. It is validated against the OpenLineage
        specification (2-0-2) and every standard facet it carries: 201 when it is
        recorded (``duplicate`` when the log held it already), 400 naming the
        failing field otherwise, with nothing recorded.
        """
        target = await self._context(request)
        body = await _read_body(request, self.max_bytes)
        if body is None:
            message = (
                f"the request body is larger than {self.max_bytes:,} bytes, the most this "
                "server takes for one RunEvent; send one event per request, without "
                "oversized facets"
            )
            return JSONResponse({"message": message, "field": ""}, status_code=413)
        try:
            received = receive_event(body)  # validation: CPU only, on the loop
        except InvalidOpenLineageEventError as e:
            return JSONResponse({"message": str(e), "field": e.field}, status_code=400)
        # A new event goes into an embedded log that no one else is writing right here:
        # a hop to a worker thread costs more CPU than the append (two thread wake-ups).
        # Anything that could wait (another writer's lock, a repeat's lookup, a server
        # database) takes the hop, on the loop's own executor (anyio's run_in_threadpool
        # adds a capacity limiter and a cancel scope per call).
        result = append_at_once(target.repository, received, channel="http")
        if result is None:
            append = partial(append_received, target.repository, received, channel="http")
            result = await asyncio.get_running_loop().run_in_executor(None, append)
        return JSONResponse(
            {"accepted": result.accepted, "duplicate": bool(result.duplicates)}, status_code=201
        )


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


_DOCUMENTED = {
    "requestBody": {
        "required": True,
        "description": "One OpenLineage RunEvent (https://openlineage.io/spec/2-0-2/OpenLineage.json)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    "responses": {
        "201": {"description": "Recorded, or already in the log (`duplicate`)."},
        "400": {
            "description": "Not a valid RunEvent: `field` names what is wrong; nothing recorded."
        },
        "413": {"description": "The body is larger than the server takes for one event."},
    },
}


def openlineage_router(context: ContextOf | LineageEndpoint = _configured_context) -> APIRouter:
    """The router of the OpenLineage endpoint.

    ``context`` is awaited with each request for the stores to record into; the
    lineage server's checks that writes are allowed before it gives them (and
    raises ``HTTPException(403)`` otherwise). It runs on the event loop: it must
    not block (the default opens the configured stores in a worker thread).
    An endpoint made already (``LineageEndpoint``) may be given instead.
    """
    recorder = context if isinstance(context, LineageEndpoint) else LineageEndpoint(context)
    router = APIRouter()
    router.routes.append(Route(LINEAGE_PATH, recorder, methods=["POST"]))
    router.add_api_route(  # documents the route above; never reached (see the module's text)
        LINEAGE_PATH,
        recorder.record,
        methods=["POST"],
        status_code=201,
        summary="Record one OpenLineage RunEvent",
        openapi_extra=_DOCUMENTED,
    )
    return router
