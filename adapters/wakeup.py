"""Wake-ups for a projection process: "the log may have grown", or a timeout.

On PostgreSQL the event recorder sends ``NOTIFY`` with every append; a
``LISTEN`` connection wakes the daemon at once. Elsewhere the daemon polls.
Either way a wait returns early when the stop event is set.
"""

from __future__ import annotations

import select
import threading
import time
from typing import TYPE_CHECKING, Any

from lineagelog.domain.errors import StorageError

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["ListenWakeup", "PollingWakeup", "open_wakeup"]

_SLICE = 0.2
"""Seconds between checks of the stop event while listening."""


class PollingWakeup:
    """Waits for the interval (or until stopped): for databases without notifications."""

    def __init__(self, stop: threading.Event) -> None:
        """Wake early when ``stop`` is set."""
        self.stop = stop

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; return False (no notification is possible)."""
        self.stop.wait(timeout)
        return False

    def close(self) -> None:
        """Nothing to release."""


class ListenWakeup:
    """Waits for a PostgreSQL ``NOTIFY`` on the log's channel, the timeout, or the stop."""

    def __init__(self, events: EventStore, stop: threading.Event) -> None:
        """Open a dedicated connection and ``LISTEN`` on the recorder's channel."""
        import psycopg
        from psycopg import sql

        env = events.location.env
        self.stop = stop
        self._notified = False
        channel: str = getattr(events.recorder, "channel_name", "stored_events")
        try:
            self._conn: Any = psycopg.connect(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=env["POSTGRES_PORT"],
                user=env["POSTGRES_USER"],
                password=env["POSTGRES_PASSWORD"],
                autocommit=True,
            )
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self._conn.add_notify_handler(self._on_notify)
        except psycopg.Error as e:
            raise StorageError(
                f"cannot LISTEN for new events on {events.location.url.split('@')[-1]!r}: "
                f"{str(e).strip()}; check that PostgreSQL is reachable"
            ) from None

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; return True when a notification arrived."""
        # psycopg's notifies(timeout=...) can wait forever when its deadline rounds to
        # zero, so wait on the socket here and let a trivial query deliver notifications.
        deadline = time.monotonic() + timeout
        while not self.stop.is_set():
            if self._notified:
                self._notified = False
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([self._conn.fileno()], [], [], min(_SLICE, remaining))
            if readable:
                self._conn.execute("SELECT 1")
        return False

    def _on_notify(self, _: object) -> None:
        self._notified = True

    def close(self) -> None:
        """Close the listening connection."""
        self._conn.close()


def open_wakeup(events: EventStore, stop: threading.Event) -> ListenWakeup | PollingWakeup:
    """LISTEN/NOTIFY on PostgreSQL, polling everywhere else."""
    if events.location.backend == "postgresql":
        return ListenWakeup(events, stop)
    return PollingWakeup(stop)
