"""Compare two copies of the views row for row: the live views and a rebuild from the log.

Both sides are read table by table, ordered by primary key, and merged like a
sorted-merge join: memory stays bounded by a page of rows, whatever the size of
the views. Keys are ordered by code point on every database (``COLLATE "C"``
on PostgreSQL, ``utf8mb4_bin`` on MariaDB, SQLite's default ``BINARY``), which is
the order Python compares strings in, so the merge can walk both sides at once.

Values are read as the database stores them and normalised here, never through
the column types' own result processing: a forged row (text that is not JSON,
a timestamp that does not parse) must become a difference to report, not an
exception that stops the comparison.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    String,
    Table,
    Text,
    cast,
    select,
    type_coerce,
)
from sqlalchemy.exc import SQLAlchemyError

from lineagelog.domain.errors import StorageError
from lineagelog.projections import schema as t

__all__ = ["RowDifference", "compare_views"]

_PAGE = 2000
_BINARY_COLLATION = {"postgresql": "C", "mysql": "utf8mb4_bin", "mariadb": "utf8mb4_bin"}


@dataclass(frozen=True)
class RowDifference:
    """One row that differs between the live views and the rebuild.

    ``columns`` maps each differing column to (live value, expected value);
    ``where`` is ``"live"`` for a row only in the live views, ``"rebuild"`` for
    a row only in the rebuild, ``"both"`` for a row whose columns differ.
    """

    table: str
    key: dict[str, Any]
    where: str
    columns: dict[str, tuple[Any, Any]]


class _Unreadable:
    """A stored value that does not decode as its column's type (compares unequal to all else)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Unreadable) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(repr(self.raw))

    def __repr__(self) -> str:
        return f"unreadable {self.raw!r}"


def compare_views(
    live: Connection, rebuilt: Connection, tables: Sequence[Table] | None = None
) -> Iterator[RowDifference]:
    """Yield every row that differs between ``live`` and ``rebuilt``, table by table.

    ``tables`` defaults to every view table (``schema.VIEW_TABLES``). Rows are
    matched by primary key; a table missing on one side compares as empty.

    Raises:
        StorageError: a database could not be read.

    """
    chosen = tables if tables is not None else [x for ts in t.VIEW_TABLES.values() for x in ts]
    for table in chosen:
        yield from _compare_table(live, rebuilt, table)


def _compare_table(live: Connection, rebuilt: Connection, table: Table) -> Iterator[RowDifference]:
    keys = [c.name for c in table.primary_key.columns]
    columns = [c.name for c in table.columns if c.name not in keys]
    left, right = _rows(live, table), _rows(rebuilt, table)
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and _order(a[0]) < _order(b[0])):
            assert a is not None
            yield RowDifference(table.name, dict(zip(keys, a[0], strict=True)), "live", {})
            a = next(left, None)
        elif a is None or _order(b[0]) < _order(a[0]):
            yield RowDifference(table.name, dict(zip(keys, b[0], strict=True)), "rebuild", {})
            b = next(right, None)
        else:
            changed = {
                name: (x, y) for name, x, y in zip(columns, a[1], b[1], strict=True) if x != y
            }
            if changed:
                yield RowDifference(table.name, dict(zip(keys, a[0], strict=True)), "both", changed)
            a, b = next(left, None), next(right, None)


def _rows(conn: Connection, table: Table) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(key, other values) of every row of ``table``, in code-point order of the key."""
    keys = list(table.primary_key.columns)
    others = [c for c in table.columns if not c.primary_key]
    dialect = conn.dialect.name
    collation = _BINARY_COLLATION.get(dialect)
    order = [
        k.collate(collation) if collation is not None and isinstance(k.type, String) else k
        for k in keys
    ]
    query = select(*[_raw(c, dialect) for c in (*keys, *others)]).order_by(*order)
    try:
        if not conn.dialect.has_table(conn, table.name, schema=_schema(conn, table)):
            return
        result = conn.execution_options(stream_results=True, yield_per=_PAGE).execute(query)
        previous: tuple[Any, ...] | None = None
        for row in result:
            key = tuple(_normal(c, v) for c, v in zip(keys, row[: len(keys)], strict=True))
            if previous is not None and not _order(previous) < _order(key):
                # A value the database orders otherwise than Python (a forged type in
                # a key column): the merge cannot go on; refuse rather than misreport.
                raise StorageError(
                    f"the {table.name!r} view's keys are not in order at {key!r}: a key column "
                    "holds a value of another type; run `lineagelog projections rebuild`"
                )
            previous = key
            values = row[len(keys) :]
            yield key, tuple(_normal(c, v) for c, v in zip(others, values, strict=True))
    except SQLAlchemyError as e:
        raise StorageError(f"could not read the {table.name!r} view to compare it: {e}") from e


def _schema(conn: Connection, table: Table) -> str | None:
    mapped = conn.get_execution_options().get("schema_translate_map") or {}
    schema: str | None = mapped.get(table.schema, table.schema)
    return schema


def _raw(column: Any, dialect: str) -> ColumnElement[Any]:
    """The column as stored, without its type's result processing."""
    if isinstance(column.type, JSON):
        return cast(column, Text).label(column.name)
    if isinstance(column.type, t.UtcDateTime) and dialect == "sqlite":
        return type_coerce(column, String).label(column.name)
    return type_coerce(column, column.type).label(column.name)


def _normal(column: Any, value: Any) -> Any:
    """A stored value in the form both databases agree on, or ``_Unreadable``."""
    if value is None:
        return None
    if isinstance(column.type, JSON):
        try:
            return json.loads(value) if isinstance(value, (str, bytes)) else value
        except ValueError:
            return _Unreadable(value)
    if isinstance(column.type, t.UtcDateTime):
        moment = value
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return _Unreadable(value)
        if not isinstance(moment, datetime):
            return _Unreadable(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def _order(key: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    """A key in SQLite's order of types (NULL, numbers, text, bytes), then by value."""
    ranked: list[tuple[int, Any]] = []
    for value in key:
        if value is None:
            ranked.append((0, 0))
        elif isinstance(value, (int, float)):
            ranked.append((1, value))
        elif isinstance(value, str):
            ranked.append((2, value))
        elif isinstance(value, bytes):
            ranked.append((3, value))
        else:
            ranked.append((4, repr(value)))
    return tuple(ranked)
