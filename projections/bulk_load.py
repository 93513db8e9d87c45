"""Loading whole views at once: what a rebuild does differently from a catch-up.

A catch-up adds a page of rows to indexed tables. A rebuild fills empty tables
with the whole log, where keeping every index and key in order row by row costs
more than the rows themselves. So a rebuild:

- drops the views' secondary indexes and creates them once at the end;
- on SQLite, loads the insert-only tables keyed by random ids (``INSERT_ONLY``)
  into plain rowid tables, appended in order, and sorts them into their keyed
  layout once at the end. Written row by row, every commit rewrote most pages
  of those B-trees to the WAL: 2.3 GB of WAL for 500 MB of views at 640k events;
- lets the driver tune itself for bulk writes (the projector's ``bulk_writes``: on SQLite,
  ``adapters.view_engine.sqlite_bulk_writes``);
- pauses Python's cyclic garbage collector.

A rebuild cut short leaves a marker row (``schema_info``) naming what is still
unfinished; ``finish_bulk_load`` (run by ``Projector.create_tables``, so by every
projector and client) puts the keyed layout and the indexes back.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Column, Connection, Index, MetaData, Table, delete, select
from sqlalchemy.schema import CreateTable

from lineagelog.projections import schema as t

__all__ = [
    "BULK_LOAD_KEY",
    "bulk_load_unfinished",
    "cyclic_gc_paused",
    "finish_bulk_load",
    "start_bulk_load",
]

BULK_LOAD_KEY = "bulk_load"
"""``schema_info`` row present while a rebuild's tables are unkeyed or unindexed.

Its value names the tables loaded unkeyed (comma-separated, possibly none)."""

INSERT_ONLY: tuple[Table, ...] = (t.step_outputs, t.lineage_nodes, t.lineage_edges)
"""Tables whose rows handlers only insert, keyed by ids in random order."""


def start_bulk_load(connection: Connection, views: Sequence[str]) -> None:
    """Recreate the tables of ``views`` empty, without indexes, ready to be loaded.

    Runs in the caller's transaction, with the marker row that
    ``finish_bulk_load`` reads.
    """
    unkeyed = [
        table
        for view in views
        for table in t.VIEW_TABLES[view]
        if table in INSERT_ONLY and connection.dialect.name == "sqlite"
    ]
    marker = select(t.schema_info.c.value).where(t.schema_info.c.key == BULK_LOAD_KEY)
    names = set(filter(None, (connection.scalar(marker) or "").split(",")))  # still unfinished
    names.update(table.name for table in unkeyed)
    connection.execute(delete(t.schema_info).where(t.schema_info.c.key == BULK_LOAD_KEY))
    connection.execute(
        t.schema_info.insert(), {"key": BULK_LOAD_KEY, "value": ",".join(sorted(names))}
    )
    for view in views:
        for table in reversed(t.VIEW_TABLES[view]):
            table.drop(connection, checkfirst=True)
        for table in t.VIEW_TABLES[view]:
            layout = _unkeyed(table) if table in unkeyed else table
            connection.execute(CreateTable(layout))  # without its indexes


def bulk_load_unfinished(connection: Connection) -> bool:
    """Whether a rebuild left tables unkeyed or unindexed."""
    marker = select(t.schema_info.c.value).where(t.schema_info.c.key == BULK_LOAD_KEY)
    return connection.scalar(marker) is not None


def finish_bulk_load(connection: Connection) -> None:
    """Sort unkeyed tables into their keyed layout and create every missing view index.

    Does nothing when no rebuild is unfinished. Runs in the caller's transaction.
    """
    marker = select(t.schema_info.c.value).where(t.schema_info.c.key == BULK_LOAD_KEY)
    unkeyed = connection.scalar(marker)
    if unkeyed is None:
        return
    by_name = {table.name: table for table in INSERT_ONLY}
    for name in filter(None, unkeyed.split(",")):
        _key(connection, by_name[name])
    for index in _view_indexes(t.VIEW_TABLES):
        index.create(connection, checkfirst=True)
    connection.execute(delete(t.schema_info).where(t.schema_info.c.key == BULK_LOAD_KEY))


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a bulk job creates many objects.

    Decoded events and pending rows are acyclic (freed by reference counting),
    but every 700 allocations the collector scans the young ones, and ever more
    often the whole heap: a third of a rebuild's time. Collection resumes after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _view_indexes(tables_by_view: dict[str, tuple[Table, ...]]) -> list[Index]:
    """The secondary indexes of every view table."""
    return [
        index for tables in tables_by_view.values() for table in tables for index in table.indexes
    ]


def _unkeyed(table: Table) -> Table:
    """``table``'s columns in a plain rowid table: no primary key, no indexes."""
    columns: Iterable[Column[object]] = (
        Column(column.name, column.type, nullable=column.nullable) for column in table.columns
    )
    return Table(table.name, MetaData(), *columns)


def _key(connection: Connection, table: Table) -> None:
    """Move an unkeyed table's rows into ``table``'s own layout, in key order."""
    preparer = connection.dialect.identifier_preparer
    staged = preparer.quote(f"{table.name}__unkeyed")
    name = preparer.quote(table.name)
    columns = ", ".join(preparer.quote(column.name) for column in table.columns)
    key = ", ".join(preparer.quote(column.name) for column in table.primary_key.columns)
    connection.exec_driver_sql(f"ALTER TABLE {name} RENAME TO {staged}")
    connection.execute(CreateTable(table))
    connection.exec_driver_sql(
        f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {staged} ORDER BY {key}"
    )
    connection.exec_driver_sql(f"DROP TABLE {staged}")
