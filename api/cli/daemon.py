"""``lineagelog projections run [--follow]``: keep the views current as a long-running process.

On PostgreSQL the process wakes on ``NOTIFY`` from every append (with the
interval as a safety net); on SQLite it polls every ``--interval`` seconds.
SIGTERM and SIGINT stop it cleanly after the current page; it resumes where it
stopped, because every page records its position with its rows.
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl
from lineagelog.api.cli.projections import projections_app
from lineagelog.domain.errors import ConfigurationError

__all__ = ["run_projections"]


def _say(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    print(f"{stamp} projections: {message}", file=sys.stderr, flush=True)


@projections_app.command("run")
def run_projections(
    follow: Annotated[
        bool,
        typer.Option(
            "--follow/--once",
            help="Keep running and apply new events as they arrive (default: catch up once).",
        ),
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            help="Seconds between polls (SQLite), or the longest wait for a notification "
            "(PostgreSQL).",
            min=0.01,
        ),
    ] = 1.0,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Apply the event log to the views; with --follow, keep them current until stopped."""
    from lineagelog.adapters.wakeup import open_wakeup
    from lineagelog.api.cli.session import open_context_for
    from lineagelog.projections.daemon import ProjectionDaemon

    if interval <= 0:
        raise ConfigurationError(f"--interval {interval} must be positive, e.g. --interval 1")
    context = open_context_for(database_url, artifact_store, catch_up=False, create=True)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    wakeup = open_wakeup(context.events, stop, _say)
    try:
        if follow:
            backend = context.events.location.backend
            how = "LISTEN/NOTIFY" if backend == "postgresql" else f"polling every {interval:g}s"
            _say(f"following the log ({how}); stop with SIGTERM or Ctrl-C")
        daemon = ProjectionDaemon(
            context.projector, wakeup, stop=stop, interval=interval, report=_say
        )
        result = daemon.run(follow=follow)
    finally:
        wakeup.close()
        for sig, handler in previous.items():
            signal.signal(sig, _restorable(handler))
    verb = "stopped" if stop.is_set() else "done"
    _say(f"{verb}: applied {result.applied} events; views at position {result.position}")


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _restorable(handler: Any) -> Any:
    return signal.SIG_DFL if handler is None else handler
