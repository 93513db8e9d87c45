"""``POST /api/v1/lineage``: other tools' OpenLineage RunEvents, recorded in the log.

Recording is a write: the server takes events only when started with
``--allow-writes`` (403 otherwise), and behind its token off loopback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineagelog.api.openlineage_routes import LINEAGE_PATH, LineageEndpoint, openlineage_router
from lineagelog.api.server.deps import writer

if TYPE_CHECKING:
    from fastapi import Request

    from lineagelog.api.context import LineageContext

__all__ = ["LANES", "router"]


async def _recording(request: Request) -> LineageContext:
    """The server's stores, once the server allows writes (a coroutine: no thread hop)."""
    return writer(request).context


endpoint = LineageEndpoint(_recording)
router = openlineage_router(endpoint)
LANES = {("POST", LINEAGE_PATH): endpoint}
"""Served in a fast lane beside FastAPI's stack (``create_app``): tools post here many
times a second; the router above documents the endpoint and serves it under a root path."""
