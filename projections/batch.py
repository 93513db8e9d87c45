"""Write batching: a page of events becomes a few ``executemany`` calls.

Handlers describe row changes; changes to a row inserted in the same page are
merged into its insert, and the rest are grouped into bulk updates. Applying a
page costs a handful of statements instead of one or more per event.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam

__all__ = ["PageBatch"]


class PageBatch:
    """Pending row changes for one page of events, flushed in one transaction."""

    def __init__(self, connection: Connection) -> None:
        """Collect changes to be written through ``connection``."""
        self.connection = connection
        self._inserts: dict[Table, dict[Any, dict[str, Any]]] = defaultdict(dict)
        self._updates: dict[Table, dict[Any, dict[str, Any]]] = defaultdict(dict)
        self._serial = 0

    def insert(self, table: Table, row: dict[str, Any], key: Any = None) -> None:
        """Insert ``row``; ``key`` (the primary key values) lets later changes merge into it."""
        if key is None:
            self._serial += 1
            key = ("__row__", self._serial)
        self._inserts[table][key] = row

    def pending_rows(self, table: Table) -> list[tuple[Any, dict[str, Any]]]:
        """The rows inserted into ``table`` in this page so far, with their keys."""
        return list(self._inserts[table].items())

    def update(self, table: Table, key: tuple[Any, ...], values: dict[str, Any]) -> None:
        """Set ``values`` on the row whose primary key is ``key``."""
        row = self._inserts[table].get(key)
        if row is not None:
            row.update(values)
        else:
            self._updates[table].setdefault(key, {}).update(values)

    def flush(self) -> None:
        """Write every pending change: inserts first, then grouped updates."""
        for table, rows in self._inserts.items():
            if rows:
                self.connection.execute(table.insert(), list(rows.values()))
        for table, updates in self._updates.items():
            pk = [column.name for column in table.primary_key.columns]
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for key, values in updates.items():
                params = {f"k_{name}": value for name, value in zip(pk, key, strict=True)}
                params.update({f"v_{name}": value for name, value in values.items()})
                groups[tuple(sorted(values))].append(params)
            for columns, params_list in groups.items():
                statement = (
                    table.update()
                    .where(and_(*(table.c[name] == bindparam(f"k_{name}") for name in pk)))
                    .values({name: bindparam(f"v_{name}") for name in columns})
                )
                self.connection.execute(statement, params_list)
        self._inserts.clear()
        self._updates.clear()
