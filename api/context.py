"""The composition root: the context of a run or a client, opened once per settings.

The stores themselves are assembled in ``adapters.wiring``; this module adds
the settings (only ``api`` reads the environment) and the per-process cache.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from lineagelog.adapters.repository import AggregateRepository
from lineagelog.adapters.wiring import LineageStores, open_stores
from lineagelog.api.config import Settings, resolve_settings
from lineagelog.api.openlineage_live import start_live_emission

if TYPE_CHECKING:
    from lineagelog.adapters.openlineage.live import LiveEmitter

__all__ = ["LineageContext", "open_context"]


@dataclass
class LineageContext(LineageStores):
    """Everything a pipeline run or a client needs, wired once per settings.

    The stores come from ``adapters.wiring``; the context adds the settings
    they were opened with and the repository aggregates are changed through.
    """

    settings: Settings = field(kw_only=True)
    live_emission: LiveEmitter | None = field(default=None, kw_only=True)
    """Sends RunEvents while pipelines run when OpenLineage is configured (``openlineage_live``)."""

    @cached_property
    def repository(self) -> AggregateRepository:
        """Where aggregates are changed; it keeps saved ones (a stale one is caught, reloaded)."""
        return AggregateRepository(self.events)

    def close(self) -> None:
        """Drain live OpenLineage emission (bounded), then release connections."""
        if self.live_emission is not None:
            self.live_emission.close()
        super().close()


def build_context(settings: Settings) -> LineageContext:
    """Open the stores named by ``settings`` and create the view tables."""
    stores = open_stores(settings.database_url, settings.artifact_store)
    return LineageContext(
        settings=settings, live_emission=start_live_emission(stores), **stores.parts()
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
