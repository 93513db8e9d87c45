"""Read a test database the way a test must: every view row, raw SQL, the stored events.

Tests compare views before and after (a rebuild, a race, hostile input), and some
edit rows behind lineagelog's back to see the audit name them. Both go through
here, so the view tables' names (``lineagelog_<view>``) are known in one place.
Import from any test module (``from views import view_rows``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lineagelog.adapters.stored_events import stored_row
from lineagelog.projections import schema

if TYPE_CHECKING:
    from lineagelog.api.context import LineageContext

__all__ = ["sqlite_database", "stored_event_rows", "view_rows", "view_table"]


def view_rows(context: LineageContext) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, each value as its repr, sorted, keyed by table name."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with context.engine.connect() as conn:
        for tables in schema.VIEW_TABLES.values():
            for table in tables:
                rows[table.name] = sorted(
                    (tuple(repr(v) for v in row) for row in conn.execute(select(table))),
                )
    return rows


def view_table(view: str) -> str:
    """The SQL name of a view's table: ``view_table("runs") == "lineagelog_runs"``."""
    return f"{schema.PREFIX}{view}"


@contextmanager
def sqlite_database(location: str | Path) -> Iterator[sqlite3.Connection]:
    """A raw connection to a SQLite file (a path or ``sqlite:///`` URL), in autocommit mode.

    Every statement is committed as it runs, as a user editing the file would, and
    the connection is closed afterwards (``sqlite3``'s own ``with`` does not close).
    """
    path = str(location).removeprefix("sqlite:///")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def stored_event_rows(location: str | Path, *, decoded: bool = True) -> list[tuple[Any, ...]]:
    """The log's rows: rowid, originator id and version, topic, state.

    ``decoded``: the whole topic and the JSON payload, whichever encoding the row
    has (``stored_events.stored_row``; a test that edits a payload writes it back
    as JSON, which the store reads too); otherwise the bytes as stored.
    """
    with sqlite_database(location) as conn:
        rows = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        ).fetchall()
    if not decoded:
        return rows
    return [(p, s, v, *stored_row(topic, state)) for p, s, v, topic, state in rows]
