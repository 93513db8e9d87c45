"""Whether a database is lineagelog's to write, decided before anything is created.

A database URL may name another application's database: a SQLite file it
uses, or PostgreSQL's ``public`` schema. lineagelog then must neither add its
tables next to that application's nor, on ``projections rebuild``, drop a
table of the same name. So the first thing done with a database (under the
setup lock, in one transaction) is to read the tables it holds, in the schema
the URL selects, and judge them:

- the marker table ``lineagelog_schema`` is there: the database is lineagelog's;
  lineagelog creates only the tables it misses and never touches any other;
- no table at all: the database is claimed by creating the marker first, so a
  process killed before it created the log leaves a database still known as ours;
- the tables of lineagelog before its table prefix (marked by ``lineage_schema``
  with its ``views`` row, schema version 1): refused when its log holds events
  (they were hashed by event hash format 1, see ``old_hash_format_message``);
  otherwise renamed to the prefixed names in one transaction (one atomic
  ``RENAME TABLE`` on MySQL/MariaDB, whose DDL does not roll back), after
  checking each has lineagelog's columns; other tables are left alone. The
  event log's table (``stored_events``) keeps its name;
- anything else: another application's database, refused with what to do.

Tables of other applications next to lineagelog's own (marked) tables are
left alone: they were added after lineagelog claimed the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, inspect, literal, select, update

from lineagelog.domain.base import EVENT_HASH_FORMAT
from lineagelog.domain.errors import ConfigurationError
from lineagelog.projections import schema as t
from lineagelog.projections.bulk_load import BULK_LOAD_KEY

__all__ = [
    "LOG_TABLES",
    "OwnershipVerdict",
    "claim_database",
    "judge_tables",
    "old_hash_format_message",
]

LOG_TABLES = frozenset({"stored_events"})
"""The event log's tables, created by eventsourcing's recorder under its own names."""

LEGACY_MARKER = "lineage_schema"
"""The marker table of lineagelog before every table name had the ``lineagelog_`` prefix."""

_OWN_SCHEMA_HINT = (
    "lineagelog keeps its log and views in a database of its own: give it a new SQLite "
    "file (sqlite:///path/to/lineage.db), or on PostgreSQL a schema of its own "
    "(add ?schema=lineagelog to the URL)"
)


@dataclass(frozen=True)
class OwnershipVerdict:
    """What the tables found say about a database.

    ``kind`` is ``ours`` (the marker is there), ``empty`` (no table: claim it),
    ``legacy`` (lineagelog's tables under their names before the prefix:
    ``renames`` maps each found old name to its new one) or ``foreign``
    (``foreign`` names the tables that are not lineagelog's).
    """

    kind: str
    renames: dict[str, str]
    foreign: tuple[str, ...]


def judge_tables(found: Iterable[str]) -> OwnershipVerdict:
    """Judge a database by the names of the tables (and SQL views) it holds.

    Examples:
        >>> judge_tables([]).kind
        'empty'
        >>> judge_tables(["stored_events", "lineagelog_schema", "users"]).kind
        'ours'
        >>> verdict = judge_tables(["stored_events", "lineage_schema", "runs"])
        >>> verdict.kind, verdict.renames
        ('legacy', {'lineage_schema': 'lineagelog_schema', 'runs': 'lineagelog_runs'})
        >>> verdict = judge_tables(["runs", "users"])
        >>> verdict.kind, verdict.foreign
        ('foreign', ('runs', 'users'))

    """
    names = set(found)
    if t.schema_info.name in names:
        return OwnershipVerdict("ours", {}, ())
    if not names:
        return OwnershipVerdict("empty", {}, ())
    if LEGACY_MARKER in names and not names & t.OWN_TABLES:
        renames = {old: new for old, new in t.LEGACY_NAMES.items() if old in names}
        return OwnershipVerdict("legacy", dict(sorted(renames.items())), ())
    return OwnershipVerdict("foreign", {}, tuple(sorted(names - t.OWN_TABLES)))


def claim_database(connection: Connection, shown: str, schema: str | None = None) -> None:
    """Make sure the database is lineagelog's before any table is created in it.

    Runs in the caller's transaction (which the caller commits): an empty
    database gets the marker table, a database of an earlier lineagelog has
    its tables renamed, and lineagelog's own database is left as it is.

    Args:
        connection: a connection in a writing transaction.
        shown: the database URL as messages may show it (password redacted).
        schema: the PostgreSQL schema the URL selects (None: the default).

    Raises:
        ConfigurationError: the database holds tables of another application,
            naming a few of them and what to do instead.

    """
    inspector = inspect(connection)
    found = [*inspector.get_table_names(schema=schema), *inspector.get_view_names(schema=schema)]
    verdict = judge_tables(found)
    if verdict.kind == "foreign":
        shown_tables = ", ".join(verdict.foreign[:5]) + (
            ", ..." if len(verdict.foreign) > 5 else ""
        )
        where = f"schema {schema!r} of " if schema else ""
        raise ConfigurationError(
            f"{where}the database {shown!r} holds tables that are not lineagelog's "
            f"({shown_tables}) and no {t.schema_info.name!r} table; lineagelog will not "
            f"create its tables next to another application's. {_OWN_SCHEMA_HINT}"
        )
    if verdict.kind == "empty":
        t.schema_info.create(connection)  # its version row is written by create_tables
    elif verdict.kind == "legacy":
        _migrate(connection, verdict.renames, shown, schema)


def old_hash_format_message(shown: str, stored: str) -> str:
    """Why a database whose events were hashed by lineagelog before hash format 2 is refused."""
    return (
        f"the lineage database {shown!r} has schema version {stored!r}: its events were "
        "hashed by an older lineagelog, without the module of each event's type, so this "
        f"lineagelog (event hash format {EVENT_HASH_FORMAT}) would find every hash chain "
        "broken. Keep reading and auditing it with the lineagelog release that made it, and "
        "start new work in a new database (another LINEAGELOG_HOME or "
        "LINEAGELOG_DATABASE_URL); an old history cannot be re-hashed without losing the "
        "proof that it never changed"
    )


def _holds_events(connection: Connection, inspector: Any, schema: str | None) -> bool:
    names = set(inspector.get_table_names(schema=schema))
    if not LOG_TABLES & names:
        return False
    events = Table(next(iter(LOG_TABLES)), MetaData(), schema=schema)
    return connection.execute(select(literal(1)).select_from(events).limit(1)).first() is not None


def _migrate(
    connection: Connection, renames: dict[str, str], shown: str, schema: str | None
) -> None:
    """Rename the tables of lineagelog before the prefix, after checking they are its own."""
    inspector = inspect(connection)
    for old, new in renames.items():
        columns = {c["name"] for c in inspector.get_columns(old, schema=schema)}
        expected = {c.name for c in t.metadata.tables[new].columns}
        if columns != expected:
            raise ConfigurationError(
                f"the database {shown!r} has lineagelog's old marker table "
                f"{LEGACY_MARKER!r} but its table {old!r} is not lineagelog's (columns "
                f"{sorted(columns)}); lineagelog will not rename or drop it. Move that table "
                f"out of the database, or {_OWN_SCHEMA_HINT.split(': ', 1)[1]}"
            )
    marker = Table(LEGACY_MARKER, MetaData(), Column("key"), Column("value"), schema=schema)
    if connection.scalar(select(marker.c.value).where(marker.c.key == "views")) is None:
        raise ConfigurationError(
            f"the database {shown!r} has a {LEGACY_MARKER!r} table without lineagelog's "
            f"schema version; lineagelog will not take it over. {_OWN_SCHEMA_HINT}"
        )
    if _holds_events(connection, inspector, schema):
        # Every table of that version is schema version 1: events hashed without their
        # module. Renaming would change the file and still leave the chains unreadable.
        raise ConfigurationError(old_hash_format_message(shown, "1"))
    preparer = connection.dialect.identifier_preparer

    def qualified(name: str) -> str:
        return (
            f"{preparer.quote_schema(schema)}.{preparer.quote(name)}"
            if schema
            else preparer.quote(name)
        )

    if connection.dialect.name in ("mysql", "mariadb"):
        pairs = ", ".join(f"{qualified(old)} TO {qualified(new)}" for old, new in renames.items())
        connection.exec_driver_sql(f"RENAME TABLE {pairs}")
    else:
        for old, new in renames.items():
            connection.exec_driver_sql(
                f"ALTER TABLE {qualified(old)} RENAME TO {preparer.quote(new)}"
            )
    unfinished = connection.scalar(
        select(t.schema_info.c.value).where(t.schema_info.c.key == BULK_LOAD_KEY)
    )
    if unfinished:  # a rebuild cut short names its unkeyed tables by their old names
        names = ",".join(t.LEGACY_NAMES.get(n, n) for n in unfinished.split(",") if n)
        connection.execute(
            update(t.schema_info).where(t.schema_info.c.key == BULK_LOAD_KEY).values(value=names)
        )
