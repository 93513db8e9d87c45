"""Rebuilding views while pipelines keep writing: load copies of the tables, then switch.

An offline rebuild (``Projector.rebuild``) empties the views and holds the write
lock while it loads them, so every writer waits for it. An online rebuild:

1. creates a copy of each table of the views beside it (``<name>__next``), keyed
   and indexed like the live one. Index names are per database and cannot be
   renamed, so a copy's indexes take whichever of two spellings (``name`` or
   ``name__next``) the live table does not use;
2. reads and decodes a page of the log holding no lock, then applies it to the
   copies in a short write transaction that also records how far the copies are
   (the ``online_rebuild`` row of ``schema_info``). Pages grow or shrink so that a
   transaction holds the write lock about ``LOCK_BUDGET_S``;
3. once the copies are within a quarter of a page of the log's end, in one
   transaction: applies the last events, renames the live tables away (``__old``)
   and the copies into their place, and moves the views' tracking to the copies'
   position;
4. empties the old tables in short transactions and drops them (SQLite frees a
   dropped table's pages in the dropping transaction).

Until the switch, queries read the live views, which catch-up keeps current.
A rebuild killed before the switch leaves the live views as they were; the next
online rebuild of the same views resumes the copies where they stopped (another
set of views, or another layout, starts them again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    Table,
    delete,
    inspect,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement

from lineagelog.domain.errors import StorageError
from lineagelog.projections import schema as t
from lineagelog.projections.batch import PageBatch
from lineagelog.projections.bulk_load import cyclic_gc_paused
from lineagelog.projections.dispatch import apply_events, dispatch_of
from lineagelog.projections.faults import checkpoint
from lineagelog.projections.ports import WRITE_OPTION, BulkWrites, EventLog, RecordedEvent

__all__ = ["LOCK_BUDGET_S", "ONLINE_REBUILD_KEY", "rebuild_online"]

ONLINE_REBUILD_KEY = "online_rebuild"
"""``schema_info`` row present while copies are loaded: ``layout:views@position``."""

LOCK_BUDGET_S = 0.05
"""How long one of the online rebuild's transactions aims to hold the write lock."""

TURN_S = 0.06
"""How long the write lock is left free between two of the online rebuild's transactions.

A SQLite writer that finds the lock taken sleeps and tries again (SQLite's busy
handler): 1, 2, 5, 10... ms later, never more than 50 ms apart during its first
228 ms of waiting. A free gap longer than 50 ms after each transaction of at most
``LOCK_BUDGET_S`` (or a few times that) cannot be slept through, so a writer waits
about one of the rebuild's transactions, not a run of them."""

NEXT, OLD = "__next", "__old"
_FREE_SINCE = "lineagelog_online_rebuild_free_since"
_FIRST_PAGE, _MIN_PAGE, _MAX_PAGE = 200, 20, 20_000
_MAX_DELETE = 200_000
_TAIL_ROUNDS = 20
"""Pages at the log's tail after which the switch takes the rest, however busy the writers."""


@dataclass(frozen=True)
class _Copies:
    """The views being rebuilt, their live tables' copies, and the layout they follow."""

    views: tuple[str, ...]
    tables: dict[Table, Table]
    layout: str

    def marker(self, position: int) -> str:
        return f"{self.layout}:{','.join(self.views)}@{position}"


