"""The event store: the append-only log of lineage events, in the database a URL selects.

The log is eventsourcing's recorder; this module maps it onto the lineage
language and translates driver errors. What a URL selects is
``adapters.database_url``; PostgreSQL's set-up lock is ``adapters.postgres``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
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
    StoredEvent,
    UUIDAsHex,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder

from lineagelog.adapters.database_url import (
    StoreLocation,
    parse_database_url,
    read_only_sqlite,
    redact_location_text,
)
from lineagelog.adapters.event_mapper import DomainEventMapper
from lineagelog.adapters.postgres import postgres_setup_lock
from lineagelog.adapters.projection_events import (
    ProjectionDecoder,
    UndecodableEvent,
    dashed_uuid,
)
from lineagelog.adapters.stored_events import TOPIC_CODES, stored_row
from lineagelog.domain.errors import ConcurrencyConflict, ConfigurationError, StorageError
from lineagelog.domain.redaction import redact_url
from lineagelog.projections.ports import EventLog, RecordedEvent

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

__all__ = ["EventStore", "LogBusy", "Notification", "SavedEvents"]


class LogBusy(Exception):
    """An append ``EventStore.at_once`` refused because it would have waited; nothing appended."""


SavedEvents = Callable[[Sequence[int], Sequence["StoredEvent"]], object]
"""An observer of appends: the positions and the stored events of one successful append."""

# ``Notification`` (eventsourcing's): one stored event as ``read_notifications`` returns it;
# re-exported so the layers above name it through this adapter, not the library.


class EventStore(EventLog):
    """The append-only log of lineage events, and the notification log over it."""

    def __init__(self, url: str, *, opened_elsewhere: bool = False) -> None:
        """Open (and create on first use) the log selected by ``url``.

        ``opened_elsewhere``: another process of the same job opened this log a moment
        ago (checked the database is lineagelog's, created its tables), as for the
        worker processes that hash or decode ranges of it: only open it, which needs
        neither SQLAlchemy nor a write.
        """
        self.location = read_only_sqlite(parse_database_url(url))
        self.url = url
        env: dict[str, Any] = {**self.location.env, "CREATE_TABLE": "y"}
        try:
            if self.location.read_only or opened_elsewhere:  # read what is there
                env["CREATE_TABLE"] = "n"
                self.recorder: ApplicationRecorder = _open_recorder(env)
            elif self.location.backend == "postgresql":
                with postgres_setup_lock(self.location):
                    _claim_database(self.location)
                    self.recorder = _open_recorder(env)
            else:
                _claim_database(self.location)
                self.recorder = _open_recorder(env)
        except (PersistenceError, OSError, ImportError) as e:
            raise StorageError(
                f"cannot open the event store at {redact_url(url)!r}: "
                f"{redact_location_text(str(e), self.location)}; "
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
                f"{redact_location_text(str(e), self.location)}; "
                "check that the database exists, is reachable and is writable"
            ) from e
        transcoder = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
            transcoder.register(transcoding)
        # Decodes only lineagelog's own event types: a stored topic never picks a module to import.
        self.mapper: Mapper[UUID] = DomainEventMapper(transcoder=transcoder)
        self._projection_decoder = ProjectionDecoder(transcoder.names)
        self._lock = threading.Lock()
        self._observers: tuple[SavedEvents, ...] = ()
        self._at_once = threading.local()

    @property
    def read_only(self) -> bool:
        """Whether the database was opened read-only (a SQLite file this process cannot write)."""
        return self.location.read_only

    def _say(self, error: BaseException) -> str:
        """A driver error's message, without the URL's credentials it may quote."""
        return redact_location_text(str(error), self.location)

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
        if self.read_only:
            raise StorageError(
                f"cannot record {len(events)} event(s): the database {redact_url(self.url)!r} "
                "is read-only here (this process cannot write the file or its folder), so it "
                "was opened for reading only; record from a writable copy of the project"
            )
        stored = [self.mapper.to_stored_event(event) for event in events]
        positions: Sequence[int] | None
        try:
            if getattr(self._at_once, "active", False):
                positions = self._insert_at_once(stored)
            else:
                positions = self.recorder.insert_events(stored)
        except RecordConflictError as e:
            raise ConcurrencyConflict(
                "another writer appended to stream(s) "
                f"{sorted({str(s.originator_id) for s in stored})} first: {self._say(e)}"
            ) from e
        except PersistenceError as e:
            raise StorageError(f"could not append {len(stored)} event(s): {self._say(e)}") from e
        saved = list(positions or [])
        for observer in self._observers:
            observer(saved, stored)
        return saved

    @contextmanager
    def at_once(self) -> Iterator[None]:
        """Appends made on this thread inside the block never wait for the log.

        An append that would wait for another writer (a thread of this process,
        or another process holding the SQLite write lock) raises ``LogBusy`` and
        appends nothing, instead of waiting up to the lock timeout. For a caller
        that must not block (the lineage server's event loop), which then hands
        the append to a thread that may wait. Only an embedded SQLite log is
        appended to this way; on any other, every append in the block raises
        ``LogBusy``. Reads are not affected.
        """
        self._at_once.active = True
        try:
            yield
        finally:
            self._at_once.active = False

    def _insert_at_once(self, stored: list[StoredEvent]) -> list[int]:
        """``recorder.insert_events`` with no wait for a lock: ``LogBusy`` where it would wait."""
        recorder = self.recorder
        if not isinstance(recorder, SQLiteApplicationRecorder):
            raise LogBusy("only an embedded SQLite log is appended to without waiting")
        pool = recorder.datastore.pool
        try:  # this process's writer lock, free now or never
            connection = pool.get_connection(timeout=0, is_writer=True)
        except PersistenceError as e:
            raise LogBusy(str(e)) from e
        raw: sqlite3.Connection | None = None
        waits = 0
        try:
            with connection.transaction(commit=True) as cursor:
                raw = cursor.sqlite_cursor.connection
                waits = raw.execute("PRAGMA busy_timeout").fetchone()[0]
                raw.execute("PRAGMA busy_timeout = 0")  # another process's lock: busy at once
                # eventsourcing's own insert, inside our transaction (its public
                # insert_events opens a transaction that waits)
                return list(recorder._insert_events(cursor, stored) or [])
        except PersistenceError as e:  # eventsourcing's, wrapping the driver's error
            cause = e.__cause__
            if isinstance(cause, sqlite3.OperationalError) and cause.sqlite_errorcode in (
                sqlite3.SQLITE_BUSY,
                sqlite3.SQLITE_LOCKED,
            ):
                raise LogBusy(str(cause)) from e
            raise
        finally:
            if raw is not None:
                if raw.in_transaction:  # a COMMIT refused as busy leaves it open: end it here
                    raw.rollback()
                raw.execute(f"PRAGMA busy_timeout = {int(waits)}")
            pool.put_connection(connection)

    def observe(self, observer: SavedEvents) -> None:
        """Call ``observer`` with the positions and stored events of every later append.

        It is called on the appending thread right after the append committed, so it
        must only hand the events on (live OpenLineage emission queues them).
        """
        self._observers = (*self._observers, observer)

    def stop_observing(self, observer: SavedEvents) -> None:
        """No longer call ``observer`` (one that was never added is ignored)."""
        self._observers = tuple(o for o in self._observers if o is not observer)

    def decode_saved(self, position: int, stored: StoredEvent) -> RecordedEvent:
        """One event an observer was handed, decoded as ``read_for_projection`` decodes it.

        Raises:
            StorageError: the event does not decode.

        """
        topic, state = stored_row(stored.topic, stored.state)
        try:
            event = self._projection_decoder.decode(
                str(stored.originator_id), stored.originator_version, topic, state
            )
        except UndecodableEvent as e:
            raise StorageError(f"could not decode the event at position {position}: {e}") from e
        return RecordedEvent(position, event)

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
        """Stored notifications with positions in ``(after, until]``, at most ``limit``.

        Their topics are whole and their payloads JSON, whichever encoding the rows
        have (``stored_events.stored_row``).
        """
        try:
            stored = self.recorder.select_notifications(
                start=after, limit=limit, stop=until, inclusive_of_start=False
            )
        except PersistenceError as e:
            raise StorageError(f"could not read the event log after {after}: {self._say(e)}") from e
        return [
            Notification(n.originator_id, n.originator_version, *stored_row(n.topic, n.state), n.id)
            for n in stored
        ]

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
        return self.decode_rows(self.read_rows(after, limit, until))

    def event_name(self, topic: str) -> str:
        """The class name of the events of ``topic`` (``StepStarted``), to skip rows undecoded.

        Raises:
            StorageError: the topic names no lineagelog event.

        """
        try:
            return self._projection_decoder.event_class(topic).__name__
        except UndecodableEvent as e:
            raise StorageError(f"the log holds an event of unknown topic {topic!r}: {e}") from e

    def decode_rows(self, rows: Sequence[tuple[int, Any, int, str, bytes]]) -> list[RecordedEvent]:
        """Rows of ``read_rows`` decoded as ``read_for_projection`` decodes them.

        Raises:
            StorageError: an event does not decode (the message gives its position).

        """
        decode = self._projection_decoder.decode
        try:
            return [
                RecordedEvent(position, decode(dashed_uuid(stream), version, topic, state))
                for position, stream, version, topic, state in rows
            ]
        except UndecodableEvent:
            raise self._undecodable(rows) from None

    def decode_fields(
        self, rows: Sequence[tuple[int, Any, int, str, bytes]]
    ) -> list[tuple[int, str, dict[str, Any]]]:
        """Rows of ``read_rows`` as (position, topic, the fields of its record), which pickle.

        What a process decoding ahead for another sends it; ``records`` turns
        them into what ``decode_rows`` returns.

        Raises:
            StorageError: an event does not decode (the message gives its position).

        """
        fields = self._projection_decoder.fields
        try:
            return [
                (position, topic, fields(dashed_uuid(stream), version, topic, state))
                for position, stream, version, topic, state in rows
            ]
        except UndecodableEvent:
            raise self._undecodable(rows) from None

    def records(self, decoded: Sequence[tuple[int, str, dict[str, Any]]]) -> list[RecordedEvent]:
        """The events ``decode_fields`` decoded, as ``decode_rows`` returns them.

        Raises:
            StorageError: a topic names no lineagelog event.

        """
        record = self._projection_decoder.record
        recorded = []
        for position, topic, fields in decoded:
            try:
                recorded.append(RecordedEvent(position, record(topic, fields)))
            except UndecodableEvent as e:
                raise _damaged(position, topic, e) from None
        return recorded

    def _undecodable(self, rows: Sequence[tuple[int, Any, int, str, bytes]]) -> StorageError:
        """The error naming the first of ``rows`` that does not decode (rows decoded one by one)."""
        decode = self._projection_decoder.decode
        for position, stream, version, topic, state in rows:
            try:
                decode(dashed_uuid(stream), version, topic, state)
            except UndecodableEvent as e:
                return _damaged(position, topic, e)
        raise AssertionError("a page failed to decode, then each of its events decoded")

    def pages_for_projection(
        self, after: int, until: int, page_size: int
    ) -> Iterator[list[RecordedEvent]]:
        """Every event in ``(after, until]`` as ``read_for_projection`` gives them, by pages.

        A long range of a log on disk is read and decoded ahead in another
        process (``decode_pool``) while the caller applies the pages it has, on a
        machine with a core to spare; a short one, or a ``memory://`` log, is
        read here page after page.
        """
        from lineagelog.adapters.decode_pool import decoded_pages, decodes_ahead

        if not decodes_ahead(self, after, until):
            yield from super().pages_for_projection(after, until, page_size)
            return
        for decoded in decoded_pages(self, after, until, page_size):
            if decoded:
                yield self.records(decoded)

    def read_rows(
        self,
        after: int,
        limit: int,
        until: int | None = None,
        *,
        skip_topics: Collection[str] = (),
    ) -> list[tuple[int, Any, int, str, bytes]]:
        """Stored events in ``(after, until]`` as (position, stream id, version, topic, state).

        The rows of ``read_notifications``; on SQLite read straight from the
        table, without a ``Notification`` and a ``UUID`` per row (the stream id is
        then hex text, elsewhere a UUID). Topics are whole and payloads JSON,
        whichever encoding the rows have (``stored_events.stored_row``).

        ``skip_topics``: whole topics whose rows are left out, for a reader that
        ignores those events (the OpenLineage export). At most ``limit`` rows are
        returned, the skipped ones not counted, so a page may span more positions.
        On SQLite they are left out by the query, never fetched nor inflated.
        """
        recorder = self.recorder
        if not isinstance(recorder, SQLiteApplicationRecorder):
            return self._rows_skipping(after, limit, until, frozenset(skip_topics))
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid>? "
        )
        params: list[int | str] = [after]
        if until is not None:
            statement += "AND rowid<=? "
            params.append(until)
        if skip_topics:  # a row stores a topic's code, or the whole topic (older rows)
            stored = sorted(
                {*skip_topics, *(TOPIC_CODES[t] for t in skip_topics if t in TOPIC_CODES)}
            )
            statement += f"AND topic NOT IN ({','.join('?' * len(stored))}) "
            params.extend(stored)
        statement += "ORDER BY rowid LIMIT ?"
        params.append(limit)
        try:
            with recorder.datastore.transaction(commit=False) as wrapper:
                cursor = wrapper.sqlite_cursor
                cursor.row_factory = None  # plain tuples, not sqlite3.Row
                cursor.execute(statement, params)
                rows: list[tuple[int, Any, int, str, bytes]] = cursor.fetchall()
        except (PersistenceError, sqlite3.Error) as e:
            raise StorageError(f"could not read the event log after {after}: {self._say(e)}") from e
        decode = stored_row
        return [
            (position, stream, version, *decode(topic, state))
            for position, stream, version, topic, state in rows
        ]

    def _rows_skipping(
        self, after: int, limit: int, until: int | None, skip: frozenset[str]
    ) -> list[tuple[int, Any, int, str, bytes]]:
        """``read_rows`` off SQLite: notifications read page by page, the skipped ones dropped."""
        rows: list[tuple[int, Any, int, str, bytes]] = []
        while len(rows) < limit:
            page = self.read_notifications(after, limit, until)
            rows.extend(
                (n.id, n.originator_id, n.originator_version, n.topic, n.state)
                for n in page
                if n.topic not in skip
            )
            if len(page) < limit:
                break
            after = page[-1].id
        return rows[:limit]

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


def _damaged(position: int, topic: str, error: UndecodableEvent) -> StorageError:
    """The error of an event of the log that does not decode, pointing at the audit."""
    return StorageError(
        f"could not decode the event at log position {position} (topic {topic[:100]!r}): "
        f"{error}; run `lineagelog audit` to find the damaged event"
    )


def _claim_database(location: StoreLocation) -> None:
    """Refuse another application's database before the recorder creates a table in it.

    See ``projections.ownership``: an empty database is claimed with lineagelog's
    marker table, one of an earlier lineagelog has its tables renamed.
    """
    if location.backend == "memory":
        return
    # Here, not at the top: a worker process reading an open log needs no SQLAlchemy.
    from sqlalchemy.exc import SQLAlchemyError

    from lineagelog.adapters.view_engine import create_view_engine
    from lineagelog.projections.ownership import claim_database
    from lineagelog.projections.ports import WRITE_OPTION

    engine = create_view_engine(location)
    try:
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
            claim_database(connection, redact_url(location.url), location.schema)
    except SQLAlchemyError as e:
        raise StorageError(
            f"cannot open the database at {redact_url(location.url)!r}: "
            f"{redact_location_text(str(e), location)}; "
            "check that the database exists, is reachable and is writable"
        ) from e
    except TypeError as e:  # the driver's connect() refused a URL query parameter
        raise ConfigurationError(
            f"database URL {redact_url(location.url)!r} has a query parameter its driver "
            f"does not accept ({redact_location_text(str(e), location)}); remove it from the URL"
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
