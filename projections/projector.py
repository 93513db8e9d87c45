"""Keeps the views current: catch-up in pages, exactly once, resumable, rebuildable.

Each view records the position of the last event it applied in the same
transaction as its rows. Catch-up reads the notification log a page at a time
and applies a whole page per transaction, re-reading the tracking positions
inside the transaction (locked) so two projectors never apply an event twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import SQLAlchemyError

from lineagelog.domain.errors import ConfigurationError, StorageError
from lineagelog.domain.redaction import redact_url
from lineagelog.projections import schema as t
from lineagelog.projections.batch import PageBatch
from lineagelog.projections.bulk_load import (
    bulk_load_unfinished,
    cyclic_gc_paused,
    finish_bulk_load,
    start_bulk_load,
)
from lineagelog.projections.dispatch import apply_events, dispatch_of
from lineagelog.projections.faults import checkpoint
from lineagelog.projections.online_rebuild import rebuild_online
from lineagelog.projections.ownership import claim_database, old_hash_format_message
from lineagelog.projections.ports import WRITE_OPTION, BulkWrites, EventLog, RecordedEvent
from lineagelog.projections.views import VIEWS

__all__ = [
    "LEAN_REBUILD_PAGE_SIZE",
    "REBUILD_PAGE_SIZE",
    "Progress",
    "Projector",
    "ViewStatus",
    "check_schema_version",
]

SCHEMA_VERSION = "4"
"""The layout of the views, and of the log's hashes.

- 2: events hash their whole topic (``EVENT_HASH_FORMAT`` 2). A version-1 database holds
  a log whose hash chains this lineagelog computes differently, so it is refused.
- 3: artifact URIs relative to their store; views for run tags and tags, artifact
  version names, logged metadata, step source code, and OpenLineage jobs, runs and
  datasets.
- 4: narrower views: the timeline holds only each event's position and moment (as
  microseconds), and indexes no query uses are gone. (The log's rows are written in
  a compact encoding too, which every lineagelog since reads; older rows read as before.)

