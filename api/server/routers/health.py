"""``/healthz`` (no credentials needed) and the span of the log."""

from __future__ import annotations

from fastapi import APIRouter, Request

from lineagelog.api.server.deps import client_of
from lineagelog.api.server.models import Health, History

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", response_model=Health, tags=["server"])
def healthz(request: Request) -> dict[str, object]:
    """The server is up; the end of the log it reads."""
    return {"status": "ok", "position": client_of(request).context.events.max_position()}


@router.get("/api/v1/history", response_model=History, tags=["events"])
def history(request: Request) -> dict[str, object]:
    """The log's first and last positions and times: the range of an "as of" control."""
    from lineagelog.api.json_shapes import event_record

    events = client_of(request).context.events
    last = events.max_position()
    first_page = events.read_notifications(0, 1)
    last_page = events.read_notifications(last - 1, 1) if last else []
    first = event_record(first_page[0]) if first_page else None
    final = event_record(last_page[0]) if last_page else None
    return {
        "first_position": first["position"] if first else 0,
        "last_position": last,
        "first_time": _time(first),
        "last_time": _time(final),
    }


def _time(record: dict[str, object] | None) -> object:
    if record is None:
        return None
    payload = record["payload"]
    stamp = payload.get("timestamp") if isinstance(payload, dict) else None
    return None if stamp == "?" else stamp
