"""The log's history as OpenLineage RunEvents: JSON Lines export, and the events to send.

``run_events`` walks the log from its start (the mapper needs what came before,
for example the artifact versions a later step reads) and yields the RunEvents
of the events after ``since``, with the position of the event each stands for.
``export_openlineage`` writes them one per line, deterministically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from lineagelog.adapters.openlineage.mapping import DEFAULT_NAMESPACE, RunEventMapper
from lineagelog.adapters.openlineage.rows import RowDecoder
from lineagelog.domain.topics import EVENT_CLASSES

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["OpenLineageExport", "export_openlineage", "run_event_lines", "run_events"]

_PAGE = 5000


@dataclass(frozen=True)
class OpenLineageExport:
    """What an OpenLineage export wrote: ``count`` RunEvents up to log position ``until``."""

    count: int
    until: int
    seconds: float


def run_events(
    events: EventStore,
    *,
    since: int = 0,
    until: int | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    schema_base: str | None = None,
    locate: Callable[[str], str] = str,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(position, RunEvent) for every RunEvent of the events in ``(since, until]``.

    The RunEvents of ``run_event_lines``, parsed (for transports that take a dict).

    Raises:
        StorageError: the database could not be read, or an event not decoded.

    """
    for position, line in run_event_lines(
        events,
        since=since,
        until=until,
        namespace=namespace,
        schema_base=schema_base,
        locate=locate,
    ):
        yield position, json.loads(line)


def run_event_lines(
    events: EventStore,
    *,
    since: int = 0,
    until: int | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    schema_base: str | None = None,
    locate: Callable[[str], str] = str,
) -> Iterator[tuple[int, str]]:
    """(position, RunEvent as a JSON line) for every RunEvent of the events in ``(since, until]``.

    ``schema_base``: where lineagelog's facet schemas are served (``RunEventMapper``);
    ``locate`` gives the full URL of a recorded artifact URI (see ``RunEventMapper``).

    Raises:
        StorageError: the database could not be read, or an event not decoded.

    """
    mapper = RunEventMapper(namespace, schema_base=schema_base, locate=locate)
    for page in _line_pages(events, mapper, since, until):
        yield from page


def _line_pages(
    events: EventStore, mapper: RunEventMapper, since: int, until: int | None
) -> Iterator[list[tuple[int, str]]]:
    """The (position, line) pairs of ``run_event_lines``, a page of the log at a time."""
    decoder = RowDecoder(events)
    lines = mapper.lines
    last = events.max_position() if until is None else until
    after = 0
    # Events the mapper ignores (VersionRegistered, a quarter of a log...) are not even read.
    skipped = [t for t in EVENT_CLASSES if not mapper.handles(events.event_name(t))]
    handled: dict[str, bool] = {}
    while after < last:
        rows = events.read_rows(after, _PAGE, last, skip_topics=skipped)
        if not rows:
            return
        wanted = []
        for row in rows:  # a topic no lineagelog event has is refused here (event_name)
            topic = row[3]
            if topic not in handled:
                handled[topic] = mapper.handles(events.event_name(topic))
            if handled[topic]:
                wanted.append(row)
        page: list[tuple[int, str]] = []
        for position, event in decoder.decode(wanted):
            mapped = lines(event)
            if mapped and position > since:
                page.extend([(position, line) for line in mapped])
        yield page
        after = rows[-1][0]


def export_openlineage(
    events: EventStore,
    out: IO[str],
    *,
    since: int = 0,
    namespace: str = DEFAULT_NAMESPACE,
    schema_base: str | None = None,
    locate: Callable[[str], str] = str,
) -> OpenLineageExport:
    """Write the RunEvents of the events after ``since`` to ``out``, one JSON object per line.

    The same log gives the same bytes: times are the events' own, keys sorted.

    Raises:
        StorageError: the database could not be read.

    """
    started = time.perf_counter()
    until = events.max_position()
    mapper = RunEventMapper(namespace, schema_base=schema_base, locate=locate)
    count = 0
    for page in _line_pages(events, mapper, since, until):  # one write per page of the log
        if page:
            out.write("\n".join([line for _, line in page]) + "\n")
            count += len(page)
    return OpenLineageExport(count, until, time.perf_counter() - started)
