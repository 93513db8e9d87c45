"""Wake-ups for a projection process: "the log may have grown", or a timeout.

On PostgreSQL the event recorder sends ``NOTIFY`` with every append; a
``LISTEN`` connection wakes the daemon at once. Elsewhere the daemon polls.
Either way a wait returns early when the stop event is set.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lineagelog.domain.errors import StorageError

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["ListenWakeup", "PollingWakeup", "open_wakeup"]

Reporter = Callable[[str], None]

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
    """Waits for a PostgreSQL ``NOTIFY`` on the log's channel, the timeout, or the stop.

    When the listening connection drops (a database restart, a network cut), the
    wake-up says so, falls back to waking every timeout, and listens again as
    soon as it can reconnect; each change of state is reported once.
    """

    def __init__(self, events: EventStore, stop: threading.Event, report: Reporter) -> None:
        """Open a dedicated connection and ``LISTEN`` on the recorder's channel.

        Raises:
            StorageError: PostgreSQL cannot be reached at start.

        """
        self._events = events
        self.stop = stop
        self.report = report
        self._notified = False
        self._conn: Any = self._listen()

    def _listen(self) -> Any:
        import psycopg
        from psycopg import sql

        from lineagelog.adapters.postgres import connect_postgres
        from lineagelog.domain.redaction import redact_url

        events = self._events
        channel: str = getattr(events.recorder, "channel_name", "stored_events")
        conn = connect_postgres(events.location)
        try:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        except psycopg.Error as e:
            conn.close()
            raise StorageError(
                f"cannot LISTEN for new events on {redact_url(events.location.url)!r}: "
                f"{str(e).strip()}; check that PostgreSQL is reachable"
            ) from None
        conn.add_notify_handler(self._on_notify)
        return conn

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; return True when the log may have grown.

        That is a notification, or a listening connection lost or restored
        (notifications may have been missed meanwhile).
        """
        if self._conn is None:
            return self._relisten(timeout)
        import psycopg

        try:
            return self._wait_for_notification(timeout)
        except (psycopg.Error, OSError, ValueError) as e:  # ValueError: select() on a closed socket
            self.report(
                f"lost the LISTEN connection ({str(e).strip() or type(e).__name__}); "
                "waking every interval until it is back"
            )
            self.close()
            return True

    def _wait_for_notification(self, timeout: float) -> bool:
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

    def _relisten(self, timeout: float) -> bool:
        self.stop.wait(timeout)
        if self.stop.is_set():
            return False
        try:
            self._conn = self._listen()
        except StorageError:
            return False  # still unreachable: the caller's catch-up reports and retries
        self.report("listening for new events again")
        return True

    def _on_notify(self, _: object) -> None:
        self._notified = True

    def close(self) -> None:
        """Close the listening connection (if it is open)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close
                conn.close()


def open_wakeup(
    events: EventStore, stop: threading.Event, report: Reporter | None = None
) -> ListenWakeup | PollingWakeup:
    """LISTEN/NOTIFY on PostgreSQL, polling elsewhere; ``report`` hears of lost connections."""
    if events.location.backend == "postgresql":
        return ListenWakeup(events, stop, report or (lambda _: None))
    return PollingWakeup(stop)
