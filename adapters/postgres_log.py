"""The PostgreSQL event recorder: one round trip and one statement per append.

eventsourcing's recorder appends in a pipelined transaction of six statements
(``BEGIN``, ``SET LOCAL lock_timeout``, ``LOCK TABLE``, ``NOTIFY``, ``INSERT``,
``COMMIT``): two round trips and a good deal of client-side pipeline work per
append, and a step appends twice. This recorder creates one server-side
function that does the same four things and calls it as a single prepared
statement in autocommit mode, so an append is one round trip, one parse-free
execution and one commit.

What an append guarantees is unchanged:

- ``LOCK TABLE ... IN EXCLUSIVE MODE`` is taken inside the function, so it is
  held until the statement's implicit transaction commits. Appends are still
  committed in the order they were given positions, so a reader that tails the
  log by position never passes over a gap filled in later. (eventsourcing's own
  ``enable_db_functions`` path drops that lock; this one keeps it.)
- The commit is durable: ``synchronous_commit`` is left as the server has it.
  Turning it off would make an append return before its events are on disk, and
  the log is the only source of truth, so that is the operator's choice, never
  ours.
- A stream version taken by another writer still raises a unique violation,
  which eventsourcing's datastore turns into ``IntegrityError`` (a conflict).

Loaded only for ``postgresql://`` URLs (by topic, from ``database_url``), so
SQLite users never import psycopg.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

__all__ = ["APPEND_FUNCTION", "LogRecorder"]

APPEND_FUNCTION = "lineagelog_append_events"
"""The server-side function one append calls (created with the tables)."""


class LogRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, appending through one locking function call."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        """Add the append function to what ``create_table`` creates."""
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        function = Identifier(APPEND_FUNCTION)
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ "
                "BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                # Held to the commit: positions are committed in the order they were given.
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} "
                "(originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
                "RETURNING notification_id; "
                "END; $BODY$"
            ).format(
                schema=schema,
                function=function,
                event=Identifier(self.stored_event_type_name),
                lock_timeout=self.datastore.lock_timeout,
                table=table,
                channel=Identifier(self.channel_name),
            )
        )
        self._append_statement = SQL("SELECT * FROM {schema}.{function}(%s)").format(
            schema=schema, function=function
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Append ``stored_events`` atomically; return their positions in order."""
        if not stored_events:
            return []
        composite = self.datastore.psycopg_python_types[self.stored_event_type_name]
        rows = [
            composite(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            # Autocommit: the call is its own transaction, committed before this returns.
            curs.execute(self._append_statement, (rows,), prepare=True)
            return [row[APPEND_FUNCTION] for row in curs.fetchall()]
