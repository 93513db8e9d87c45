"""Take OpenLineage RunEvents in: validate, then append them as ``OpenLineageEvent.Received``.

One function per way in: ``ingest_event`` for one event (the HTTP endpoint,
as Marquez takes one event per ``POST /api/v1/lineage``) and ``ingest_lines``
for a file of JSON lines (what the openlineage-python file transport writes).
Both validate everything before appending anything, so a bad event appends
nothing, and both append an event only once: the same event received again
finds its stream (whose id is derived from its content) and is skipped. One
event is appended without looking first: the stream's unique key refuses a
repeat, and only then is the stream looked up.

A caller that must not block (the server's event loop) splits ``ingest_event``:
``receive_event`` validates, ``append_at_once`` appends a new event if the log
can be written without waiting, and otherwise ``append_received``, run where it
may wait, does the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.event_store import LogBusy
from lineagelog.adapters.openlineage.validation import check_run_event
from lineagelog.domain.errors import ConcurrencyConflict, InvalidOpenLineageEventError
from lineagelog.domain.openlineage import OpenLineageEvent, received_event_id

if TYPE_CHECKING:
    from lineagelog.adapters.repository import AggregateRepository, Changes

__all__ = [
    "IngestResult",
    "Received",
    "append_at_once",
    "append_received",
    "ingest_event",
    "ingest_lines",
    "parse_event",
    "receive_event",
]

Received = tuple[str, dict[str, Any]]
"""One RunEvent as received (its text, kept verbatim) and as parsed and validated."""


@dataclass(frozen=True)
class IngestResult:
    """What an ingestion appended: ``accepted`` events new to the log, ``duplicates`` skipped."""

    accepted: int
    duplicates: int
    positions: tuple[int, ...]


def parse_event(text: str | bytes, where: str = "the event") -> dict[str, Any]:
    """Parse and validate one RunEvent given as JSON text.

    Raises:
        InvalidOpenLineageEventError: not JSON, or not a valid RunEvent (naming the field).

    """
    try:
        parsed = json.loads(text)
    except ValueError as e:
        raise InvalidOpenLineageEventError(
            f"{where} is not JSON ({e}); send one OpenLineage RunEvent as a JSON object",
            field="",
        ) from None
    try:
        check_run_event(parsed)
    except InvalidOpenLineageEventError as e:
        raise InvalidOpenLineageEventError(
            str(e) if where == "the event" else f"{where}: {e}", field=e.field
        ) from None
    return parsed  # type: ignore[no-any-return]  # check_run_event made sure it is an object


def ingest_event(
    repository: AggregateRepository, text: str | bytes, *, channel: str = "http"
) -> IngestResult:
    """Validate one RunEvent and append it, unless the log already holds it.

    Raises:
        InvalidOpenLineageEventError: the event is invalid; nothing was appended.
        StorageError: the database failed.

    """
    return append_received(repository, receive_event(text), channel=channel)


def receive_event(text: str | bytes) -> Received:
    """One RunEvent's text, validated: what ``append_at_once`` and ``append_received`` take.

    Raises:
        InvalidOpenLineageEventError: not JSON, or not a valid RunEvent (naming the field).

    """
    document = text.decode("utf-8") if isinstance(text, bytes) else text
    return document, parse_event(document)


def append_received(
    repository: AggregateRepository, received: Received, *, channel: str = "http"
) -> IngestResult:
    """Append one validated RunEvent, unless the log already holds it (it may wait for the log).

    Raises:
        StorageError: the database failed.

    """
    return _append(repository, [received], channel)


def append_at_once(
    repository: AggregateRepository, received: Received, *, channel: str = "http"
) -> IngestResult | None:
    """Append one validated RunEvent new to the log, if that needs no wait; else None.

    None, with nothing appended, when another writer holds the log or the log
    is not an embedded SQLite one (``EventStore.at_once``), and when the event's
    stream exists already (a repeat, which ``append_received`` confirms with a
    lookup): the caller then calls ``append_received`` where it may wait.

    Raises:
        StorageError: the database failed.

    """
    try:
        with repository.events.at_once():
            return _append_new(repository, received, channel)
    except (LogBusy, ConcurrencyConflict):
        return None


def _append_new(repository: AggregateRepository, received: Received, channel: str) -> IngestResult:
    """Append one event as new, without a lookup: ``ConcurrencyConflict`` if its stream exists."""
    document, event = received
    stream = received_event_id(event)
    saved: list[int] = []

    def receive_new(changes: Changes) -> int:
        changes.add(OpenLineageEvent.receive(document, event, channel=channel, stream=stream))
        return 1

    repository.change_together(
        receive_new, attempts=1, on_saved=saved.extend, what="record the OpenLineage event"
    )
    return IngestResult(1, 0, tuple(saved))


def ingest_lines(
    repository: AggregateRepository, lines: Iterable[str], *, channel: str = "file"
) -> IngestResult:
    """Validate every RunEvent of a JSON Lines text, then append the new ones in one append.

    Blank lines are skipped. One bad line refuses the whole file, naming the line.

    Raises:
        InvalidOpenLineageEventError: a line is not a valid RunEvent; nothing was appended.
        StorageError: the database failed.

    """
    parsed: list[Received] = []
    for number, line in enumerate(lines, start=1):
        document = line.rstrip("\r\n")
        if document.strip():
            parsed.append((document, parse_event(document, f"line {number}")))
    return _append(repository, parsed, channel)


def _append(repository: AggregateRepository, parsed: list[Received], channel: str) -> IngestResult:
    if len(parsed) == 1:  # one event (HTTP): no lookup first, the stream's key refuses a repeat
        try:
            return _append_new(repository, parsed[0], channel)
        except ConcurrencyConflict:
            pass  # its stream has an event already: the lookup below decides (a duplicate)
    saved: list[int] = []

    def receive(changes: Changes) -> int:
        new = 0
        for document, event in parsed:
            stream = received_event_id(event)
            if changes.find(stream, OpenLineageEvent) is None:
                changes.add(
                    OpenLineageEvent.receive(document, event, channel=channel, stream=stream)
                )
                new += 1
        return new

    accepted = repository.change_together(
        receive, on_saved=saved.extend, what="record the OpenLineage events"
    )
    return IngestResult(accepted, len(parsed) - accepted, tuple(saved))
