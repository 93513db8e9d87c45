"""The server's routers, one module per resource; ``ROUTERS`` lists what the app mounts.

Another endpoint (an OpenLineage receiver, a run diff) is one more module with
a ``router`` and one more name here.
"""

from __future__ import annotations

__all__ = ["ROUTERS"]

ROUTERS: tuple[str, ...] = (
    "openlineage",
    "health",
    "runs",
    "artifacts",
    "lineage",
    "diff",
    "events",
    "openlineage_schemas",
)
"""Modules under ``lineagelog.api.server.routers`` whose ``router`` the app includes.

Routes match in this order; ``POST /api/v1/lineage`` comes first because other
tools post to it once per event, many times a second, and matching the path
against every route before it cost a fifth of a request.
"""
