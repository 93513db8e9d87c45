"""Event export and import: the log as JSON Lines, version 1.

The format (``lineagelog-events``, version 1), one JSON object per line:

1. a header::

     {"format": "lineagelog-events", "version": 1, "since": 0, "until": 1234,
      "exported_at": "2024-05-01T12:00:00+00:00"}

   ``since`` and ``until`` bound the positions exported: ``(since, until]``.

2. one line per event, in log order::

     {"position": 17, "timestamp": "2024-05-01T11:59:58.123456+00:00",
      "stream_id": "5b6c...-...", "stream_version": 3,
      "type": "lineagelog.domain.step_run:StepRun.ArtifactWritten",
      "previous_hash": "ab12...", "hash": "cd34...", "payload": {...}}

   ``type`` is the event's topic (module, colon, class). ``payload`` is the
   stored state exactly as the event store holds it: a JSON object whose UUIDs
   and datetimes are tagged ``{"_type_": "uuid_hex", "_data_": "<32 hex>"}`` and
   ``{"_type_": "datetime_iso", "_data_": "<ISO 8601>"}``. ``hash`` is the
   event's hash (``lineagelog.domain.base.event_hash``), ``previous_hash`` the
   one it chains to.

3. a footer::

     {"end": "lineagelog-events", "count": 1234, "last_position": 1234,
      "digest": "<running seal digest over the exported events>"}

   A file without its footer was cut short.

Import takes a whole export (``since`` 0) into an empty store. It checks the
whole file (every line parses, every hash and chain and seal verifies, the
footer matches) and inserts every event, with its original stored bytes and
topic, in one transaction that commits only when all of it verified: it writes
all or nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError

from lineagelog.adapters.audit import KEEP_SEALS, LogChecker
from lineagelog.adapters.bulk_insert import BulkInsert, Row, bulk_insert
from lineagelog.adapters.hash_pool import HashedRange, hashed_ranges, parallel_map
from lineagelog.adapters.raw_events import RawEvent, decode_state, hash_content, topic_type
from lineagelog.adapters.stored_events import (
    UndecodableEvent,
    check_topic,
    dashed_uuid,
    encode_row,
    parse_stream_id,
)
from lineagelog.domain.errors import ExportFormatError, IntegrityError, StorageError
from lineagelog.domain.seal import SEAL_GENESIS

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "POSITION_LIMIT",
    "ExportFormatError",
    "ExportResult",
    "ImportResult",
    "export_events",
    "export_line",
    "import_events",
]

EXPORT_FORMAT = "lineagelog-events"
EXPORT_VERSION = 1
_PAGE = 5000
_RANGE = 2000
"""Positions rendered as one piece of work (a few of them, as text, are in memory at once)."""
_PAYLOAD = ',"payload":'
_dump = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""Compact JSON, UTF-8 as is (``json.dumps`` with these options builds an encoder per call)."""


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    count: int
    since: int
    last_position: int
    digest: str
    seconds: float


@dataclass(frozen=True)
class ImportResult:
    """What an import inserted; ``renumbered`` when the target gave other positions.

    SQLite keeps every event's original position; other stores number the events
    themselves, so an export whose positions had gaps (a PostgreSQL sequence
    skips the numbers of rolled-back transactions) comes back renumbered there,
    and the audit then names the seals whose positions moved.
    """

    count: int
    last_position: int
    digest: str
    renumbered: bool
    seconds: float


def export_line(raw: RawEvent, state: bytes) -> str:
    """One event's line of the export (the payload is the stored bytes, verbatim)."""
    return (
        f'{{"position":{raw.position},"timestamp":{_dump(raw.content.get("timestamp"))},'
        f'"stream_id":"{dashed_uuid(raw.stream_id)}","stream_version":{raw.version},'
        f'"type":{_dump(raw.topic)},"previous_hash":{_dump(raw.content.get("previous_hash"))},'
        f'"hash":"{raw.hash}"{_PAYLOAD}{state.decode("utf-8")}}}\n'
    )


def export_events(
    events: EventStore, out: IO[str], *, since: int = 0, workers: int | None = None
) -> ExportResult:
    """Write every event after position ``since`` to ``out`` in the format above.

    ``workers`` processes hash a large log (default: one per core).

    Raises:
        StorageError: the database could not be read.
        IntegrityError: a stored payload no longer decodes (run ``lineagelog audit``).

    """
    started = time.perf_counter()
    until = events.max_position()
    header = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "since": since,
        "until": until,
        "exported_at": datetime.now(UTC).isoformat(),
    }
    out.write(_dump(header) + "\n")
    running = bytes.fromhex(SEAL_GENESIS)
    count, last = 0, since
    ranges = hashed_ranges(events, since, until, render=export_line, workers=workers, span=_RANGE)
    for hashed in ranges:
        bad = hashed.first_undecodable()
        if bad is not None:
            (position, stream, *_), _, error = bad
            raise IntegrityError(
                f"cannot export the event at position {position} (stream {stream}): {error}; "
                "run `lineagelog audit` to see what is damaged"
            )
        running = hashed.digest_from(running)
        out.write(hashed.text)
        count += len(hashed.events)
        if hashed.events:
            last = hashed.events[-1][0]
    footer = {"end": EXPORT_FORMAT, "count": count, "last_position": last, "digest": running.hex()}
    out.write(_dump(footer) + "\n")
    return ExportResult(count, since, last, running.hex(), time.perf_counter() - started)


