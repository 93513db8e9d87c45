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

_CACHE_KIB = 64 * 1024
"""SQLite page cache while inserting: the primary-key index takes the stream ids in
random order, and a small cache writes its pages out again and again."""


class BulkInsert(ABC):
    """Batches of rows going into one store in one transaction; positions once committed."""

    def __init__(self) -> None:
        """Start with nothing added."""
        self.count = 0
        self.positions: list[int] = []
        """The positions the rows were given, in order (known once the block ended)."""

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
        self._requested: list[int] = []

    def add(self, rows: list[Row]) -> None:
        if rows and rows[0][0] <= (self._requested[-1] if self._requested else self.before):
            raise PersistenceError(
                f"position {rows[0][0]} is not after position "
                f"{self._requested[-1] if self._requested else self.before} in the store"
            )
        self.cursor.executemany(self.statement, rows)
        self._requested.extend(row[0] for row in rows)
        self.count += len(rows)

    def check_positions(self) -> None:
        """Prove every row is stored at the position it was given, and nothing else was added."""
        statement = f"SELECT COUNT(*), MAX(rowid) FROM {self.table} WHERE rowid>?"
        self.cursor.execute(statement, (self.before,))
        count, last = self.cursor.fetchone()
        if count != self.count or (count and last != self._requested[-1]):
            raise PersistenceError(
                f"the store holds {count} events up to position {last} after the import, "
                f"not the {self.count} up to position {self._requested[-1]} it was given"
            )
        self.positions = self._requested


class _HeldBulkInsert(BulkInsert):
    def __init__(self) -> None:
        super().__init__()
        self.stored: list[StoredEvent] = []

    def add(self, rows: list[Row]) -> None:
        self.stored.extend(
            StoredEvent(originator_id=UUID(hex=stream), originator_version=v, topic=t, state=state)
            for _, stream, v, t, state in rows
        )
        self.count += len(rows)


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
    held = _HeldBulkInsert()
    yield held
    if held.stored:
        held.positions = list(recorder.insert_events(held.stored) or [])


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
