"""A long-running projection process: keep every view current as the log grows.

The daemon catches up in bounded chunks (checking for a stop request between
them), then waits for a wake-up: a notification that the log grew, or the
polling interval. Positions are tracked in the views' own transactions, so a
daemon that is stopped or killed resumes exactly where it stopped, and two
daemons at once never apply an event twice (the projector locks the tracking
rows).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from lineagelog.domain.errors import StorageError

if TYPE_CHECKING:
    from lineagelog.projections.projector import Projector

__all__ = ["DaemonReport", "ProjectionDaemon", "Wakeup"]


class Wakeup(Protocol):
    """Something that returns when the log may have grown, or after a timeout."""

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True when woken by a notification."""
        ...


@dataclass
class DaemonReport:
    """What a daemon run did."""

    applied: int = 0
    rounds: int = 0
    errors: int = 0
    position: int = 0


Reporter = Callable[[str], None]


class ProjectionDaemon:
    """Keeps the views of one projector current until asked to stop."""

    def __init__(
        self,
        projector: Projector,
        wakeup: Wakeup,
        *,
        stop: threading.Event,
        interval: float = 1.0,
        chunk: int = 20_000,
        report: Reporter | None = None,
    ) -> None:
        """Project with ``projector``; wait on ``wakeup`` at most ``interval`` seconds."""
        self.projector = projector
        self.wakeup = wakeup
        self.stop = stop
        self.interval = interval
        self.chunk = chunk
        self.report = report or (lambda _: None)

    def run(self, *, follow: bool = True) -> DaemonReport:
        """Catch up; with ``follow``, keep catching up until ``stop`` is set.

        A failing database (StorageError) is reported and retried after the
        interval while following; without ``follow`` it is raised.
        """
        result = DaemonReport()
        while not self.stop.is_set():
            try:
                applied = self._catch_up_once()
            except StorageError as e:
                if not follow:
                    raise
                result.errors += 1
                self.report(f"error: {e}; retrying in {self.interval:g}s")
                self.stop.wait(self.interval)
                continue
            result.rounds += 1
            result.applied += applied
            if applied:
                self.report(f"applied {applied} events; views at position {self._position()}")
            if not follow:
                break
            self.wakeup.wait(self.interval)
        result.position = self._position()
        return result

    def _catch_up_once(self) -> int:
        """Apply everything up to the log's end now, a chunk at a time, stoppable between."""
        started = time.perf_counter()
        target = self.projector.log.max_position()
        applied = 0
        while not self.stop.is_set():
            lowest = min(self.projector.positions().values(), default=0)
            if lowest >= target:
                break
            step = self.projector.catch_up(until=min(target, lowest + self.chunk))
            if step == 0:  # a gap in positions wider than a chunk: go to the end at once
                step = self.projector.catch_up(until=target)
                applied += step
                break
            applied += step
        if applied:
            elapsed = time.perf_counter() - started
            self.report(f"caught up {applied} events in {elapsed:.2f}s")
        return applied

    def _position(self) -> int:
        return min(self.projector.positions().values(), default=0)
