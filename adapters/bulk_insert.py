"""Writing a long history into an event store, batch by batch, in one transaction.

An import verifies an events file as it reads it. On SQLite each verified batch
goes into the table at once (one ``executemany``), every event at its original
position (gaps in the source's numbering are kept), while the next batches are
still being hashed, inside a single transaction that commits only when the
block ends without error: an error anywhere rolls every batch back. Other
stores get the batches from their recorder, all at once, at the end.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["BulkInsert", "Row", "bulk_insert"]

Row = tuple[int, str, int, str, bytes]
"""An event as the store holds it: (position, stream id as 32 hex digits, stream
version, topic, state)."""

_CACHE_KIB = 32 * 1024
"""SQLite page cache while inserting: the primary-key index takes the stream ids in
random order, and a small cache writes its pages out again and again. 64 MiB took an
import of 396k events to 212 MiB at its peak (32 MiB: 181 MiB) and was no faster."""


class BulkInsert(ABC):
    """Batches of rows going into one store in one transaction.

    Only counts are kept of what went in, not the rows or their positions: an
    import of any length holds one batch at a time.
    """

    def __init__(self) -> None:
        """Start with nothing added."""
        self.count = 0
        self.last_position = 0
        """The position the store gave the last row (known once the block ended)."""
        self.renumbered = False
        """Whether the store gave any row another position than the row's own."""

    @abstractmethod
    def add(self, rows: list[Row]) -> None:
        """Insert (or hold) a batch of rows, after the ones added before."""


class _SQLiteBulkInsert(BulkInsert):
    """Rows inserted at their own positions (the table's rowid), gaps included."""

    def __init__(self, cursor: Any, table: str, before: int) -> None:
        super().__init__()
        self.cursor, self.table, self.before = cursor, table, before
        self.statement = (
            f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)"
        )
        self._requested = before

    def add(self, rows: list[Row]) -> None:
        if rows and rows[0][0] <= self._requested:
            raise PersistenceError(
                f"position {rows[0][0]} is not after position {self._requested} in the store"
            )
        self.cursor.executemany(self.statement, rows)
        if rows:
            self._requested = rows[-1][0]
        self.count += len(rows)

    def check_positions(self) -> None:
        """Prove every row is stored at the position it was given, and nothing else was added.

        Each batch starts after the one before and the rowid is unique, so the
        rows of a batch ascend only if they are all stored at their own
        positions: the count and the last position prove it.
        """
        statement = f"SELECT COUNT(*), MAX(rowid) FROM {self.table} WHERE rowid>?"
        self.cursor.execute(statement, (self.before,))
        count, last = self.cursor.fetchone()
        if count != self.count or (count and last != self._requested):
            raise PersistenceError(
                f"the store holds {count} events up to position {last} after the import, "
                f"not the {self.count} up to position {self._requested} it was given"
            )
        self.last_position = last or 0


class _PostgresBulkInsert(BulkInsert):
    """Rows copied into the table a batch at a time (``COPY``), numbered by its sequence.

    The table is locked (``EXCLUSIVE``, as every append locks it) for the whole
    import, so the positions the sequence gives are consecutive; a log whose own
    positions are not (or do not start where the sequence is) is renumbered.
    """

    def __init__(self, cursor: Any, table: str) -> None:
        super().__init__()
        self.cursor, self.table = cursor, table
        self._before = self._one(f"SELECT COALESCE(MAX(notification_id), 0) FROM {table}")
        self._first: int | None = None
        self._requested = 0
        self._consecutive = True

    def add(self, rows: list[Row]) -> None:
        if not rows:
            return
        if self._first is None:  # the run of consecutive positions starts at the first row
            self._first, self._requested = rows[0][0], rows[0][0] - 1
        statement = (
            f"COPY {self.table} (originator_id, originator_version, topic, state) FROM STDIN"
        )
        with self.cursor.copy(statement) as copy:
            previous = self._requested
            for position, stream, version, topic, state in rows:
                if position != previous + 1:
                    self._consecutive = False
                previous = position
                copy.write_row((UUID(hex=stream), version, topic, state))
        self._requested = rows[-1][0]
        self.count += len(rows)

    def finish(self) -> None:
        """Note the positions the table gave the rows: consecutive, after what it held before."""
        after = f"FROM {self.table} WHERE notification_id > {int(self._before)}"
        first = self._one(f"SELECT MIN(notification_id) {after}")
        self.last_position = self._one(f"SELECT MAX(notification_id) {after}") or self._before
        self.renumbered = bool(self.count) and not (self._consecutive and first == self._first)

    def _one(self, statement: str) -> Any:
        """The single value ``statement`` selects (rows may come as dicts or tuples)."""
        self.cursor.execute(statement)
        row = self.cursor.fetchone()
        return next(iter(row.values())) if isinstance(row, dict) else row[0]


class _HeldBulkInsert(BulkInsert):
    """Rows held until the block ends, then given to the recorder at once (memory, MariaDB)."""

    def __init__(self) -> None:
        super().__init__()
        self.stored: list[StoredEvent] = []
        self.requested: list[int] = []

    def add(self, rows: list[Row]) -> None:
        self.stored.extend(
            StoredEvent(originator_id=UUID(hex=stream), originator_version=v, topic=t, state=state)
            for _, stream, v, t, state in rows
        )
        self.requested.extend(row[0] for row in rows)
        self.count += len(rows)

    def insert(self, recorder: Any) -> None:
        """Give every held row to ``recorder`` in one call; note the positions it gave."""
        given = list(recorder.insert_events(self.stored) or [])
        if given:
            self.last_position = given[-1]
            self.renumbered = given != self.requested


@contextmanager
def bulk_insert(events: EventStore) -> Iterator[BulkInsert]:
    """Insert batches of rows into ``events``; commit when the block ends without error.

    Raises:
        PersistenceError: the database refused the rows (nothing was written).

    """
    recorder = events.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        with _sqlite_bulk_insert(recorder) as batches:
            yield batches
        return
    if events.location.backend == "postgresql":
        with _postgres_bulk_insert(recorder) as copies:
            yield copies
        return
    held = _HeldBulkInsert()
    yield held
    if held.stored:
        held.insert(recorder)


@contextmanager
def _sqlite_bulk_insert(recorder: SQLiteApplicationRecorder) -> Iterator[_SQLiteBulkInsert]:
    table = recorder.events_table_name
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        try:
            cursor.execute(f"SELECT MAX(rowid) FROM {table}")
            batches = _SQLiteBulkInsert(cursor, table, cursor.fetchone()[0] or 0)
            yield batches
            batches.check_positions()
        finally:
            cursor.execute(f"PRAGMA cache_size={int(cache_size)}")


@contextmanager
def _postgres_bulk_insert(recorder: Any) -> Iterator[_PostgresBulkInsert]:
    """One transaction that locks the table as an append does, copies the rows, and notifies."""
    from psycopg.sql import SQL, Identifier

    datastore = recorder.datastore
    table = SQL("{}.{}").format(
        Identifier(datastore.schema), Identifier(recorder.events_table_name)
    )
    with datastore.transaction(commit=True) as cursor:
        name = table.as_string(cursor)
        cursor.execute(f"SET LOCAL lock_timeout = '{int(datastore.lock_timeout)}s'")
        cursor.execute(f"LOCK TABLE {name} IN EXCLUSIVE MODE")
        copies = _PostgresBulkInsert(cursor, name)
        yield copies
        copies.finish()
        cursor.execute(SQL("NOTIFY {}").format(Identifier(recorder.channel_name)))
