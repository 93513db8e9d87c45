"""The tables of the read models (SQLAlchemy Core), and which view owns which.

Every row carries the position (notification id) of the event that created it,
and where a row changes later, the position of that change too: queries "as of"
a position read the same tables with a filter.

On SQLite, the narrow tables keyed by ids are ``WITHOUT ROWID`` (a row lives in
its primary-key B-tree: one write per row instead of two) and the timeline is
keyed by the rowid itself. A database made by an earlier lineagelog keeps its
layout, which reads the same, until ``projections rebuild`` recreates the tables.

Every table name starts with ``lineagelog_`` (``PREFIX``), so that views never
take a name such as ``runs`` from another application sharing the database;
``projections.ownership`` decides whether a database is lineagelog's to write.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

__all__ = [
    "LEGACY_NAMES",
    "OWN_TABLES",
    "PREFIX",
    "VIEW_TABLES",
    "UtcMicros",
    "metadata",
    "utc_micros",
]

PREFIX = "lineagelog_"
"""Every table lineagelog creates for its views starts with this: a database may
hold other applications' tables, and lineagelog touches only its own."""

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp, stored natively where the database can.

    SQLite has no timestamp type; there it is fixed-width ISO 8601 text
    (``2026-11-26T17:11:57.873465+00:00``), which sorts chronologically and reads
    back with ``datetime.fromisoformat`` instead of a regular expression per value.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        moment: datetime = value
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_micros(moment: datetime | str | int) -> int:
    """A moment as whole microseconds since 1970 UTC (what ``UtcMicros`` stores).

    Accepts a datetime (a naive one is taken as UTC), ISO 8601 text (projection
    records), or the microseconds themselves.

    Examples:
        >>> utc_micros("1970-01-01T00:00:01.000002+00:00")
        1000002

    """
    if type(moment) is int:
        return moment
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class UtcMicros(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp stored as an integer of microseconds since 1970.

    Eight bytes at most instead of 32 characters of text: for the timeline, which
    has a row (and an index entry) per event. Compares and sorts chronologically.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        """A datetime, ISO text or microseconds as microseconds."""
        return None if value is None else utc_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Microseconds as an aware UTC datetime."""
        if value is None:
            return None
        return _EPOCH + timedelta(microseconds=int(value))


_Position = BigInteger().with_variant(Integer(), "sqlite")
"""A log position as a primary key: SQLite's ``INTEGER PRIMARY KEY`` is the rowid itself."""


def _id(name: str, **kwargs: object) -> Column[str]:
    return Column(name, String(36), **kwargs)  # type: ignore[arg-type]


tracking = Table(
    PREFIX + "tracking",
    metadata,
    Column("view", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

schema_info = Table(
    PREFIX + "schema",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

runs = Table(
    PREFIX + "runs",
    metadata,
    _id("id", primary_key=True),
    Column("pipeline", String(255), nullable=False, index=True),
    Column("run_name", String(255), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("dag", JSON, nullable=False),
    Column("environment", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("started_pos", BigInteger, nullable=False, index=True),
    Column("ended_at", UtcDateTime()),
    Column("ended_pos", BigInteger),
    Column("failed_step", String(255)),
    Column("error", Text),
)

run_tags = Table(
    PREFIX + "run_tags",
    metadata,
    _id("run_id", primary_key=True),
    Column("tag", String(100), primary_key=True),
    Column("added_pos", BigInteger, primary_key=True),
    Column("removed_pos", BigInteger),
    Index(f"ix_{PREFIX}run_tags_tag", "tag"),
    sqlite_with_rowid=False,
)

step_runs = Table(
    PREFIX + "step_runs",
    metadata,
    _id("id", primary_key=True),
    _id("run_id", nullable=False, index=True),
    Column("pipeline", String(255), nullable=False),
    Column("invocation_id", String(255), nullable=False),
    Column("step_name", String(255), nullable=False),
    Column("source_ref", Text, nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("started_pos", BigInteger, nullable=False),
    Column("cache_key", String(64), index=True),
    Column("cache_outcome", String(16)),
    Column("cache_reason", Text),
    Column("ingredients", JSON),
    _id("original_step_run_id"),
    Column("cache_pos", BigInteger),
    Column("ended_at", UtcDateTime()),
    Column("ended_pos", BigInteger),
    Column("duration_s", Float),
    Column("error_type", String(255)),
    Column("error_message", Text),
    Column("traceback", Text),
    Index(f"ix_{PREFIX}step_runs_invocation", "pipeline", "invocation_id", "started_pos"),
)

step_outputs = Table(
    PREFIX + "step_outputs",
    metadata,
    _id("step_run_id", primary_key=True),
    Column("output_name", String(255), primary_key=True),
    _id("artifact_version_id", nullable=False, index=True),
    Column("reused", Boolean, nullable=False),
    Column("position", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

step_code = Table(
    PREFIX + "step_code",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("step_name", String(255), nullable=False),
    Column("source_ref", Text, nullable=False),
    Column("source", Text),
    Column("truncated", Boolean, nullable=False),
    Column("position", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
"""The source text each code hash stood for, recorded by the first run of that code."""


step_attempts = Table(
    PREFIX + "step_attempts",
    metadata,
    _id("step_run_id", primary_key=True),
    Column("attempt", Integer, primary_key=True),  # 1, 2... (a worker died mid-step)
    Column("worker", String(255), nullable=False),
    Column("executor", String(255), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

step_places = Table(
    PREFIX + "step_places",
    metadata,
    _id("step_run_id", primary_key=True),
    Column("executor", String(255), nullable=False),
    Column("worker", String(255)),  # known as it starts only in the driver (``local``)
    Column("position", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
"""Where each step run's body runs, as its ``StepStarted`` says (no row for events older
than that field: a table of its own, so databases of this schema version gain it as is)."""

artifact_versions = Table(
    PREFIX + "artifact_versions",
    metadata,
    _id("id", primary_key=True),
    Column("name", String(255), nullable=False),
    Column("version", Integer, nullable=False),  # the version's number
    Column("version_name", String(100), nullable=False),  # "1", or a chosen name like "1.0"
    Column("uri", Text, nullable=False),
    Column("materializer", Text, nullable=False),
    Column("data_type", Text, nullable=False),
    Column("artifact_type", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("visualizations", JSON, nullable=False),
    Column("run_metadata", JSON, nullable=False),
    _id("producer_step_run_id"),  # read, never searched: no index (schema 4)
    Column("output_name", String(255)),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("deleted_at", UtcDateTime()),
    Column("deleted_pos", BigInteger),
    Column("deleted_reason", Text),
    Index(f"ux_{PREFIX}artifact_versions_name_version", "name", "version", unique=True),
    Index(f"ux_{PREFIX}artifact_versions_name_version_name", "name", "version_name", unique=True),
)

artifact_tags = Table(
    PREFIX + "artifact_tags",
    metadata,
    _id("artifact_version_id", primary_key=True),
    Column("tag", String(100), primary_key=True),
    Column("added_pos", BigInteger, primary_key=True),
    Column("removed_pos", BigInteger),
    Index(f"ix_{PREFIX}artifact_tags_tag", "tag"),
    sqlite_with_rowid=False,
)

tags = Table(
    PREFIX + "tags",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("exclusive", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("position", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

cache_entries = Table(
    PREFIX + "cache_entries",
    metadata,
    _id("step_run_id", primary_key=True),
    Column("cache_key", String(64), nullable=False, index=True),
    Column("decided_pos", BigInteger, nullable=False),
    Column("succeeded_pos", BigInteger),
    sqlite_with_rowid=False,
)

lineage_nodes = Table(
    PREFIX + "lineage_nodes",
    metadata,
    _id("id", primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("label", Text, nullable=False),
    _id("run_id"),
    Column("position", BigInteger, nullable=False),  # when: the timeline's row of it (schema 4)
    sqlite_with_rowid=False,
)

lineage_edges = Table(
    PREFIX + "lineage_edges",
    metadata,
    _id("src", primary_key=True),
    _id("dst", primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("position", BigInteger, nullable=False),  # when: the timeline's row of it (schema 4)
    Index(f"ix_{PREFIX}lineage_edges_dst", "dst", "position"),
    sqlite_with_rowid=False,
)

timeline = Table(
    PREFIX + "timeline",
    metadata,
    Column("position", _Position, primary_key=True, autoincrement=False),
    Column("timestamp", UtcMicros(), nullable=False, index=True),
)
"""When each event was recorded: turns a moment into a log position (``position_at``).

Only the position and the moment (schema 4): which stream an event belongs to
is the log's to say (its primary key), not a copy here per event."""

run_metadata = Table(
    PREFIX + "run_metadata",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("key", String(255), primary_key=True),
    Column("target_kind", String(16), nullable=False),
    _id("target_id", nullable=False),
    Column("value", JSON),
    Column("type", String(16), nullable=False),
    Index(f"ix_{PREFIX}run_metadata_target", "target_id", "position"),
    sqlite_with_rowid=False,
)
"""One row per key of every metadata event: merged in position order when read."""

openlineage_nodes = Table(
    PREFIX + "openlineage_nodes",
    metadata,
    _id("id", primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("namespace", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("run_id", String(36)),  # an OpenLineage run's own runId
    Column("position", BigInteger, nullable=False),
    Column("status", String(16)),  # a run's: running, then completed, failed or aborted
    Column("ended_pos", BigInteger),  # where a run's first terminal event was applied
    sqlite_with_rowid=False,
)
"""Datasets, jobs and runs that OpenLineage events named (lineage view), keyed by node id."""

openlineage_edges = Table(
    PREFIX + "openlineage_edges",
    metadata,
    _id("src", primary_key=True),
    _id("dst", primary_key=True),
    Column("kind", String(16), primary_key=True),
    sqlite_with_rowid=False,
)
"""The lineage edges OpenLineage events made, keyed: an event repeats its run's edges."""

dataset_locations = Table(
    PREFIX + "dataset_locations",
    metadata,
    _id("dataset_id", primary_key=True),
    _id("artifact_version_id", primary_key=True),
    Column("produced", Boolean, nullable=False),
    Column("position", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
"""Where each artifact version's bytes live, as an OpenLineage dataset node id (lineage view)."""

openlineage_deliveries = Table(
    PREFIX + "openlineage_deliveries",
    metadata,
    Column("consumer", String(512), primary_key=True),
    Column("delivered", BigInteger, nullable=False),
    Column("failed", BigInteger, nullable=False),
    Column("first_undelivered", BigInteger),
    Column("last_error", Text),
    Column("updated_at", UtcDateTime(), nullable=False),
)
"""How live OpenLineage emission fared, per consumer: not a view (the log does not say it)."""

VIEW_TABLES: dict[str, tuple[Table, ...]] = {
    "runs": (runs, run_tags, step_runs, step_outputs, step_code, step_attempts, step_places),
    "catalog": (artifact_versions, artifact_tags, tags),
    "cache": (cache_entries,),
    "lineage": (
        lineage_nodes,
        lineage_edges,
        timeline,
        openlineage_nodes,
        openlineage_edges,
        dataset_locations,
    ),
    "metadata": (run_metadata,),
}
"""Each view, and the tables it owns (dropped and rebuilt together)."""

OWN_TABLES: frozenset[str] = frozenset(metadata.tables)
"""The names of every view table, tracking and schema table lineagelog creates."""

LEGACY_NAMES: dict[str, str] = {
    table.name.removeprefix(PREFIX): table.name
    for table in metadata.tables.values()
    if table is not tracking and table is not schema_info
} | {"lineage_tracking": tracking.name, "lineage_schema": schema_info.name}
"""Table names of lineagelog before the prefix (schema version 1), and their names now."""
