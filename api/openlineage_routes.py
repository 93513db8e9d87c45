"""``POST /api/v1/lineage``: the OpenLineage endpoint, as Marquez serves it.

A FastAPI ``APIRouter`` for ``lineagelog serve`` to mount. One RunEvent per
request: 201 when it is recorded (or was already), 400 with a message naming
the failing field when the specification refuses it (nothing is recorded).
The body is kept verbatim in the log.

Needs the ``server`` extra (FastAPI) and the ``openlineage`` extra (jsonschema).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from lineagelog.adapters.openlineage.ingest import ingest_event
from lineagelog.api.context import LineageContext, open_context
from lineagelog.domain.errors import InvalidOpenLineageEventError

__all__ = ["openlineage_router"]


async def _body(request: Request) -> bytes:
    return await request.body()


_raw_body = Depends(_body)


def _configured_context() -> LineageContext:
    """The stores of the configuration (``configure`` or the environment)."""
    return open_context()


def openlineage_router(
    context: Callable[..., LineageContext] = _configured_context,
) -> APIRouter:
    """The router of the OpenLineage endpoint.

    ``context`` is a FastAPI dependency giving the stores to record into; the
    lineage server's checks that writes are allowed before it gives them.
    """
    router = APIRouter()
    recording_context = Depends(context)

    @router.post("/api/v1/lineage", status_code=201)
    def lineage(
        body: bytes = _raw_body, target: LineageContext = recording_context
    ) -> JSONResponse:
        """Record one OpenLineage RunEvent (Marquez's ``POST /api/v1/lineage``)."""
        try:
            result = ingest_event(target.repository, body, channel="http")
        except InvalidOpenLineageEventError as e:
            return JSONResponse({"message": str(e), "field": e.field}, status_code=400)
        return JSONResponse(
            {"accepted": result.accepted, "duplicate": bool(result.duplicates)}, status_code=201
        )

    return router
