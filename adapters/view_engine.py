"""The SQLAlchemy engine of the views, in the same database (and schema) as the log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from lineagelog.projections.projector import sqlite_write_locking

if TYPE_CHECKING:
    from lineagelog.adapters.database_url import StoreLocation

__all__ = ["create_view_engine"]


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