def _bad(number: int, what: str) -> ExportFormatError:
    return ExportFormatError(f"line {number} of the events file {what}; nothing was imported")


def _parse_header(line: str) -> dict[str, Any]:
    if line.startswith("\ufeff"):
        raise ExportFormatError(
            "the events file starts with a byte-order mark (U+FEFF), which some editors add "
            "when they save; nothing was imported: save the file again as UTF-8 without a "
            "byte-order mark, or export it anew with `lineagelog events export -o events.jsonl`"
        )
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise ExportFormatError(
            f"the events file does not start with a {EXPORT_FORMAT!r} header; "
            "export one with `lineagelog events export -o events.jsonl`"
        )
    if header.get("version") != EXPORT_VERSION:
        raise ExportFormatError(
            f"the events file is format version {header.get('version')!r}, this lineagelog reads "
            f"version {EXPORT_VERSION}; export it again with a matching lineagelog"
        )
    if header.get("since", 0) != 0:
        raise ExportFormatError(
            f"the events file holds only the events after position {header.get('since')}; "
            "import needs a whole history: export without --since"
        )
    return header


def _parse_event(number: int, line: str) -> tuple[dict[str, Any], bytes]:
    head, sep, rest = line.partition(_PAYLOAD)
    try:
        if sep and rest.endswith("}"):
            meta = json.loads(head + "}")
            state = rest[:-1].encode("utf-8")
        else:  # written by another tool: take the payload apart and encode it as stored
            meta = json.loads(line)
            state = _dump(meta["payload"]).encode("utf-8")
    except (ValueError, KeyError, TypeError) as e:
        raise _bad(
            number, f"is not a whole JSON event ({e}); the file is truncated or corrupt"
        ) from None
    for key, kind in (
        ("position", int),
        ("stream_id", str),
        ("stream_version", int),
        ("type", str),
    ):
        if not isinstance(meta.get(key), kind):
            raise _bad(number, f"has no valid {key!r}")
    if not 1 <= meta["position"] <= POSITION_LIMIT or isinstance(meta["position"], bool):
        raise _bad(
            number,
            f"has position {meta['position']!r}; positions are whole numbers from 1 to 2**53 "
            f"({POSITION_LIMIT}): the file was forged or damaged, export it again",
        )
    return meta, state


POSITION_LIMIT = 2**53
"""The largest position an events file may hold.

A database stores up to 2**63 - 1, but a log that reached it could not grow:
SQLite then numbers the next event at random, below the others, and its order
is lost. 2**53 leaves room for more events than any log will hold, and is
exact in every JSON reader (those that read numbers as doubles too).
"""


_LINES_PER_CHUNK = 2000
"""Event lines parsed and hashed as one piece of work (a few of them are in memory at once)."""


class _EventLines:
    """The event lines of an events file, read a chunk at a time, and then its footer."""

    def __init__(self, source: IO[str]) -> None:
        self.source = source
        self.footer: dict[str, Any] | None = None
        self.number = 1
        """The number of the last line read (the header is line 1)."""
        self.count = 0
        """Event lines read so far."""

    def chunks(self) -> Iterator[list[tuple[int, str]]]:
        """The event lines, numbered from 2, ``_LINES_PER_CHUNK`` at a time."""
        chunk: list[tuple[int, str]] = []
        for number, line in enumerate(self.source, start=2):
            self.number = number
            text = line.rstrip("\n")
            if self.footer is not None:
                if text.strip():
                    raise _bad(number, "follows the footer")
                continue
            if text.startswith('{"end"'):
                self.footer = _parse_footer(number, text)
                continue
            chunk.append((number, text))
            self.count += 1
            if len(chunk) == _LINES_PER_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


@dataclass
class _ParsedLines:
    """Event lines parsed and verified: their hashes for the checker, their rows for the store."""

    first_line: int
    hashed: HashedRange = field(default_factory=HashedRange)
    rows: list[Row] = field(default_factory=list)


def _parse_chunk(chunk: list[tuple[int, str]]) -> _ParsedLines:
    """Parse and hash event lines (in a worker process for a large file)."""
    parsed = _ParsedLines(chunk[0][0] if chunk else 0)
    for number, text in chunk:
        meta, state = _parse_event(number, text)
        position, version, topic = meta["position"], meta["stream_version"], meta["type"]
        try:
            stream = parse_stream_id(meta["stream_id"])
            check_topic(topic)
            content = decode_state(state)
        except (ValueError, UndecodableEvent) as e:
            raise _bad(number, f"has an unreadable event: {e}") from None
        event_hash = parsed.hashed.add(position, stream, version, topic, content, KEEP_SEALS)
        if meta.get("hash") is not None and event_hash != meta["hash"]:
            if _hashed_the_old_way(stream, version, topic, state, meta["hash"]):
                raise ExportFormatError(
                    f"line {number} of the events file (position {position}) carries an event "
                    "hash of an older lineagelog, which left the module of the event's type out "
                    "of the hash: this lineagelog cannot verify that history. Import it with the "
                    "lineagelog release that exported it; nothing was imported"
                )
            raise _bad(
                number, f"(position {position}) does not hash to its recorded hash: it was modified"
            )
        # Stored compact, as the event store writes (encoded here: in the worker for a large file).
        parsed.rows.append((position, stream, version, *encode_row(topic, state)))
    return parsed


