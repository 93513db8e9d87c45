"""Writing a long history into an event store, batch by batch, in one transaction.

An import verifies an events file as it reads it. On SQLite each verified batch
goes into the table at once (one ``executemany``), while the next batches are
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

Row = tuple[str, int, str, bytes]
"""An event as the store holds it: (stream id as 32 hex digits, stream version, topic, state)."""

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
    def __init__(self, cursor: Any, statement: str, before: int) -> None:
        super().__init__()
        self.cursor, self.statement, self.before = cursor, statement, before

    def add(self, rows: list[Row]) -> None:
        self.cursor.executemany(self.statement, rows)
        self.count += len(rows)

    def check_positions(self, table: str) -> None:
        """Prove the rows got the positions after the largest one before them, in order.

        SQLite gives a row the position after the largest one in the table; the
        count and the largest position after the insert show that it did.
        """
        statement = f"SELECT COUNT(*), MAX(rowid) FROM {table} WHERE rowid>?"
        self.cursor.execute(statement, (self.before,))
        count, last = self.cursor.fetchone()
        if count != self.count or (count and last != self.before + count):
            raise PersistenceError(
                f"the {self.count} events were given positions {self.before + 1} to {last}, "
                "not consecutive ones"
            )
        self.positions = list(range(self.before + 1, self.before + count + 1))


class _HeldBulkInsert(BulkInsert):
    def __init__(self) -> None:
        super().__init__()
        self.stored: list[StoredEvent] = []

    def add(self, rows: list[Row]) -> None:
        self.stored.extend(
            StoredEvent(originator_id=UUID(hex=stream), originator_version=v, topic=t, state=state)
            for stream, v, t, state in rows
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
            batches = _SQLiteBulkInsert(
                cursor, recorder.insert_events_statement, cursor.fetchone()[0] or 0
            )
            yield batches
            batches.check_positions(table)
        finally:
            cursor.execute(f"PRAGMA cache_size={int(cache_size)}")
