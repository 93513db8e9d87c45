"""The event store: one URL selects where the append-only log lives.

``sqlite:///path`` (embedded default, WAL), ``memory://`` (tests), and, with the
PostgreSQL extra, ``postgresql://...``. The log is eventsourcing's recorder; this
module maps it onto the lineage language and translates driver errors.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    DatetimeAsISO,
    DecimalAsStr,
    InfrastructureFactory,
    JSONTranscoder,
    Mapper,
    Notification,
    PersistenceError,
    RecordConflictError,
    UUIDAsHex,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder

from lineagelog.adapters.event_mapper import DomainEventMapper
from lineagelog.adapters.projection_events import (
    ProjectionDecoder,
    UndecodableEvent,
    dashed_uuid,
)
from lineagelog.domain.errors import ConcurrencyConflict, ConfigurationError, StorageError
from lineagelog.domain.redaction import is_secret_parameter, redact_text, redact_url
from lineagelog.projections.ownership import claim_database
from lineagelog.projections.ports import EventLog, RecordedEvent

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

__all__ = ["ConcurrencyConflict", "EventStore", "StoreLocation", "parse_database_url", "redact_url"]

TAggregate = TypeVar("TAggregate", bound="Aggregate")


@dataclass(frozen=True)
class StoreLocation:
    """What a database URL selects: a persistence module and its settings.

    ``schema`` is the PostgreSQL schema holding both the log and the views
    (None: the server's default, ``public``).
    """

    url: str
    env: dict[str, str]
    sqlalchemy_url: str
    schema: str | None = None

    @property
    def backend(self) -> str:
        """``memory``, ``sqlite``, ``postgresql`` or ``sqlalchemy`` (any other SQL database)."""
        module = self.env["PERSISTENCE_MODULE"]
        return {
            "eventsourcing.popo": "memory",
            "eventsourcing.sqlite": "sqlite",
            "eventsourcing.postgres": "postgresql",
        }.get(module, "sqlalchemy")


_EXAMPLES = "use sqlite:///path/to/lineage.db, postgresql://user@host:5432/db or memory://"
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
# URL query parameters of postgresql:// URLs, and the eventsourcing setting each sets.
_POSTGRES_OPTIONS = {
    "connect_timeout": "POSTGRES_CONNECT_TIMEOUT",
    "pool_size": "POSTGRES_POOL_SIZE",
    "max_overflow": "POSTGRES_MAX_OVERFLOW",
    "lock_timeout": "POSTGRES_LOCK_TIMEOUT",
}


def parse_database_url(url: str) -> StoreLocation:
    """Turn a lineagelog database URL into eventsourcing and SQLAlchemy settings.

    ``postgresql://user:password@host:port/db?schema=lineage`` puts the log and
    the views in PostgreSQL (psycopg 3), in schema ``lineage`` when given; other
    query parameters: ``connect_timeout``, ``pool_size``, ``max_overflow``,
    ``lock_timeout``. Any other SQLAlchemy URL (``mysql+pymysql://...``) goes
    through eventsourcing-sqlalchemy.

    Raises:
        ConfigurationError: the URL is malformed or names an unsupported backend.

    Examples:
        >>> loc = parse_database_url("postgresql://bob:pw@db:5433/lineage?schema=team")
        >>> loc.env["POSTGRES_HOST"], loc.env["POSTGRES_PORT"], loc.schema
        ('db', '5433', 'team')
        >>> redact_url(loc.sqlalchemy_url)
        'postgresql+psycopg://bob:***@db:5433/lineage'

    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(f"database URL {url!r} is empty; {_EXAMPLES}")
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        return StoreLocation(url, {"PERSISTENCE_MODULE": "eventsourcing.popo"}, "sqlite://")
    if scheme == "sqlite":
        return _sqlite_location(url)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres_location(url)
    if (scheme and "+" in scheme) or scheme in ("mysql", "mariadb", "mssql", "oracle"):
        return _sqlalchemy_location(url)
    raise ConfigurationError(
        f"database URL {redact_url(url)!r} has unsupported scheme {scheme or '(none)'!r}; "
        f"{_EXAMPLES}, or another SQLAlchemy URL such as mysql+pymysql://user@host/db"
    )


def _sqlite_location(url: str) -> StoreLocation:
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    path, _, query = path.partition("?")
    options = dict(parse_qsl(query))
    synchronous = options.pop("synchronous", "normal").upper()
    if synchronous not in ("NORMAL", "FULL") or options:
        raise ConfigurationError(
            f"database URL {redact_url(url)!r} has unsupported options "
            f"{redact_url('?' + query)[1:]!r}; the only option is "
            "?synchronous=normal (default) or ?synchronous=full (fsync every append)"
        )
    if not path or path == ":memory:":
        raise ConfigurationError(
            f"database URL {redact_url(url)!r} names no file; use sqlite:///path/to/lineage.db "
            "(or memory:// for a throwaway store)"
        )
    db_path = Path(path).expanduser().resolve()
    if db_path.is_dir():
        raise ConfigurationError(
            f"database URL {redact_url(url)!r} points at a folder; "
            f"name a file such as {db_path}/lineage.db"
        )
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigurationError(
            f"cannot create the folder of database {str(db_path)!r}: {e.strerror}; "
            "choose a writable location with LINEAGELOG_HOME or LINEAGELOG_DATABASE_URL"
        ) from e
    return StoreLocation(
        url,
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(db_path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "SQLITE_SYNCHRONOUS": synchronous,
        },
        f"sqlite:///{db_path}",
    )


def _postgres_location(url: str) -> StoreLocation:
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port or 5432
    except ValueError as e:
        raise ConfigurationError(
            f"database URL {shown!r} is malformed ({redact_text(str(e), [url])}); "
            "use postgresql://user:password@host:5432/dbname"
        ) from None
    if importlib.util.find_spec("psycopg") is None:
        raise ConfigurationError(
            f"database URL {shown!r} needs psycopg 3, which is not installed; "
            "pip install 'lineagelog[postgres]'"
        )
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname:
        raise ConfigurationError(
            f"database URL {shown!r} names no database; "
            "use postgresql://user:password@host:5432/dbname"
        )
    if not parts.username:
        raise ConfigurationError(
            f"database URL {shown!r} names no user; use postgresql://user:password@host:5432/dbname"
        )
    user, password = unquote(parts.username), unquote(parts.password or "")
    host = parts.hostname or "localhost"
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "8",
    }
    schema: str | None = None
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        value = values[-1]
        if key == "password":  # libpq's spelling; the userinfo's password gives way
            password = value
            env["POSTGRES_PASSWORD"] = value
        elif key == "schema":
            if not _IDENTIFIER.fullmatch(value):
                raise ConfigurationError(
                    f"database URL {shown!r} has schema {value!r}, which is not a plain SQL "
                    "identifier; use letters, digits and underscores (at most 63)"
                )
            schema = value
            env["POSTGRES_SCHEMA"] = value
        elif key in _POSTGRES_OPTIONS and value.isdigit():
            env[_POSTGRES_OPTIONS[key]] = value
        else:
            raise ConfigurationError(
                redact_text(
                    f"database URL {shown!r} has unknown or invalid parameter "
                    f"{key}={'***' if is_secret_parameter(key) else repr(value)}; known "
                    f"parameters: password, schema, {', '.join(sorted(_POSTGRES_OPTIONS))} "
                    "(integers)",
                    [url],
                )
            )
    netloc = quote(user, safe="")
    if password:
        netloc += ":" + quote(password, safe="")
    netloc += f"@{host if ':' not in host else f'[{host}]'}:{port}"
    sqlalchemy_url = f"postgresql+psycopg://{netloc}/{quote(dbname, safe='')}"
    return StoreLocation(url, env, sqlalchemy_url, schema)


def _sqlalchemy_location(url: str) -> StoreLocation:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = redact_url(url)
    try:
        dialect = make_url(url).get_dialect()
        dialect.import_dbapi()
    except (ArgumentError, NoSuchModuleError, ValueError) as e:
        raise ConfigurationError(
            f"database URL {shown!r} is not a SQLAlchemy URL lineagelog can use "
            f"({redact_text(str(e), [url])}); {_EXAMPLES}"
        ) from None
    except ImportError as e:
        raise ConfigurationError(
            f"database URL {shown!r} needs the driver module {e.name!r}, which is not "
            "installed; pip install 'lineagelog[mysql]' (or the driver for your database)"
        ) from None
    if importlib.util.find_spec("eventsourcing_sqlalchemy") is None:
        raise ConfigurationError(
            f"database URL {shown!r} needs eventsourcing-sqlalchemy, which is not installed; "
            "pip install 'lineagelog[mysql]'"
        )
    return StoreLocation(
        url,
        {"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url},
        url,
    )


class EventStore(EventLog):
    """The append-only log of lineage events, and the notification log over it."""

    def __init__(self, url: str) -> None:
        """Open (and create on first use) the log selected by ``url``."""
        self.location = parse_database_url(url)
        self.url = url
        env: dict[str, Any] = {**self.location.env, "CREATE_TABLE": "y"}
        try:
            if self.location.backend == "postgresql":
                with postgres_setup_lock(self.location):
                    _claim_database(self.location)
                    self.recorder: ApplicationRecorder = _open_recorder(env)
            else:
                _claim_database(self.location)
                self.recorder = _open_recorder(env)
        except (PersistenceError, OSError, ImportError) as e:
            raise StorageError(
                f"cannot open the event store at {redact_url(url)!r}: "
                f"{_redact_text(str(e), self.location)}; "
                "check that the database exists, is reachable and is writable"
            ) from e
        except Exception as e:  # a driver error eventsourcing did not translate
            if type(e).__module__.split(".")[0] not in (
                "psycopg",
                "sqlalchemy",
                "pymysql",
                "sqlite3",
            ):
                raise
            raise StorageError(
                f"cannot open the event store at {redact_url(url)!r}: "
                f"{_redact_text(str(e), self.location)}; "
                "check that the database exists, is reachable and is writable"
            ) from e
        transcoder = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
            transcoder.register(transcoding)
        # Decodes only lineagelog's own event types: a stored topic never picks a module to import.
        self.mapper: Mapper[UUID] = DomainEventMapper(transcoder=transcoder)
        self._projection_decoder = ProjectionDecoder(transcoder.names)
        self._lock = threading.Lock()

    def _say(self, error: BaseException) -> str:
        """A driver error's message, without the URL's credentials it may quote."""
        return _redact_text(str(error), self.location)

    @contextmanager
    def setup_lock(self) -> Iterator[None]:
        """Hold the database-wide setup lock (PostgreSQL) while creating tables."""
        if self.location.backend == "postgresql":
            with postgres_setup_lock(self.location):
                yield
        else:
            yield

    # -- writing -----------------------------------------------------------------

    def save(self, *aggregates: Aggregate) -> list[int]:
        """Append the pending events of ``aggregates`` atomically; return their positions.

        Raises:
            ConcurrencyConflict: another writer appended to one of the streams first.
            StorageError: the database failed.

        """
        events = [event for agg in aggregates for event in agg.collect_events()]
        if not events:
            return []
        stored = [self.mapper.to_stored_event(event) for event in events]
        try:
            positions = self.recorder.insert_events(stored)
        except RecordConflictError as e:
            raise ConcurrencyConflict(
                "another writer appended to stream(s) "
                f"{sorted({str(s.originator_id) for s in stored})} first: {self._say(e)}"
            ) from e
        except PersistenceError as e:
            raise StorageError(f"could not append {len(stored)} event(s): {self._say(e)}") from e
        return list(positions or [])

    # -- reading streams -------------------------------------------------------

    def get(
        self, aggregate_id: UUID, *, up_to_version: int | None = None, after: Any = None
    ) -> Any:
        """Rebuild an aggregate from its stream (optionally only up to a stream version).

        ``after`` is an already-loaded aggregate to advance with newer events.
        Returns None when the stream is empty.
        """
        aggregate = after
        gt = after.version if after is not None else None
        for stored in self._select(aggregate_id, gt=gt, lte=up_to_version):
            aggregate = self.mapper.to_domain_event(stored).mutate(aggregate)  # type: ignore[attr-defined]
        return aggregate

    def last_event(self, aggregate_id: UUID) -> Any:
        """The last event of one stream, decoded (None when the stream is empty)."""
        stored = self._select(aggregate_id, desc=True, limit=1)
        return self.mapper.to_domain_event(stored[0]) if stored else None

    def stream_events(self, aggregate_id: UUID) -> list[Any]:
        """All events of one stream, decoded, in order."""
        return [self.mapper.to_domain_event(s) for s in self._select(aggregate_id)]

    def _select(self, aggregate_id: UUID, **kwargs: Any) -> Sequence[Any]:
        try:
            return self.recorder.select_events(aggregate_id, **kwargs)
        except PersistenceError as e:
            raise StorageError(f"could not read stream {aggregate_id}: {self._say(e)}") from e

    # -- reading the notification log -------------------------------------------

    def max_position(self) -> int:
        """Return the position of the last event in the log (0 when empty)."""
        try:
            return self.recorder.max_notification_id() or 0
        except PersistenceError as e:
            raise StorageError(f"could not read the event log: {self._say(e)}") from e

    def read_notifications(
        self, after: int, limit: int, until: int | None = None
    ) -> Sequence[Notification]:
        """Raw stored notifications with positions in ``(after, until]``, at most ``limit``."""
        try:
            return self.recorder.select_notifications(
                start=after, limit=limit, stop=until, inclusive_of_start=False
            )
        except PersistenceError as e:
            raise StorageError(f"could not read the event log after {after}: {self._say(e)}") from e

    def read(self, after: int, limit: int, until: int | None = None) -> list[RecordedEvent]:
        """Return decoded events with positions in ``(after, until]``, at most ``limit``."""
        to_event = self.mapper.to_domain_event
        return [
            RecordedEvent(n.id, to_event(n)) for n in self.read_notifications(after, limit, until)
        ]

    def read_for_projection(
        self, after: int, limit: int, until: int | None = None
    ) -> list[RecordedEvent]:
        """Return the events of ``read`` as light ``ProjectedEvent`` records.

        Plain JSON decoding instead of domain objects (see ``projection_events``);
        on SQLite the rows are read straight from the table, without a
        ``Notification`` and a ``UUID`` per row.
        """
        decode = self._projection_decoder.decode
        try:
            return [
                RecordedEvent(position, decode(dashed_uuid(stream), version, topic, state))
                for position, stream, version, topic, state in self.read_rows(after, limit, until)
            ]
        except UndecodableEvent as e:
            raise StorageError(
                f"could not decode an event of the log after position {after}: {e}; "
                "run `lineagelog audit` to find the damaged event"
            ) from e

    def read_rows(
        self, after: int, limit: int, until: int | None = None
    ) -> list[tuple[int, Any, int, str, bytes]]:
        """Stored events in ``(after, until]`` as (position, stream id, version, topic, state).

        The rows of ``read_notifications``; on SQLite read straight from the
        table, without a ``Notification`` and a ``UUID`` per row (the stream id is
        then hex text, elsewhere a UUID).
        """
        recorder = self.recorder
        if not isinstance(recorder, SQLiteApplicationRecorder):
            return [
                (n.id, n.originator_id, n.originator_version, n.topic, n.state)
                for n in self.read_notifications(after, limit, until)
            ]
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid>? "
        )
        params: list[int] = [after]
        if until is not None:
            statement += "AND rowid<=? "
            params.append(until)
        statement += "ORDER BY rowid LIMIT ?"
        params.append(limit)
        try:
            with recorder.datastore.transaction(commit=False) as wrapper:
                cursor = wrapper.sqlite_cursor
                cursor.row_factory = None  # plain tuples, not sqlite3.Row
                cursor.execute(statement, params)
                rows: list[tuple[int, Any, int, str, bytes]] = cursor.fetchall()
                return rows
        except (PersistenceError, sqlite3.Error) as e:
            raise StorageError(f"could not read the event log after {after}: {self._say(e)}") from e

    def iter_all(self, after: int = 0, page: int = 1000) -> Iterator[RecordedEvent]:
        """Every event after ``after``, reading the log page by page."""
        while True:
            batch = self.read(after, page)
            if not batch:
                return
            yield from batch
            after = batch[-1].position

    def close(self) -> None:
        """Release database connections."""
        datastore = getattr(self.recorder, "datastore", None)
        if datastore is not None and hasattr(datastore, "close"):
            datastore.close()


def _claim_database(location: StoreLocation) -> None:
    """Refuse another application's database before the recorder creates a table in it.

    See ``projections.ownership``: an empty database is claimed with lineagelog's
    marker table, one of an earlier lineagelog has its tables renamed.
    """
    if location.backend == "memory":
        return
    from sqlalchemy.exc import SQLAlchemyError

    from lineagelog.adapters.view_engine import create_view_engine
    from lineagelog.projections.projector import WRITE_OPTION

    engine = create_view_engine(location)
    try:
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
            claim_database(connection, redact_url(location.url), location.schema)
    except SQLAlchemyError as e:
        raise StorageError(
            f"cannot open the database at {redact_url(location.url)!r}: "
            f"{_redact_text(str(e), location)}; "
            "check that the database exists, is reachable and is writable"
        ) from e
    except TypeError as e:  # the driver's connect() refused a URL query parameter
        raise ConfigurationError(
            f"database URL {redact_url(location.url)!r} has a query parameter its driver "
            f"does not accept ({_redact_text(str(e), location)}); remove it from the URL"
        ) from None
    finally:
        engine.dispose()


def _open_recorder(env: dict[str, Any]) -> ApplicationRecorder:
    factory: InfrastructureFactory[Any] = InfrastructureFactory.construct(env)
    pool = getattr(getattr(factory, "datastore", None), "pool", None)
    if pool is not None and hasattr(pool, "_create_connection"):
        _sqlite_synchronous(pool, env.get("SQLITE_SYNCHRONOUS", "NORMAL"))
    return factory.application_recorder()


def _sqlite_synchronous(pool: Any, level: str) -> None:
    """Set ``PRAGMA synchronous`` on every SQLite connection of the event store.

    In WAL mode NORMAL keeps every committed event through a crash or SIGKILL of
    the process (the log stays consistent); only an operating-system crash or
    power loss may lose the last transactions. FULL (``?synchronous=full``)
    also survives those, at an fsync per append.
    """
    create = pool._create_connection

    def create_with_pragma() -> Any:
        connection = create()
        connection._sqlite_conn.execute(f"PRAGMA synchronous = {level}")
        return connection

    pool._create_connection = create_with_pragma


def _redact_text(text: str, location: StoreLocation) -> str:
    """A driver's message without the URL's credentials, which it may quote."""
    text = redact_text(text, [location.url, location.sqlalchemy_url])
    password = location.env.get("POSTGRES_PASSWORD")
    return text.replace(password, "***") if password else text


def connect_postgres(location: StoreLocation) -> Any:
    """Open a psycopg connection (autocommit) to the PostgreSQL database ``location`` names.

    Raises:
        StorageError: naming the redacted URL and what to check; the password
            never appears.

    """
    import psycopg

    env = location.env
    try:
        return psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT") or 10),
            autocommit=True,
        )
    except psycopg.Error as e:
        raise StorageError(
            f"cannot connect to PostgreSQL at {redact_url(location.url)!r}: "
            f"{_redact_text(str(e).strip(), location)}; check host, port, user, password and "
            "that the database exists (createdb)"
        ) from None


@contextmanager
def postgres_setup_lock(location: StoreLocation) -> Iterator[None]:
    """Serialize table creation among processes, and create the schema if it is missing.

    Two workers starting at once would otherwise race on ``CREATE TABLE IF NOT
    EXISTS`` (PostgreSQL raises a unique violation on its catalog for the loser).
    """
    from psycopg import sql

    conn = connect_postgres(location)
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK_KEY,))
        try:
            if location.schema:
                create = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}")
                conn.execute(create.format(sql.Identifier(location.schema)))
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))


_SETUP_LOCK_KEY = 0x6C696E656167  # "lineag": one advisory lock key for lineagelog setup
