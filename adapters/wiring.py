"""Wiring: the one place that opens the event store, the views and the artifact store together.

The composition root (``api.context``) asks for stores by URL and gets them
assembled here, so the way an engine is configured for its driver, the
projector is given its log and the view tables are created lives in one
module, the same for the runner, the Client, replay, the audit and the CLI.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.fsspec_store import FsspecArtifactStore
from lineagelog.adapters.view_engine import (
    create_view_engine,
    sqlite_bulk_writes,
    sqlite_write_locking,
)
from lineagelog.projections.projector import Projector
from lineagelog.projections.queries import ViewQueries

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.projections.lifecycle import LifecycleQueries
    from lineagelog.projections.lineage_queries import LineageQueries
    from lineagelog.projections.ports import EventLog

__all__ = ["LineageStores", "ScratchViews", "Views", "open_stores", "open_views", "scratch_views"]

REPLAY_PAGE_SIZE = 5000
"""Events per transaction when a scratch database is filled from the log."""


@dataclass
class Views:
    """The views of one database: its engine, the projector that fills it, the queries over it."""

    engine: Engine
    projector: Projector
    queries: ViewQueries

    def close(self) -> None:
        """Release the views' connections."""
        self.engine.dispose()


@dataclass
class ScratchViews(Views):
    """Views in a throwaway SQLite file; closing them deletes the file's folder."""

    folder: str = ""

    def close(self) -> None:
        """Release the connections and delete the scratch database."""
        drop_scratch(self.engine, self.folder)


@dataclass
class LineageStores:
    """Everything lineagelog reads and writes, opened together on one set of URLs."""

    events: EventStore
    engine: Engine
    projector: Projector
    queries: ViewQueries
    artifacts: ArtifactStore

    @cached_property
    def lineage(self) -> LineageQueries:
        """Lineage graph queries (networkx loads on first use, not on every pipeline run)."""
        from lineagelog.projections.lineage_queries import LineageQueries

        return LineageQueries(self.engine)

    @cached_property
    def lifecycle(self) -> LifecycleQueries:
        """What the artifact lifecycle commands (delete, prune, gc) read from the views."""
        from lineagelog.projections.lifecycle import LifecycleQueries

        return LifecycleQueries(self.engine)

    def parts(self) -> dict[str, Any]:
        """The stores by field name, to build a richer context from them."""
        return {f.name: getattr(self, f.name) for f in fields(LineageStores)}

    def catch_up(self) -> None:
        """Bring every view up to the end of the log as it is now (read-your-writes)."""
        self.projector.catch_up()

    def close(self) -> None:
        """Release connections."""
        self.events.close()
        self.engine.dispose()


def open_views(events: EventStore) -> Views:
    """Open the views in the database (and schema) of ``events``, creating their tables.

    Raises:
        ConfigurationError: the database belongs to another application or a newer lineagelog.
        StorageError: the database failed.

    """
    engine = create_view_engine(events.location)
    projector = Projector(
        engine, events, bulk_writes=sqlite_bulk_writes, read_only=events.read_only
    )
    if events.read_only:
        projector.check_tables()
        return Views(engine, projector, ViewQueries(engine))
    with events.setup_lock():  # PostgreSQL: many workers may start at once
        projector.create_tables()
    return Views(engine, projector, ViewQueries(engine))


def scratch_views(log: EventLog) -> ScratchViews:
    """Empty views in a new scratch SQLite database, with a projector reading ``log``.

    The caller fills them (``projector.rebuild()``) and must ``close()`` them,
    which deletes the database.
    """
    folder = tempfile.mkdtemp(prefix="lineagelog-replay-")
    engine = create_engine(f"sqlite:///{Path(folder) / 'views.db'}")
    sqlite_write_locking(engine)
    projector = Projector(engine, log, page_size=REPLAY_PAGE_SIZE, bulk_writes=sqlite_bulk_writes)
    return ScratchViews(engine, projector, ViewQueries(engine), folder)


def drop_scratch(engine: Engine, folder: str) -> None:
    """Release ``engine`` and delete the scratch database folder it used."""
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)


def open_stores(database_url: str, artifact_store: str) -> LineageStores:
    """Open the event store, the views and the artifact store the URLs name.

    Raises:
        ConfigurationError: a URL is malformed or names a database lineagelog must not use.
        StorageError: a store could not be opened.

    """
    events = EventStore(database_url)
    views = open_views(events)
    return LineageStores(
        events=events,
        engine=views.engine,
        projector=views.projector,
        queries=views.queries,
        artifacts=FsspecArtifactStore(artifact_store),
    )