A database whose views are of an older layout (2 or more) gets its views rebuilt from
the log when it is opened: the log is the only truth, the views are derived."""

_OLD_HASH_SCHEMA = "1"  # the schema version of databases whose events hash format 1

REBUILD_PAGE_SIZE = 20_000
"""Events per transaction during a rebuild (at least; catch-up uses ``page_size``)."""

LEAN_REBUILD_PAGE_SIZE = 5_000
"""Events per transaction of a rebuild in bounded memory (a page is decoded whole)."""

Progress = Callable[[int, int], None]
"""Called after each page with (events applied so far, events to apply in all)."""


@dataclass(frozen=True)
class ViewStatus:
    """Where a view stands relative to the log."""

    view: str
    position: int
    log_position: int

    @property
    def lag(self) -> int:
        """How many positions the view is behind the log."""
        return max(0, self.log_position - self.position)


def check_schema_version(stored: str, engine: Engine) -> None:
    """Refuse a database whose format this lineagelog cannot read or verify.

    Raises:
        ConfigurationError: naming the database's schema version and this one's.

    """
    shown = engine.url.render_as_string(hide_password=True)
    if stored == _OLD_HASH_SCHEMA:
        raise ConfigurationError(old_hash_format_message(shown, stored))
    try:
        found = int(stored)
    except ValueError:
        found = -1
    if found > int(SCHEMA_VERSION) or found < 1:
        raise ConfigurationError(
            f"the lineage database {shown!r} has "
            f"schema version {stored!r}, written by a newer lineagelog; this lineagelog "
            f"understands schema version {SCHEMA_VERSION}: upgrade lineagelog "
            "(pip install -U lineagelog) on this machine"
        )


@contextmanager
def _untuned(_: Connection) -> Iterator[None]:
    """Bulk writes with the driver as it is."""
    yield


def _older_views(stored: str) -> bool:
    """Whether ``stored`` names an older view layout that a rebuild brings up to date."""
    return stored.isdigit() and int(_OLD_HASH_SCHEMA) < int(stored) < int(SCHEMA_VERSION)


class Projector:
    """Applies the event log to the views in one SQL database."""

    def __init__(
        self,
        engine: Engine,
        log: EventLog,
        *,
        page_size: int = 2000,
        bulk_writes: BulkWrites | None = None,
        read_only: bool = False,
        rebuild_page_size: int = REBUILD_PAGE_SIZE,
    ) -> None:
        """Project ``log`` into tables reached through ``engine``.

        ``bulk_writes`` tunes a connection of the driver for loading a whole log
        (the adapters know how; see ``adapters.view_engine.sqlite_bulk_writes``).
        ``rebuild_page_size``: events per transaction when far behind or rebuilding
        (``LEAN_REBUILD_PAGE_SIZE`` and a lean ``bulk_writes`` bound the memory).
        ``read_only``: the database cannot be written, so ``catch_up`` leaves the
        views as they are and warns how far behind the log they are.
        """
        self.read_only = read_only
        self._warned_at = -1
        self.engine = engine.execution_options(**{WRITE_OPTION: True})
        self.log = log
        self.page_size = page_size
        self._bulk_writes: BulkWrites = bulk_writes or _untuned
        self.rebuild_page_size = rebuild_page_size
        self._for_update = engine.dialect.name != "sqlite"

    def create_tables(self) -> None:
        """Create the view tables and tracking rows if they do not exist yet.

        Raises:
            ConfigurationError: the database holds another application's tables
                (see ``projections.ownership``), or was written by a newer lineagelog.
            StorageError: the database failed.

        """
        translate = self.engine.get_execution_options().get("schema_translate_map") or {}
        shown = redact_url(self.engine.url.render_as_string(hide_password=True))
        upgraded = False
        try:
            with self.engine.begin() as conn:  # never create tables in another's database
                claim_database(conn, shown, translate.get(None))
            t.metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                known = set(conn.scalars(select(t.tracking.c.view)))
                missing = [{"view": v, "position": 0} for v in VIEWS if v not in known]
                if missing:
                    conn.execute(t.tracking.insert(), missing)
                stored = conn.scalar(
                    select(t.schema_info.c.value).where(t.schema_info.c.key == "views")
                )
                if stored is None:
                    conn.execute(t.schema_info.insert(), {"key": "views", "value": SCHEMA_VERSION})
                elif _older_views(stored):
                    self._start_rebuild(conn, VIEWS)
                    version = t.schema_info.c.key == "views"
                    conn.execute(update(t.schema_info).where(version).values(value=SCHEMA_VERSION))
                    upgraded = True
                elif stored == _OLD_HASH_SCHEMA and self.log.max_position() == 0:
                    # no event hashed the old way yet: nothing to refuse
                    version = t.schema_info.c.key == "views"
                    conn.execute(update(t.schema_info).where(version).values(value=SCHEMA_VERSION))
                else:
                    check_schema_version(stored, self.engine)
                unfinished = bulk_load_unfinished(conn)
        except SQLAlchemyError as e:
            raise StorageError(f"cannot create the view tables: {e}") from e
        if upgraded:  # views of an older layout: loaded again from the log, in bulk
            self._load_rebuild(VIEWS, None)
        elif unfinished:  # a rebuild was cut short
            self._finish_bulk_load()

    def check_tables(self) -> None:
        """Check, without writing, that the views exist in a layout this lineagelog reads.

        For a database opened read-only, where ``create_tables`` cannot run.

        Raises:
            StorageError: the views are missing or of an older layout (they would
                have to be created or rebuilt, which needs a writable database).
            ConfigurationError: the database was written by a newer lineagelog.

        """
        try:
            with self.engine.connect() as conn:
                stored = conn.scalar(
                    select(t.schema_info.c.value).where(t.schema_info.c.key == "views")
                )
        except SQLAlchemyError as e:
            stored, cause = None, f" ({e.__class__.__name__}: {str(e).splitlines()[0]})"
        else:
            cause = ""
        if stored is None or _older_views(stored):
            raise StorageError(
                f"the database {self.engine.url.database!r} is read-only and its views "
                f"{'are missing' if stored is None else 'are of an older layout'}{cause}; "
                "they can only be built where the database can be written: copy the "
                "project folder somewhere writable and run the command there"
            )
        check_schema_version(stored, self.engine)

    def positions(self, conn: Connection | None = None) -> dict[str, int]:
        """The tracking position of every view."""
        query = select(t.tracking.c.view, t.tracking.c.position)
        if conn is None:
            try:
                with self.engine.connect() as own:
                    rows = own.execute(query).all()
            except SQLAlchemyError as e:
                raise StorageError(f"could not read the views' positions: {e}") from e
        else:
            rows = conn.execute(query.with_for_update() if self._for_update else query).all()
        return {row.view: row.position for row in rows}

    def status(self) -> list[ViewStatus]:
        """Each view's position and the log's, for ``projections status``."""
        log_position = self.log.max_position()
        positions = self.positions()
        return [ViewStatus(v, positions.get(v, 0), log_position) for v in VIEWS]

    def catch_up(
        self,
        until: int | None = None,
        views: Sequence[str] = VIEWS,
        progress: Progress | None = None,
    ) -> int:
        """Apply every event up to ``until`` (default: the log's end now) to ``views``.

        Returns the number of events read. A caller that has just written gets
        read-your-writes by calling this before querying.
        """
        return self._catch_up(until, views, progress, self.page_size)

    def _catch_up(
        self,
        until: int | None,
        views: Sequence[str],
        progress: Progress | None,
        page_size: int,
        connection: Connection | None = None,
    ) -> int:
        if not views:
            return 0
        target = self.log.max_position() if until is None else until
        positions = self.positions()
        start = min(positions.get(v, 0) for v in views)
        if start >= target:
            return 0
        if self.read_only:
            self._warn_behind(start, target)
            return 0
        with cyclic_gc_paused():
            if connection is not None or target - start <= self.rebuild_page_size:
                return self._apply_pages(start, target, views, progress, page_size, connection)
            # Far behind (a new follower, a copied log): bulk writes and rebuild-sized pages.
            page_size = max(page_size, self.rebuild_page_size)
            with self.engine.connect() as conn, self._bulk_writes(conn):
                return self._apply_pages(start, target, views, progress, page_size, conn)

    def _apply_pages(
        self,
        start: int,
        target: int,
        views: Sequence[str],
        progress: Progress | None,
        page_size: int,
        connection: Connection | None,
    ) -> int:
        """Apply the log's pages in ``(start, target]``; returns the number of events."""
        total, applied = target - start, 0
        for page in self.log.pages_for_projection(start, target, page_size):
            self._apply_page(page, views, connection)
            applied += len(page)
            start = page[-1].position
            if progress is not None:
                progress(start - (target - total), total)
        return applied

    def _apply_page(
        self, page: Sequence[RecordedEvent], views: Sequence[str], connection: Connection | None
    ) -> None:
        try:
            with _transaction(self.engine, connection) as conn:
                current = self.positions(conn)
                batch = PageBatch(conn, page)
                last = page[-1].position
                moved = {view for view in views if last > current.get(view, 0)}
                apply_events(batch, page, dispatch_of(views, moved, current))
                batch.flush()
                checkpoint("projector.page")  # rows written, tracking not yet moved
                if moved:
                    # Every view that moved ends at the page's last position: one statement.
                    conn.execute(
                        update(t.tracking)
                        .where(t.tracking.c.view.in_(sorted(moved)))
                        .values(position=page[-1].position)
                    )
        except SQLAlchemyError as e:
            raise StorageError(f"could not apply events to the views: {e}") from e
        checkpoint("projector.committed")

    def rebuild(
        self,
        views: Sequence[str] = VIEWS,
        progress: Progress | None = None,
        *,
        online: bool = False,
    ) -> tuple[int, float]:
        """Recreate the tables of ``views`` and replay the whole log into them.

        Offline (the default), the tables are made anew (in this lineagelog's
        layout) and loaded in bulk (see ``bulk_load``), holding the write lock for
        long stretches; ``create_tables`` finishes a rebuild cut short. ``online``
        loads copies in short transactions while writers and queries carry on,
        then switches them in (see ``online_rebuild``); a rerun finishes one cut
        short. Returns (events read, seconds taken).
        """
        started = time.perf_counter()
        self.create_tables()
        if online:
            count = rebuild_online(
                self.engine, self.log, views, SCHEMA_VERSION, self._bulk_writes, progress
            )
            return count, time.perf_counter() - started
        try:
            with self.engine.begin() as conn:
                self._start_rebuild(conn, views)
        except SQLAlchemyError as e:
            raise StorageError(f"could not empty the views to rebuild them: {e}") from e
        count = self._load_rebuild(views, progress)
        return count, time.perf_counter() - started

    def _start_rebuild(self, conn: Connection, views: Sequence[str]) -> None:
        """Recreate the tables of ``views`` empty and move their tracking back to 0."""
        self.positions(conn)  # takes the lock on PostgreSQL
        start_bulk_load(conn, views)
        conn.execute(update(t.tracking).where(t.tracking.c.view.in_(views)).values(position=0))

    def _load_rebuild(self, views: Sequence[str], progress: Progress | None) -> int:
        """Replay the whole log into the emptied ``views``, then key and index them."""
        # Bigger pages than catch-up: fewer commits, while each transaction still
        # holds the write lock for about a second.
        page_size = max(self.page_size, self.rebuild_page_size)
        with self.engine.connect() as conn, self._bulk_writes(conn):
            count = self._catch_up(None, views, progress, page_size, conn)
            self._finish_bulk_load(conn)
        return count

    def _finish_bulk_load(self, connection: Connection | None = None) -> None:
        """Give a rebuild's tables their keys and indexes (see ``bulk_load``)."""
        try:
            with _transaction(self.engine, connection) as conn:
                finish_bulk_load(conn)
        except SQLAlchemyError as e:
            raise StorageError(
                f"could not index the views: {e}; run `lineagelog projections rebuild`"
            ) from e

    def _warn_behind(self, position: int, log_position: int) -> None:
        """Say once per log position that read-only views answer as they are."""
        if self._warned_at == log_position:
            return
        self._warned_at = log_position
        logging.getLogger("lineagelog").warning(
            "the database is read-only, so the views could not be brought up to date: "
            "they answer as of log position %d, %d event(s) behind the log (position %d)",
            position,
            log_position - position,
            log_position,
        )


@contextmanager
def _transaction(engine: Engine, connection: Connection | None) -> Iterator[Connection]:
    """A transaction on ``connection``, or on a connection of ``engine``'s pool."""
    if connection is None:
        with engine.begin() as conn:
            yield conn
    else:
        with connection.begin():
            yield connection
