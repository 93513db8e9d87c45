"""The server's routers, one module per resource; ``ROUTERS`` lists what the app mounts.

Another endpoint (an OpenLineage receiver, a run diff) is one more module with
a ``router`` and one more name here.
"""

from __future__ import annotations

__all__ = ["ROUTERS"]

ROUTERS: tuple[str, ...] = (
    "health",
    "runs",
    "artifacts",
    "lineage",
    "diff",
    "events",
    "openlineage",
    "openlineage_schemas",
)
"""Modules under ``lineagelog.api.server.routers`` whose ``router`` the app includes."""
