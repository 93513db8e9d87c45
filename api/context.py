"""The composition root: one place wires the event store, views and artifact store."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from lineagelog.adapters.artifact_store import ArtifactStore
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.fsspec_store import FsspecArtifactStore
from lineagelog.adapters.repository import AggregateRepository
from lineagelog.adapters.view_engine import create_view_engine
from lineagelog.api.config import Settings, resolve_settings
from lineagelog.projections.projector import Projector
from lineagelog.projections.queries import ViewQueries

if TYPE_CHECKING:
    from lineagelog.projections.lineage_queries import LineageQueries

__all__ = ["LineageContext", "open_context"]


@dataclass
class LineageContext:
    """Everything a pipeline run or a client needs, wired once per settings."""

    settings: Settings
    events: EventStore
    engine: Engine
    projector: Projector
    queries: ViewQueries
    artifacts: ArtifactStore

    @cached_property
    def repository(self) -> AggregateRepository:
        """Where aggregates are changed; it keeps saved ones (a stale one is caught, reloaded)."""
        return AggregateRepository(self.events)

    @cached_property
    def lineage(self) -> LineageQueries:
        """Lineage graph queries (networkx loads on first use, not on every pipeline run)."""
        from lineagelog.projections.lineage_queries import LineageQueries

        return LineageQueries(self.engine)

    def catch_up(self) -> None:
        """Bring every view up to the end of the log as it is now (read-your-writes)."""
        self.projector.catch_up()

    def close(self) -> None:
        """Release connections."""
        self.events.close()
        self.engine.dispose()


def _view_engine(events: EventStore) -> Engine:
    return create_view_engine(events.location)


def build_context(settings: Settings) -> LineageContext:
    """Open the stores named by ``settings`` and create the view tables."""
    events = EventStore(settings.database_url)
    engine = _view_engine(events)
    projector = Projector(engine, events)
    with events.setup_lock():  # PostgreSQL: many workers may start at once
        projector.create_tables()
    return LineageContext(
        settings=settings,
        events=events,
        engine=engine,
        projector=projector,
        queries=ViewQueries(engine),
        artifacts=FsspecArtifactStore(settings.artifact_store),
    )


_contexts: dict[tuple[str, str], LineageContext] = {}
_lock = threading.Lock()


def open_context(
    database_url: str | None = None, artifact_store: str | None = None, home: str | None = None
) -> LineageContext:
    """The shared context for these settings (opened once per process)."""
    settings = resolve_settings(database_url, artifact_store, home)
    key = (settings.database_url, settings.artifact_store)
    with _lock:
        context = _contexts.get(key)
        if context is None:
            context = build_context(settings)
            _contexts[key] = context
        return context


def close_contexts() -> None:
    """Close every shared context (tests and the CLI call this at exit)."""
    with _lock:
        for context in _contexts.values():
            context.close()
        _contexts.clear()
