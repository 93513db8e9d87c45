"""``POST /api/v1/lineage``: other tools' OpenLineage RunEvents, recorded in the log.

Recording is a write: the server takes events only when started with
``--allow-writes`` (403 otherwise), and behind its token off loopback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineagelog.api.openlineage_routes import openlineage_router
from lineagelog.api.server.deps import writer

if TYPE_CHECKING:
    from fastapi import Request

    from lineagelog.api.context import LineageContext

__all__ = ["router"]


async def _recording(request: Request) -> LineageContext:
    """The server's stores, once the server allows writes (a coroutine: no thread hop)."""
    return writer(request).context


router = openlineage_router(_recording)
