"""Write batching: a page of events becomes a few ``executemany`` calls.

Handlers describe row changes; changes to a row inserted in the same page are
merged into its insert, and the rest are grouped into bulk updates. Applying a
page costs a handful of statements instead of one or more per event.

On SQLite the statements go straight to the driver's ``executemany`` with
parameters bound once per row by the columns' own bind processors (timestamps
by ``utc_text``, the exact text ``UtcDateTime`` binds), skipping SQLAlchemy's
per-row parameter processing, which cost more than SQLite's own work. On
PostgreSQL (psycopg 3) inserts stream through ``COPY``. Updates there, and
everything on other dialects, go through SQLAlchemy Core.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Connection, Row, Table, and_, bindparam, literal, select
from sqlalchemy.engine import Dialect

from lineagelog.domain.errors import StorageError
from lineagelog.projections.schema import UtcDateTime

if TYPE_CHECKING:
    from lineagelog.projections.ports import RecordedEvent

__all__ = ["PageBatch", "utc_text"]

UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"

Bind = Callable[[Any], Any]

InsertGroup = tuple[Table, str, dict[str, "Bind | None"], tuple[str, ...], list[dict[str, Any]]]
"""Rows to insert into one table naming the same columns: (table, quoted name, each
column's bind, the columns, the rows)."""


def utc_text(moment: datetime | str) -> str:
    """Return a timestamp as the fixed-width UTC text ``UtcDateTime`` stores on SQLite.

    Accepts a datetime (domain events) or ISO 8601 text (projection records,
    usually already in this form). A naive value is taken as UTC.

    Examples:
        >>> utc_text("2026-11-26T18:11:57+01:00")
        '2026-11-26T17:11:57.000000+00:00'

    """
    if type(moment) is str:
        if len(moment) == 32 and moment[19] == "." and moment.endswith("+00:00"):
            return moment
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(UTC_FORMAT)


def _utc_datetime(moment: datetime | str | None) -> datetime | None:
    """Timestamp text back to a datetime, for dialects with a native timestamp type."""
    if isinstance(moment, str):
        return datetime.fromisoformat(moment)
    return moment


_binds: dict[tuple[str, Table], dict[str, Bind | None]] = {}


def _column_binds(table: Table, dialect: Dialect) -> dict[str, Bind | None]:
    """Per column of ``table``: the function turning a value into the driver's parameter."""
    key = (dialect.name, table)
    binds = _binds.get(key)
    if binds is None:
        binds = {}
        for column in table.columns:
            if isinstance(column.type, UtcDateTime):
                binds[column.name] = None  # see _bound
            elif _plain_json(column.type, dialect):
                binds[column.name] = _json_text  # what SQLAlchemy's bind calls, without its checks
            else:
                binds[column.name] = column.type._cached_bind_processor(dialect)
        _binds[key] = binds
    return binds


def _json_text(value: Any) -> str:
    """``json.dumps(value)``, with empty objects and lists (most metadata) spelled at once."""
    if not value and (type(value) is dict or type(value) is list):
        return "{}" if type(value) is dict else "[]"
    return json.dumps(value)


def _plain_json(column_type: Any, dialect: Dialect) -> bool:
    """Whether SQLAlchemy binds ``column_type`` with plain ``json.dumps`` (None too) on SQLite."""
    return (
        dialect.name == "sqlite"
        and isinstance(column_type, JSON)
        and not column_type.none_as_null
        and getattr(dialect, "_json_serializer", None) is None
    )


class PageBatch:
    """Pending row changes for one page of events, flushed in one transaction."""

    def __init__(
        self,
        connection: Connection,
        page: Sequence[RecordedEvent] = (),
        tables: Mapping[Table, Table] | None = None,
    ) -> None:
        """Collect changes to be written through ``connection`` for the events of ``page``.

        Handlers may look at the whole ``page`` to read once what its events need
        (instead of a query per event), and keep what they read in ``memo``.
        ``tables`` redirects a view table to another of the same columns (an online
        rebuild loads tables beside the live ones): handlers name the view's table,
        and read through ``table()``.
        """
        self.connection = connection
        self.page = page
        self.memo: dict[str, Any] = {}
        self._tables = dict(tables or {})
        self._inserts: dict[Table, dict[Any, dict[str, Any]]] = defaultdict(dict)
        self._updates: dict[Table, dict[Any, dict[str, Any]]] = defaultdict(dict)
        self._serial = 0
        self._lookups: dict[Table, str] = {}

    def insert(self, table: Table, row: dict[str, Any], key: Any = None) -> None:
        """Insert ``row``; ``key`` (the primary key values) lets later changes merge into it."""
        if key is None:
            self._serial += 1
            key = ("__row__", self._serial)
        self._inserts[table][key] = row

    def pending_rows(self, table: Table) -> list[tuple[Any, dict[str, Any]]]:
        """Return the rows inserted into ``table`` in this page so far, with their keys."""
        return list(self._inserts[table].items())

    def exists(self, table: Table, key: tuple[Any, ...]) -> bool:
        """Whether ``table`` holds a row whose primary key is ``key``, pending or stored.

        A pending row is found only when it was inserted with its ``key``. On SQLite
        the lookup goes straight to the driver: handlers ask it once per event.
        """
        if key in self._inserts[table]:
            return True
        if self.connection.dialect.name == "sqlite":
            return self._exists_sqlite(table, key)
        target = self.table(table)
        columns = target.primary_key.columns
        where = and_(*(column == value for column, value in zip(columns, key, strict=True)))
        found = self.connection.execute(select(literal(1)).select_from(target).where(where))
        return found.first() is not None

    def stored_rows(
        self, table: Table, columns: Sequence[str], where: Mapping[str, Any]
    ) -> list[Row[Any]]:
        """Return ``columns`` of the stored rows of ``table`` equal to ``where`` (None: IS NULL).

        Rows pending in this page are not among them (see ``pending_rows``).
        """
        target = self.table(table)
        conditions = [
            target.c[name].is_(None) if value is None else target.c[name] == value
            for name, value in where.items()
        ]
        statement = select(*(target.c[name] for name in columns)).where(*conditions)
        return list(self.connection.execute(statement))

    def table(self, table: Table) -> Table:
        """The table rows of view table ``table`` are read from and written to in this batch.

        The view's own, or the copy an online rebuild loads (``tables``).
        """
        return self._tables.get(table, table)

    def _exists_sqlite(self, table: Table, key: tuple[Any, ...]) -> bool:
        statement = self._lookups.get(table)
        if statement is None:
            quote = self.connection.dialect.identifier_preparer.quote
            where = " AND ".join(f"{quote(c.name)} = ?" for c in table.primary_key.columns)
            statement = f"SELECT 1 FROM {self._table_name(table)} WHERE {where} LIMIT 1"
            self._lookups[table] = statement
        driver = self.connection.connection.driver_connection
        assert driver is not None
        return driver.execute(statement, key).fetchone() is not None

    def update(self, table: Table, key: tuple[Any, ...], values: dict[str, Any]) -> None:
        """Set ``values`` on the row whose primary key is ``key``."""
        row = self._inserts[table].get(key)
        if row is not None:
            row.update(values)
        else:
            self._updates[table].setdefault(key, {}).update(values)

    def flush(self, connection: Connection | None = None) -> None:
        """Write every pending change: inserts first, then grouped updates.

        ``connection`` writes them instead of the one the handlers read through.
        """
        if connection is not None:
            self.connection = connection
        dialect = self.connection.dialect.name
        if dialect == "sqlite":
            self._flush_sqlite()
        elif dialect == "postgresql" and self.connection.dialect.driver == "psycopg":
            self._copy_inserts()
            self._update_core()
        else:
            self._insert_core()
            self._update_core()
        self._inserts.clear()
        self._updates.clear()

    # -- SQLite: the driver's executemany --------------------------------------

    def _flush_sqlite(self) -> None:
        import sqlite3

        dialect = self.connection.dialect
        quote = dialect.identifier_preparer.quote
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for table, name, binds, columns, group in self._insert_groups():
                statement = (
                    f"INSERT INTO {name} ({', '.join(quote(c) for c in columns)}) "
                    f"VALUES ({', '.join(':' + c for c in columns)})"
                )
                timestamps = _timestamp_columns(table)
                cursor.executemany(statement, _bound(group, columns, binds, timestamps))
            for table, updates in self._updates.items():
                binds = _column_binds(table, dialect)
                timestamps = _timestamp_columns(table)
                name = self._table_name(table)
                pk = [column.name for column in table.primary_key.columns]
                pk_binds = [binds[c] for c in pk]
                groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
                for key, values in updates.items():
                    columns = tuple(values)
                    params = [_bind_one(v, binds[c], c in timestamps) for c, v in values.items()]
                    params.extend(
                        k if bind is None else bind(k)
                        for k, bind in zip(key, pk_binds, strict=True)
                    )
                    groups[columns].append(tuple(params))
                where = " AND ".join(f"{quote(c)} = ?" for c in pk)
                for columns, params_list in groups.items():
                    sets = ", ".join(f"{quote(c)} = ?" for c in columns)
                    cursor.executemany(f"UPDATE {name} SET {sets} WHERE {where}", params_list)
        except sqlite3.Error as e:
            raise StorageError(f"could not apply events to the views: {e}") from e
        finally:
            cursor.close()

    # -- PostgreSQL: COPY ------------------------------------------------------

    def _copy_inserts(self) -> None:
        """Insert through ``COPY ... FROM STDIN``: a stream of rows, not a statement per row.

        psycopg's ``executemany`` sends one statement per row (pipelined), which
        cost more than everything else a catch-up does. Timestamps go as their
        ISO 8601 text, which PostgreSQL parses; JSON through the column's bind.
        """
        import psycopg

        dialect = self.connection.dialect
        quote = dialect.identifier_preparer.quote
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            for _, name, binds, columns, group in self._insert_groups():
                statement = f"COPY {name} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
                converted = [(i, binds[c]) for i, c in enumerate(columns) if binds[c]]
                values_of = itemgetter(*columns) if len(columns) > 1 else _one(columns[0])
                with cursor.copy(statement) as copy:
                    for row in group:
                        values = values_of(row)
                        if converted:
                            values = list(values)
                            for i, bind in converted:
                                values[i] = bind(values[i])  # type: ignore[misc]
                        copy.write_row(values)
        except psycopg.Error as e:
            raise StorageError(f"could not apply events to the views: {e}") from e
        finally:
            cursor.close()

    def _insert_groups(self) -> Iterator[InsertGroup]:
        """Pending inserts by table and set of columns."""
        dialect = self.connection.dialect
        for table, rows in self._inserts.items():
            if rows:
                binds = _column_binds(table, dialect)
                name = self._table_name(table)
                for columns, group in _by_columns(rows.values()).items():
                    yield table, name, binds, columns, group

    def _table_name(self, table: Table) -> str:
        """The quoted name of ``table`` (or its redirect), in the connection's schema."""
        table = self.table(table)
        preparer = self.connection.dialect.identifier_preparer
        schemas = self.connection.get_execution_options().get("schema_translate_map") or {}
        schema = schemas.get(table.schema, table.schema)
        name = preparer.quote(table.name)
        return name if schema is None else f"{preparer.quote_schema(schema)}.{name}"

    # -- other dialects: SQLAlchemy Core ---------------------------------------

    def _insert_core(self) -> None:
        for table, rows in self._inserts.items():
            if rows:
                timestamps = _timestamp_columns(table)
                inserted = list(rows.values())
                if timestamps:
                    inserted = [_native_timestamps(row, timestamps) for row in inserted]
                self.connection.execute(self.table(table).insert(), inserted)

    def _update_core(self) -> None:
        for table, updates in self._updates.items():
            timestamps = _timestamp_columns(table)
            pk = [column.name for column in table.primary_key.columns]
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for key, values in updates.items():
                if timestamps:
                    values = _native_timestamps(values, timestamps)
                params = {f"k_{name}": value for name, value in zip(pk, key, strict=True)}
                params.update({f"v_{name}": value for name, value in values.items()})
                groups[tuple(sorted(values))].append(params)
            for columns, params_list in groups.items():
                target = self.table(table)
                statement = (
                    target.update()
                    .where(and_(*(target.c[name] == bindparam(f"k_{name}") for name in pk)))
                    .values({name: bindparam(f"v_{name}") for name in columns})
                )
                self.connection.execute(statement, params_list)


def _one(column: str) -> Callable[[dict[str, Any]], tuple[Any]]:
    """``itemgetter`` of one column that still returns a tuple."""
    return lambda row: (row[column],)


def _by_columns(rows: Any) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows grouped by their set of column names (one group in practice)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    first: Any = None
    group: list[dict[str, Any]] = []
    for row in rows:
        keys = row.keys()
        if first is None:
            first = keys
            groups[tuple(keys)] = group
        if keys == first:  # the same set of names, in any order
            group.append(row)
        else:
            groups.setdefault(tuple(sorted(keys)), []).append(row)
    return groups


def _bound(
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
    binds: dict[str, Bind | None],
    timestamps: frozenset[str],
) -> list[dict[str, Any]]:
    """Return the rows with each value through its column's bind, for named parameters.

    The rows are the batch's own and are converted in place. Timestamp columns
    hold ``utc_text`` text already (handlers' ``_ts``); a datetime there is
    converted too.
    """
    converted = [(c, binds[c]) for c in columns if binds[c] is not None]
    stamps = [c for c in columns if c in timestamps]
    for row in rows:
        for c, bind in converted:
            row[c] = bind(row[c])  # type: ignore[misc]
        for c in stamps:
            value = row[c]
            if type(value) is not str and value is not None:
                row[c] = utc_text(value)
    return rows


def _bind_one(value: Any, bind: Bind | None, timestamp: bool) -> Any:
    if timestamp:
        return value if value is None or type(value) is str else utc_text(value)
    return value if bind is None else bind(value)


_timestamps: dict[Table, frozenset[str]] = {}


def _timestamp_columns(table: Table) -> frozenset[str]:
    found = _timestamps.get(table)
    if found is None:
        found = frozenset(c.name for c in table.columns if isinstance(c.type, UtcDateTime))
        _timestamps[table] = found
    return found


def _native_timestamps(row: dict[str, Any], columns: frozenset[str]) -> dict[str, Any]:
    return {k: _utc_datetime(v) if k in columns else v for k, v in row.items()}
