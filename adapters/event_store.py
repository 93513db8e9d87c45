"""The event store: one URL selects where the append-only log lives.

``sqlite:///path`` (embedded default, WAL), ``memory://`` (tests), and, with the
PostgreSQL extra, ``postgresql://...``. The log is eventsourcing's recorder; this
module maps it onto the lineage language and translates driver errors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit
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

from lineagelog.domain.errors import ConfigurationError, StorageError
from lineagelog.projections.ports import EventLog, RecordedEvent

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

__all__ = ["ConcurrencyConflict", "EventStore", "redact_url"]

TAggregate = TypeVar("TAggregate", bound="Aggregate")


class ConcurrencyConflict(StorageError):
    """Another writer appended to the same stream first (optimistic concurrency)."""


def redact_url(url: str) -> str:
    """Hide the password of a database URL, for messages and logs.

    Examples:
        >>> redact_url("postgresql://bob:s3cret@db:5432/lineage")
        'postgresql://bob:***@db:5432/lineage'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True)
class StoreLocation:
    """What a database URL selects: a persistence module and its settings."""

    url: str
    env: dict[str, str]
    sqlalchemy_url: str


def parse_database_url(url: str) -> StoreLocation:
    """Turn a lineagelog database URL into eventsourcing and SQLAlchemy settings.

    Raises:
        ConfigurationError: the URL is malformed or names an unsupported backend.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(
            f"database URL {url!r} is empty; use sqlite:///path/to/lineage.db, "
            "postgresql://user@host:5432/db or memory://"
        )
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        return StoreLocation(url, {"PERSISTENCE_MODULE": "eventsourcing.popo"}, "sqlite://")
    if scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path or path == ":memory:":
            raise ConfigurationError(
                f"database URL {url!r} names no file; use sqlite:///path/to/lineage.db "
                "(or memory:// for a throwaway store)"
            )
        db_path = Path(path).expanduser().resolve()
        if db_path.is_dir():
            raise ConfigurationError(
                f"database URL {url!r} points at a folder; name a file such as {db_path}/lineage.db"
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
            },
            f"sqlite:///{db_path}",
        )
    raise ConfigurationError(
        f"database URL {redact_url(url)!r} has unsupported scheme {scheme or '(none)'!r}; "
        "use sqlite:///path/to/lineage.db, postgresql://user@host:5432/db or memory://"
    )


class EventStore(EventLog):
    """The append-only log of lineage events, and the notification log over it."""

    def __init__(self, url: str) -> None:
        """Open (and create on first use) the log selected by ``url``."""
        self.location = parse_database_url(url)
        self.url = url
        env: dict[str, Any] = {**self.location.env, "CREATE_TABLE": "y"}
        try:
            factory: InfrastructureFactory[Any] = InfrastructureFactory.construct(env)
            self.recorder: ApplicationRecorder = factory.application_recorder()
        except (PersistenceError, OSError) as e:
            raise StorageError(
                f"cannot open the event store at {redact_url(url)!r}: {e}; "
                "check that the database exists, is reachable and is writable"
            ) from e
        transcoder = JSONTranscoder()
        for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
            transcoder.register(transcoding)
        self.mapper: Mapper[UUID] = Mapper(transcoder=transcoder)
        self._lock = threading.Lock()

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
                f"{sorted({str(s.originator_id) for s in stored})} first: {e}"
            ) from e
        except PersistenceError as e:
            raise StorageError(f"could not append {len(stored)} event(s): {e}") from e
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
            aggregate = self.mapper.to_domain_event(stored).mutate(aggregate)
        return aggregate

    def stream_events(self, aggregate_id: UUID) -> list[Any]:
        """All events of one stream, decoded, in order."""
        return [self.mapper.to_domain_event(s) for s in self._select(aggregate_id)]

    def _select(self, aggregate_id: UUID, **kwargs: Any) -> Sequence[Any]:
        try:
            return self.recorder.select_events(aggregate_id, **kwargs)
        except PersistenceError as e:
            raise StorageError(f"could not read stream {aggregate_id}: {e}") from e

    # -- reading the notification log -------------------------------------------

    def max_position(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        try:
            return self.recorder.max_notification_id() or 0
        except PersistenceError as e:
            raise StorageError(f"could not read the event log: {e}") from e

    def read_notifications(
        self, after: int, limit: int, until: int | None = None
    ) -> Sequence[Notification]:
        """Raw stored notifications with positions in ``(after, until]``, at most ``limit``."""
        try:
            return self.recorder.select_notifications(
                start=after, limit=limit, stop=until, inclusive_of_start=False
            )
        except PersistenceError as e:
            raise StorageError(f"could not read the event log after {after}: {e}") from e

    def read(self, after: int, limit: int, until: int | None = None) -> list[RecordedEvent]:
        """Decoded events with positions in ``(after, until]``, at most ``limit``, in order."""
        to_event = self.mapper.to_domain_event
        return [
            RecordedEvent(n.id, to_event(n)) for n in self.read_notifications(after, limit, until)
        ]

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


def default_sqlite_url(home: str | os.PathLike[str]) -> str:
    """The embedded default database inside ``LINEAGELOG_HOME``."""
    return f"sqlite:///{Path(home).expanduser().resolve() / 'lineage.db'}"


