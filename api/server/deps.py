"""What routes share: the Client, reading as of a moment, paging, write permission."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, HTTPException, Query, Request

from lineagelog.api.cli.common import MAX_COUNT
from lineagelog.api.client import Client
from lineagelog.projections.jsonable import json_ready

if TYPE_CHECKING:
    from lineagelog.api.server.security import Access

__all__ = [
    "MAX_PAGE",
    "AsOf",
    "Limit",
    "Offset",
    "Reader",
    "Writer",
    "client_of",
    "page",
    "reader",
    "reading",
    "writer",
]

MAX_PAGE = 1000
"""The most items one page holds."""

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_COUNT, description="items to skip")]
AsOf = Annotated[
    str | None,
    Query(description="read as the log stood then: a log position (42) or an ISO time"),
]


def client_of(request: Request) -> Client:
    """The server's Client (reading now)."""
    client: Client = request.app.state.client
    return client


def reader(request: Request, as_of: AsOf = None) -> Client:
    """The Client to answer with: now, or as of the ``as_of`` parameter."""
    return reading(client_of(request), as_of)


def reading(client: Client, as_of: str | None) -> Client:
    """``client`` now, or as of ``as_of`` (a log position or an ISO time, as typed)."""
    from lineagelog.api.cli.session import parse_as_of

    moment = parse_as_of(as_of, "as_of")
    return client if moment is None else client.as_of(moment)


def writer(request: Request) -> Client:
    """The Client, for a change; refused (403) unless the server allows writes."""
    access: Access = request.app.state.access
    if not access.allow_writes:
        raise HTTPException(
            403,
            "this server is read-only; restart it with `lineagelog serve --allow-writes` "
            "to tag, untag or delete artifact versions",
        )
    return client_of(request)


Reader = Annotated[Client, Depends(reader)]
Writer = Annotated[Client, Depends(writer)]


def page(items: list[Any], offset: int, limit: int, more: bool) -> dict[str, Any]:
    """A page of ``items`` (at most ``limit``) starting at ``offset``."""
    return {
        "items": json_ready(items[:limit]),
        "offset": offset,
        "limit": limit,
        "next_offset": offset + limit if more else None,
    }
