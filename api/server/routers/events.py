"""The log itself: events after a position, and a live stream of new ones (SSE)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from lineagelog.adapters.raw_events import topic_type
from lineagelog.api.cli.common import MAX_POSITION
from lineagelog.api.json_shapes import event_record
from lineagelog.api.server.deps import Limit, client_of, page
from lineagelog.api.server.models import Event, Page

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["events"])

After = Annotated[int, Query(ge=0, le=MAX_POSITION, description="only events after this position")]

POLL_S = 0.5
"""How often the stream looks for new events."""

KEEPALIVE_S = 15.0
"""How often an idle stream sends a comment, so proxies keep it open."""


@router.get("/events", response_model=Page[Event])
def list_events(request: Request, after: After = 0, limit: Limit = 100) -> dict[str, Any]:
    """Events of the log after position ``after``, oldest first (``offset`` is ``after``)."""
    notifications = client_of(request).context.events.read_notifications(after, limit + 1)
    records = [event_record(n) for n in notifications]
    more = len(records) > limit
    result = page(records, after, limit, more)
    result["next_offset"] = records[limit - 1]["position"] if more else None
    return result


@router.get("/events/stream", response_class=StreamingResponse)
async def stream_events(
    request: Request,
    after: After | None = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """New events as server-sent events (``id`` is the position, ``event`` the type).

    Starts after ``after``, after the ``Last-Event-ID`` a reconnecting browser
    sends, or at the end of the log.
    """
    events = client_of(request).context.events
    if after is None and last_event_id is not None and last_event_id.isdigit():
        after = min(int(last_event_id), MAX_POSITION)
    start = after if after is not None else await run_in_threadpool(events.max_position)
    stopping: asyncio.Event = request.app.state.stopping

    async def send() -> AsyncIterator[str]:
        position = start
        idle = 0.0
        yield f"retry: 2000\n: from position {position}\n\n"
        while not stopping.is_set() and not await request.is_disconnected():
            batch = await run_in_threadpool(events.read_notifications, position, 100)
            for n in batch:
                record = event_record(n)
                kind = topic_type(n.topic)
                data = json.dumps(record, ensure_ascii=False, default=str)
                yield f"id: {n.id}\nevent: {kind}\ndata: {data}\n\n"
                position = n.id
            if batch:
                idle = 0.0
                continue
            idle += POLL_S
            if idle >= KEEPALIVE_S:
                idle = 0.0
                yield ": keep-alive\n\n"
            with contextlib.suppress(TimeoutError):  # no stop within the poll interval
                await asyncio.wait_for(stopping.wait(), POLL_S)

    return StreamingResponse(
        send(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