def _hashed_the_old_way(stream: str, version: int, topic: str, state: bytes, recorded: str) -> bool:
    """Whether ``recorded`` is the event's hash in format 1 (``__type__`` without the module)."""
    old = hash_content(stream, version, topic_type(topic), decode_state(state), in_place=True)
    return old == recorded


def import_events(
    events: EventStore, source: IO[str], *, workers: int | None = None
) -> ImportResult:
    """Insert every event of an export into the empty store ``events``; all or nothing.

    The file is read, verified and inserted a few thousand lines at a time, so
    memory does not grow with its length; the inserts commit together at the
    end, once the whole file verified (an interrupted import leaves the store
    as it was). ``workers`` processes parse and hash a large file (default: one
    per core).

    Raises:
        ExportFormatError: the file is of another format or version, partial,
            truncated or corrupt (the message names the line).
        IntegrityError: the file parses but its history does not verify.
        StorageError: the target store is not empty, or the database failed.

    """
    started = time.perf_counter()
    if events.max_position() != 0:
        raise StorageError(
            f"the target event store already holds {events.max_position()} event position(s); "
            "import only into an empty store (a new database URL)"
        )
    _parse_header(source.readline())
    lines = _EventLines(source)
    try:
        with bulk_insert(events) as store:
            checker, seen = _verify(lines.chunks(), store, workers)
            _check_footer(lines.footer, lines.number, seen, checker.running.hex())
            if checker.problems:
                listed = "; ".join(p.message for p in checker.problems[:5])
                raise IntegrityError(
                    f"the events file's history does not verify ({len(checker.problems)} "
                    f"problem(s)): {listed}; nothing was imported"
                )
    except PersistenceError as e:
        raise StorageError(
            f"could not import the {lines.count} events read: {e}; nothing was imported"
        ) from e
    return ImportResult(
        count=seen.count,
        last_position=store.last_position,
        digest=checker.running.hex(),
        renumbered=store.renumbered,
        seconds=time.perf_counter() - started,
    )


@dataclass
class _Positions:
    """How many events were read, and the last one's position: each must be after the one before."""

    count: int = 0
    last: int = 0

    def extend(self, parsed: _ParsedLines) -> None:
        """Take the chunk's positions, refusing one not after the one before (naming its line)."""
        last = self.last
        for offset, event in enumerate(parsed.hashed.events):
            if event[0] <= last:
                number = parsed.first_line + offset
                raise _bad(number, f"has position {event[0]}, not after {last}")
            last = event[0]
        self.count += len(parsed.hashed.events)
        self.last = last


def _verify(
    chunks: Iterator[list[tuple[int, str]]], store: BulkInsert, workers: int | None
) -> tuple[LogChecker, _Positions]:
    """Parse, hash and check the event lines; return the checker and the positions read.

    Each chunk goes to ``store`` once checked, as long as the history verifies
    so far (when it does not, the import fails and nothing is written).
    """
    checker = LogChecker()
    seen = _Positions()
    for parsed in parallel_map(_parse_chunk, chunks, workers=workers):
        seen.extend(parsed)
        checker.accept_range(parsed.hashed)
        if not checker.problems:
            store.add(parsed.rows)
        checker.seals()  # checks the seals read so far, and forgets what no later seal needs
    checker.seals(final=True)
    return checker, seen


def _parse_footer(number: int, text: str) -> dict[str, Any]:
    try:
        footer = json.loads(text)
    except ValueError:
        raise _bad(number, "is a damaged footer; the file is truncated or corrupt") from None
    if not isinstance(footer, dict) or footer.get("end") != EXPORT_FORMAT:
        raise _bad(number, "is not a lineagelog-events footer")
    return footer


def _check_footer(
    footer: dict[str, Any] | None, number: int, seen: _Positions, digest: str
) -> None:
    if footer is None:
        raise ExportFormatError(
            f"the events file ends at line {number} without its footer: it was cut short; "
            "export it again; nothing was imported"
        )
    count = seen.count
    if footer.get("count") != count or footer.get("digest") != digest:
        raise ExportFormatError(
            f"the events file's footer says {footer.get('count')} events with digest "
            f"{str(footer.get('digest'))[:16]}..., but the file holds {count} events with digest "
            f"{digest[:16]}...: lines were removed, added or reordered; nothing was imported"
        )
    if count and footer.get("last_position") != seen.last:
        raise ExportFormatError(
            f"the events file's footer says the last position is {footer.get('last_position')} "
            f"but its last event is at {seen.last}; nothing was imported"
        )
