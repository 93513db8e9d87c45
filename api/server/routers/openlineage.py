"""``POST /api/v1/lineage``: other tools' OpenLineage RunEvents, recorded in the log.

Recording is a write: the server takes events only when started with
``--allow-writes`` (403 otherwise), and behind its token off loopback.
"""

from __future__ import annotations

from fastapi import Depends

from lineagelog.api.client import Client
from lineagelog.api.context import LineageContext
from lineagelog.api.openlineage_routes import openlineage_router
from lineagelog.api.server.deps import writer

__all__ = ["router"]

_writer = Depends(writer)


def _recording(client: Client = _writer) -> LineageContext:
    """The server's stores, once the server allows writes."""
    return client.context


router = openlineage_router(_recording)
