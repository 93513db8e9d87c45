"""The composition root: the context of a run or a client, opened once per settings.

The stores themselves are assembled in ``adapters.wiring``; this module adds
the settings (only ``api`` reads the environment) and the per-process cache.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from lineagelog.adapters.database_url import sqlite_file
from lineagelog.adapters.repository import AggregateRepository
from lineagelog.adapters.wiring import LineageStores, open_stores
from lineagelog.api.config import Settings, resolve_settings
from lineagelog.api.openlineage_live import start_live_emission
from lineagelog.domain.errors import DatabaseNotFoundError

if TYPE_CHECKING:
    from lineagelog.adapters.openlineage.live import LiveEmitter

__all__ = [
    "LineageContext",
    "check_database_exists",
    "new_database_removed_on_failure",
    "open_context",
]


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
    database_url: str | None = None,
    artifact_store: str | None = None,
    home: str | None = None,
    *,
    existing: bool = False,
) -> LineageContext:
    """The shared context for these settings (opened once per process).

    Args:
        database_url: the event log and views (else the settings').
        artifact_store: where artifact bytes are (else the settings').
        home: the folder of the default database and store (else the settings').
        existing: only open a database that exists (read commands): a SQLite
            file that is not there is an error, never created.

    Raises:
        DatabaseNotFoundError: ``existing`` and the SQLite file is missing.

    """
    settings = resolve_settings(database_url, artifact_store, home)
    if existing:
        check_database_exists(settings)
    key = (settings.database_url, settings.artifact_store)
    with _lock:
        context = _contexts.get(key)
        if context is None:
            context = build_context(settings)
            _contexts[key] = context
        return context


def check_database_exists(settings: Settings) -> None:
    """Refuse to go on when ``settings`` name a SQLite database file that does not exist.

    Read commands call this, so a folder without a database is reported, naming
    the file looked for and the setting that chose it, instead of a new empty
    database being created there. Other databases (PostgreSQL...) are servers
    that exist or fail to connect on their own.

    Raises:
        DatabaseNotFoundError: naming the missing file and where its name came from.

    """
    path = sqlite_file(settings.database_url)
    if path is None or path.exists():
        return
    raise DatabaseNotFoundError(
        f"no lineagelog database at {str(path)!r} (chosen by {settings.database_source}); "
        "nothing was created. Run a pipeline here first, or name an existing database "
        "with --database-url, LINEAGELOG_DATABASE_URL or LINEAGELOG_HOME"
    )


@contextlib.contextmanager
def new_database_removed_on_failure(settings: Settings) -> Iterator[None]:
    """Delete the SQLite database the block created if the block fails.

    A refused import must not leave an empty database behind: the next read
    command would find it and say the log is empty instead of that none exists.
    A database that existed before the block is never touched.
    """
    path = sqlite_file(settings.database_url)
    if path is None or path.exists():
        yield
        return
    folder_existed = path.parent.exists()
    try:
        yield
    except BaseException:
        with _lock:
            context = _contexts.pop((settings.database_url, settings.artifact_store), None)
        if context is not None:
            context.close()
        for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        if not folder_existed:
            with contextlib.suppress(OSError):  # only while empty: nothing else is removed
                path.parent.rmdir()
        raise


def close_contexts() -> None:
    """Close every shared context (tests and the CLI call this at exit)."""
    with _lock:
        for context in _contexts.values():
            context.close()
        _contexts.clear()
