"""``POST /api/v1/lineage``: the OpenLineage endpoint, as Marquez serves it.

A FastAPI ``APIRouter`` for ``lineagelog serve`` to mount. One RunEvent per
request: 201 when it is recorded (or was already), 400 with a message naming
the failing field when the specification refuses it (nothing is recorded).
The body is kept verbatim in the log.

Needs the ``server`` extra (FastAPI) and the ``openlineage`` extra (jsonschema).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from lineagelog.adapters.openlineage.ingest import ingest_event
from lineagelog.api.context import LineageContext, open_context
from lineagelog.domain.errors import InvalidOpenLineageEventError

__all__ = ["openlineage_router"]


def _configured_context() -> LineageContext:
    """The stores of the configuration (``configure`` or the environment)."""
    return open_context()


def openlineage_router(
    context: Callable[..., LineageContext | Awaitable[LineageContext]] = _configured_context,
) -> APIRouter:
    """The router of the OpenLineage endpoint.

    ``context`` is a FastAPI dependency giving the stores to record into; the
    lineage server's checks that writes are allowed before it gives them. The
    route is a coroutine and the validating append its one hop to a worker
    thread (FastAPI runs every plain ``def`` dependency in a thread of its own,
    which cost more than the ingestion itself): make ``context`` a coroutine too.
    """
    router = APIRouter()
    recording_context = Depends(context)

    @router.post("/api/v1/lineage", status_code=201)
    async def lineage(request: Request, target: LineageContext = recording_context) -> JSONResponse:
        """Record one OpenLineage RunEvent (Marquez's ``POST /api/v1/lineage``)."""
        body = await request.body()
        try:
            result = await run_in_threadpool(ingest_event, target.repository, body, channel="http")
        except InvalidOpenLineageEventError as e:
            return JSONResponse({"message": str(e), "field": e.field}, status_code=400)
        return JSONResponse(
            {"accepted": result.accepted, "duplicate": bool(result.duplicates)}, status_code=201
        )

    return router
