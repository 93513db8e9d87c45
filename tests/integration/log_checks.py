"""Checks over a whole lineage database, and log writers, shared by integration tests."""

from __future__ import annotations

from lineagelog.adapters.event_store import EventStore
from lineagelog.api.context import LineageContext
from lineagelog.domain.names import artifact_name_id
from lineagelog.domain.run import PipelineRun


def registered_versions(context: LineageContext, name: str) -> list[int]:
    """The version numbers recorded in the name's stream, in stream order."""
    events = context.events.stream_events(artifact_name_id(name))
    return [e.version for e in events if type(e).__name__ == "VersionRegistered"]


def event_counts(context: LineageContext) -> dict[str, int]:
    """How many events of each type the log holds."""
    counts: dict[str, int] = {}
    for recorded in context.events.iter_all():
        kind = type(recorded.event).__name__
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def append_runs(database_url: str, count: int) -> int:
    """Append ``count`` started runs to the log (not projected); return the last position."""
    store = EventStore(database_url)
    try:
        last = 0
        for i in range(count):
            run = PipelineRun.start(
                pipeline="appended", run_name=f"r{i}", parameters={}, dag={}, environment={}
            )
            last = store.save(run)[-1]
        return last
    finally:
        store.close()