def rebuild_online(
    engine: Engine,
    log: EventLog,
    views: Sequence[str],
    layout: str,
    bulk_writes: BulkWrites,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Rebuild ``views`` into copies of their tables and switch them in; return events read.

    ``engine``'s transactions take the write lock (the projector's engine);
    ``layout`` is the views' schema version (a copy of another layout is not resumed).

    Raises:
        StorageError: the database failed; the live views are as they were before
            the switch, and a rerun resumes.

    """
    try:
        reading = engine.execution_options(**{WRITE_OPTION: False})
        with engine.connect() as conn, reading.connect() as reader, bulk_writes(conn):
            copies, start = _prepare(conn, tuple(views), layout)
            with cyclic_gc_paused():
                position = _load(conn, reader, log, copies, start, progress)
            position = _switch(conn, log, copies, position)
            _drop_old(conn, copies)
            return position - start
    except SQLAlchemyError as e:
        raise StorageError(
            f"could not rebuild the views online: {e}; the views are still usable: run "
            "`lineagelog projections rebuild` again to finish"
        ) from e


def _prepare(conn: Connection, views: tuple[str, ...], layout: str) -> tuple[_Copies, int]:
    """The copies to load and the position they stand at (resumed, or new and empty)."""
    with _turn(conn):
        _drop_tables(conn, [name + OLD for name in _live_names()])  # a switch cut short
        stored = conn.scalar(select(t.schema_info.c.value).where(_marker_row())) or ""
        live = [table for view in views for table in t.VIEW_TABLES[view]]
        inspector, schema = inspect(conn), _schema(conn)
        existing = set(inspector.get_table_names(schema=schema))
        taken = {
            str(index["name"])
            for table in live
            if table.name in existing
            for index in inspector.get_indexes(table.name, schema=schema)
        }
        copies = _Copies(views, {table: _copy_of(table, taken) for table in live}, layout)
        copied, _, reached = stored.rpartition("@")
        same = copied == copies.marker(0).rpartition("@")[0] and reached.isdigit()
        if same and all(copy.name in existing for copy in copies.tables.values()):
            return copies, int(reached)  # the copies of a rebuild cut short
        _drop_tables(conn, [name + NEXT for name in _live_names()])
        for copy in copies.tables.values():
            copy.create(conn)
        conn.execute(t.schema_info.delete().where(_marker_row()))
        conn.execute(t.schema_info.insert(), {"key": ONLINE_REBUILD_KEY, "value": copies.marker(0)})
    return copies, 0


def _load(
    conn: Connection,
    reader: Connection,
    log: EventLog,
    copies: _Copies,
    position: int,
    progress: Callable[[int, int], None] | None,
) -> int:
    """Apply pages to the copies until the switch has only a few events left to apply."""
    page_size, first, tail_rounds = _FIRST_PAGE, position, 0
    while True:
        end = log.max_position()
        if end - position <= _switch_events(page_size) or tail_rounds > _TAIL_ROUNDS:
            return position
        tail_rounds += end - position <= page_size  # at the tail, chasing the writers
        page = log.read_for_projection(position, page_size, until=end)  # no lock held
        if not page:
            return position
        with reader.begin():  # handlers read the copies from a snapshot, no lock held
            batch = _batch(reader, page, copies)
        with _turn(conn):  # only the writes hold the lock: writers polling for it get turns
            started = time.perf_counter()
            _flush(conn, batch, copies, page[-1].position)
            checkpoint("online_rebuild.page")
        held = time.perf_counter() - started
        position = page[-1].position
        page_size = _next_page_size(page_size, len(page), held)
        if progress is not None:
            progress(position - first, end - first)


def _switch_events(page_size: int) -> int:
    """Events few enough for the switch to read, decode and apply holding the lock.

    A page's events are read and decoded before its transaction, but the switch's
    are not, which costs about three times their writing: a quarter of a page.
    """
    return max(_MIN_PAGE, page_size // 4)


def _next_page_size(size: int, applied: int, held: float, ceiling: int = _MAX_PAGE) -> int:
    """The page that would have held the lock ``LOCK_BUDGET_S`` at the last page's pace."""
    if applied < size and held <= LOCK_BUDGET_S:
        return size
    wanted = int(applied * LOCK_BUDGET_S / max(held, 1e-4))
    return max(_MIN_PAGE, min(ceiling, wanted, size * 2))


def _batch(conn: Connection, page: Sequence[RecordedEvent], copies: _Copies) -> PageBatch:
    """The copies' row changes for ``page``, read through ``conn``, not yet written."""
    batch = PageBatch(conn, page, copies.tables)
    apply_events(batch, page, dispatch_of(copies.views, set(copies.views), {}))
    return batch


def _flush(conn: Connection, batch: PageBatch, copies: _Copies, position: int) -> None:
    """Write ``batch`` and record the copies' new position (caller's transaction)."""
    batch.flush(conn)
    conn.execute(update(t.schema_info).where(_marker_row()).values(value=copies.marker(position)))


