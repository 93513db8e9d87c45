"""What every query of the views shares: the engine, and driver errors made plain.

Query classes subclass ``ViewReader`` and read through ``_connect``, so a
failing database reaches the caller as one ``StorageError`` that says how to
recover. ``visible`` and ``as_utc`` are the two small rules every query
applies to what it reads as of a log position.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Connection, Engine, Table, or_
from sqlalchemy.exc import SQLAlchemyError

from lineagelog.domain.errors import StorageError

__all__ = ["ViewReader", "as_utc", "tag_held", "visible"]


def as_utc(moment: datetime | None) -> datetime | None:
    """Return ``moment`` with UTC as its time zone when the database dropped it."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def visible(position: int | None, as_of: int | None) -> bool:
    """Return whether what happened at ``position`` had happened as of ``as_of`` (None: now)."""
    return position is not None and (as_of is None or position <= as_of)


def tag_held(table: Table, as_of: int | None) -> list[ColumnElement[bool]]:
    """Conditions on a tag table (``added_pos``, ``removed_pos``): the tag held as of ``as_of``."""
    if as_of is None:
        return [table.c.removed_pos.is_(None)]
    return [
        table.c.added_pos <= as_of,
        or_(table.c.removed_pos.is_(None), table.c.removed_pos > as_of),
    ]


class ViewReader:
    """Reads the views reached through one engine."""

    def __init__(self, engine: Engine) -> None:
        """Query the views reached through ``engine``."""
        self.engine = engine

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A connection whose driver errors become one clear StorageError."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as e:
            reason = getattr(e, "orig", None) or e
            raise StorageError(
                f"could not read the views: {reason}; if they are damaged, rebuild them from "
                "the log with `lineagelog projections rebuild`"
            ) from e
