"""The SQLAlchemy engine of the views, in the same database (and schema) as the log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from lineagelog.projections.ports import WRITE_OPTION

if TYPE_CHECKING:
    from lineagelog.adapters.database_url import StoreLocation

__all__ = [
    "create_view_engine",
    "sqlite_bulk_writes",
    "sqlite_lean_bulk_writes",
    "sqlite_write_locking",
]

BULK_CACHE_KIB = -262_144
"""SQLite page cache of a rebuild (256 MiB, as a negative number of KiB)."""

LEAN_CACHE_KIB = -8_192
"""SQLite page cache of a rebuild in a process that must stay small (8 MiB; it bounds
the memory SQLite sorts in when it indexes the views too)."""

BULK_CHECKPOINT_PAGES = 65_536
"""WAL pages (256 MiB of 4 KiB pages) after which a bulk load's commit checkpoints.

SQLite checkpoints every thousand pages, an fsync a rebuild reached at every
commit; never checkpointing until the end let the WAL of a 6.5-million-event
catch-up grow past 20 GiB (every commit appends the pages it changed, and the
same index pages change again and again)."""


def create_view_engine(location: StoreLocation) -> Engine:
    """Create the engine of the views on the database ``location`` names.

    SQLite takes the write lock at BEGIN; PostgreSQL maps the views' tables into
    ``location.schema`` (``?schema=`` of the URL) with ``schema_translate_map``.
    """
    url = location.sqlalchemy_url
    if url == "sqlite://":
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    if location.backend == "sqlite":
        engine = create_engine(url)
        sqlite_write_locking(engine)
        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=8)
    if location.schema:
        engine = engine.execution_options(schema_translate_map={None: location.schema})
    return engine


def sqlite_write_locking(engine: Engine) -> None:
    """Make every SQLite transaction of ``engine`` take the write lock at BEGIN.

    SQLite's default deferred transactions fail at once with "database is
    locked" when two writers upgrade from read to write; BEGIN IMMEDIATE
    waits for the busy timeout instead.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: object, _: object) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB: view indexes are keyed by UUIDs
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # Only the projector's transactions write; queries read a consistent
        # snapshot without queueing behind writers.
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


@contextmanager
def sqlite_bulk_writes(connection: Connection, cache_kib: int = BULK_CACHE_KIB) -> Iterator[None]:
    """On SQLite, checkpoint the WAL seldom (and at the end), and use a larger page cache.

    The WAL is otherwise checkpointed (with an fsync) every thousand pages, which
    a rebuild of a large log reaches at every commit; here only once it holds
    ``BULK_CHECKPOINT_PAGES``, so it stays bounded however long the log.
    ``cache_kib``: the page cache, as SQLite's ``cache_size`` (negative: KiB).
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.dbapi_connection
    assert driver is not None
    (cache_size,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA wal_autocheckpoint = {int(BULK_CHECKPOINT_PAGES)}")
    driver.execute(f"PRAGMA cache_size = {int(cache_kib)}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {int(cache_size)}")
        driver.execute("PRAGMA wal_autocheckpoint = 1000")
        driver.execute("PRAGMA wal_checkpoint(PASSIVE)")


def sqlite_lean_bulk_writes(connection: Connection) -> AbstractContextManager[None]:
    """``sqlite_bulk_writes`` with a page cache of ``LEAN_CACHE_KIB``, for bounded memory."""
    return sqlite_bulk_writes(connection, LEAN_CACHE_KIB)