def _switch(conn: Connection, log: EventLog, copies: _Copies, position: int) -> int:
    """Apply the last events and put the copies in the live tables' place, in one transaction."""
    with _turn(conn):
        query = select(t.tracking.c.position).where(t.tracking.c.view.in_(copies.views))
        if conn.dialect.name != "sqlite":
            query = query.with_for_update()  # concurrent catch-ups wait for the switch
        conn.execute(query).all()
        for page in log.pages_for_projection(position, log.max_position(), _MAX_PAGE):
            _flush(conn, _batch(conn, page, copies), copies, page[-1].position)
            position = page[-1].position
        checkpoint("online_rebuild.switch")
        for live, copy in copies.tables.items():
            _rename(conn, live.name, live.name + OLD)
            _rename(conn, copy.name, live.name)
        where = t.tracking.c.view.in_(copies.views)
        conn.execute(update(t.tracking).where(where).values(position=position))
        conn.execute(t.schema_info.delete().where(_marker_row()))
    return position


def _drop_old(conn: Connection, copies: _Copies) -> None:
    """Drop the tables the switch put aside, in short transactions (writers get turns).

    SQLite frees every page of a dropped table in the dropping transaction, which
    for a view of millions of rows holds the lock for seconds: its rows are deleted
    first, as many per transaction as fit ``LOCK_BUDGET_S``.
    """
    for live in copies.tables:
        old = Table(live.name + OLD, MetaData(), *(Column(c.name) for c in live.primary_key))
        with _turn(conn):
            present = old.name in _table_names(conn)
        if present and conn.dialect.name == "sqlite":
            _empty_in_turns(conn, old)
        with _turn(conn):
            _drop_tables(conn, [old.name])


def _empty_in_turns(conn: Connection, table: Table) -> None:
    """Delete every row of ``table``, a transaction at a time, each about ``LOCK_BUDGET_S``."""
    key = tuple_(*table.c) if len(table.c) > 1 else table.c[0]
    rows = _FIRST_PAGE
    while True:
        with _turn(conn):
            started = time.perf_counter()
            deleted = conn.execute(
                delete(table).where(key.in_(select(*table.c).limit(rows)))
            ).rowcount
        if deleted < rows:
            return
        rows = _next_page_size(rows, deleted, time.perf_counter() - started, ceiling=_MAX_DELETE)


@contextmanager
def _turn(conn: Connection) -> Iterator[None]:
    """A transaction on ``conn`` begun at least ``TURN_S`` after its previous one ended."""
    free_since = conn.info.get(_FREE_SINCE)
    if free_since is not None:
        wait = free_since + TURN_S - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
    try:
        with conn.begin():
            yield
    finally:
        conn.info[_FREE_SINCE] = time.perf_counter()


def _marker_row() -> ColumnElement[bool]:
    row: ColumnElement[bool] = t.schema_info.c.key == ONLINE_REBUILD_KEY
    return row


def _live_names() -> Iterator[str]:
    return (table.name for tables in t.VIEW_TABLES.values() for table in tables)


def _copy_of(table: Table, taken: set[str]) -> Table:
    """``table``'s layout under the name ``<name>__next``, its indexes under free names."""
    columns = [
        Column(
            c.name,
            c.type,
            primary_key=c.primary_key,
            nullable=c.nullable,
            autoincrement=c.autoincrement,
        )
        for c in table.columns
    ]
    copy = Table(table.name + NEXT, MetaData(), *columns, **table.kwargs)
    for index in table.indexes:
        name = str(index.name)
        Index(
            name + NEXT if name in taken else name,
            *(copy.c[c.name] for c in index.columns),
            unique=index.unique,
        )
    return copy


def _schema(conn: Connection) -> str | None:
    """The schema the connection maps the views' tables into (PostgreSQL ``?schema=``)."""
    translate = conn.get_execution_options().get("schema_translate_map") or {}
    schema: str | None = translate.get(None)
    return schema


def _rename(conn: Connection, old: str, new: str) -> None:
    preparer = conn.dialect.identifier_preparer
    schema = _schema(conn)
    source = preparer.quote(old)
    if schema is not None:
        source = f"{preparer.quote_schema(schema)}.{source}"
    conn.exec_driver_sql(f"ALTER TABLE {source} RENAME TO {preparer.quote(new)}")


def _table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names(schema=_schema(conn)))


def _drop_tables(conn: Connection, names: list[str]) -> None:
    existing = _table_names(conn)
    for name in names:
        if name in existing:
            Table(name, MetaData()).drop(conn)
