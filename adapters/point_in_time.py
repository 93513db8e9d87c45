"""Aggregate state as of a log position: which version of a stream existed then."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["aggregate_as_of", "stream_version_at"]

_PAGE = 10_000


def stream_version_at(events: EventStore, stream_id: UUID, position: int) -> int:
    """Return the highest version of ``stream_id`` recorded at or before ``position`` (0: none).

    SQLite answers with one indexed query; other backends scan the log up to
    ``position``.
    """
    recorder = events.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT MAX(originator_version) FROM {recorder.events_table_name} "
                "WHERE originator_id=? AND rowid<=?",
                (stream_id.hex, position),
            )
            row = c.fetchone()
        return int(row[0] or 0)
    version, after = 0, 0
    while after < position:
        page = events.read_notifications(after, _PAGE, until=position)
        if not page:
            break
        for n in page:
            if n.originator_id == stream_id:
                version = max(version, n.originator_version)
        after = page[-1].id
    return version


def aggregate_as_of(events: EventStore, stream_id: UUID, position: int) -> Any:
    """Rebuild the aggregate from the events of its stream up to ``position`` (None: not yet)."""
    version = stream_version_at(events, stream_id, position)
    if version == 0:
        return None
    return events.get(stream_id, up_to_version=version)
