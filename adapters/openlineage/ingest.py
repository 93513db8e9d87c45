"""Take OpenLineage RunEvents in: validate, then append them as ``OpenLineageEvent.Received``.

One function per way in: ``ingest_event`` for one event (the HTTP endpoint,
as Marquez takes one event per ``POST /api/v1/lineage``) and ``ingest_lines``
for a file of JSON lines (what the openlineage-python file transport writes).
Both validate everything before appending anything, so a bad event appends
nothing, and both append an event only once: the same event received again
finds its stream (whose id is derived from its content) and is skipped. One
event is appended without looking first: the stream's unique key refuses a
repeat, and only then is the stream looked up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.openlineage.validation import check_run_event
from lineagelog.domain.errors import ConcurrencyConflict, InvalidOpenLineageEventError
from lineagelog.domain.openlineage import OpenLineageEvent, received_event_id

if TYPE_CHECKING:
    from lineagelog.adapters.repository import AggregateRepository, Changes

__all__ = ["IngestResult", "ingest_event", "ingest_lines", "parse_event"]


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
    document = text.decode("utf-8") if isinstance(text, bytes) else text
    return _append(repository, [(document, parse_event(document))], channel)


def ingest_lines(
    repository: AggregateRepository, lines: Iterable[str], *, channel: str = "file"
) -> IngestResult:
    """Validate every RunEvent of a JSON Lines text, then append the new ones in one append.

    Blank lines are skipped. One bad line refuses the whole file, naming the line.

    Raises:
        InvalidOpenLineageEventError: a line is not a valid RunEvent; nothing was appended.
        StorageError: the database failed.

    """
    parsed: list[tuple[str, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        document = line.rstrip("\r\n")
        if document.strip():
            parsed.append((document, parse_event(document, f"line {number}")))
    return _append(repository, parsed, channel)


def _append(
    repository: AggregateRepository, parsed: list[tuple[str, dict[str, Any]]], channel: str
) -> IngestResult:
    saved: list[int] = []
    if len(parsed) == 1:  # one event (HTTP): no lookup first, the stream's key refuses a repeat
        document, event = parsed[0]
        stream = received_event_id(event)

        def receive_new(changes: Changes) -> int:
            changes.add(OpenLineageEvent.receive(document, event, channel=channel, stream=stream))
            return 1

        try:
            repository.change_together(
                receive_new, attempts=1, on_saved=saved.extend, what="record the OpenLineage event"
            )
        except ConcurrencyConflict:
            pass  # its stream has an event already: the lookup below decides (a duplicate)
        else:
            return IngestResult(1, 0, tuple(saved))

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
