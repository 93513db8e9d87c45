"""Live OpenLineage emission: RunEvents sent while pipelines run, off the appending thread.

``LiveEmitter`` observes the event store (``EventStore.observe``): after every
append the appending thread only puts the stored events on a queue. A
background thread decodes those that map to RunEvents (``RowDecoder``), maps
them (``RunEventMapper``, which finds
artifact versions of earlier runs through ``lookup``) into the JSON lines the
export writes, and sends each through an openlineage-python transport, unless
``keep`` (the client's ``filters``) drops it. A file transport appending to a
local file gets those lines as they are, a batch at a time (``line_writer``):
the client would parse and serialize each event again and open the file for it,
which cost more than all the rest of the emission. A consumer that is down, slow or refusing never
fails or stalls a pipeline: its errors are caught, logged (once per run of
failures) and counted, and the figures are added to ``DeliveryStatusStore``
with the first log position not delivered, from which ``lineagelog openlineage
send --since`` delivers the rest later.

Only lineagelog's own events are emitted: RunEvents another tool sent in
(``OpenLineageEvent.Received``) already reached their own consumers.

The thread waits for a quiet moment before it builds and sends: nothing
appended for ``quiet`` seconds (a step computing, the run done), or at most
``_LONGEST_WAIT`` seconds. A run of quick steps is not slowed by its own
emission, which follows it by a moment; a long step's events go out at once.

Closing waits a bounded time for the queue to drain; what is still queued or in
flight then is counted as undelivered.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from lineagelog.adapters.openlineage.mapping import (
    DEFAULT_NAMESPACE,
    ArtifactLookup,
    RunEventMapper,
)
from lineagelog.adapters.openlineage.rows import RowDecoder
from lineagelog.adapters.openlineage.transport import line_writer
from lineagelog.adapters.stored_events import stored_row
from lineagelog.domain.errors import LineageError
from lineagelog.domain.openlineage import OpenLineageEvent

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from eventsourcing.persistence import StoredEvent

    from lineagelog.adapters.event_store import EventStore
    from lineagelog.adapters.openlineage.delivery import DeliveryStatusStore

__all__ = ["DeliveryFigures", "LiveEmitter"]

_log = logging.getLogger(__name__)

_STOP = None

_Item: TypeAlias = "tuple[Sequence[int], Sequence[StoredEvent]] | threading.Event | None"
"""What the queue holds: an append's events, a ``wait_sent`` marker, or the stop."""
_FLUSH_EVERY = 2.0
"""Seconds between writes of the figures while failures happen (the database is shared)."""
_LONGEST_WAIT = 2.0
"""Seconds the emitter waits at most for a quiet moment before it sends anyway."""
_BATCH = 64
"""RunEvent lines written at once by a line writer (the GIL is handed back between batches)."""

_RECEIVED = OpenLineageEvent.Received.__name__


@dataclass(frozen=True)
class DeliveryFigures:
    """What this emitter did so far: RunEvents delivered and not, the first position owed."""

    delivered: int
    failed: int
    first_undelivered: int | None
    last_error: str | None


class LiveEmitter:
    """Sends the RunEvents of every later append through ``transport``, in a background thread."""

    def __init__(
        self,
        events: EventStore,
        transport: Any,
        *,
        consumer: str,
        status: DeliveryStatusStore,
        namespace: str = DEFAULT_NAMESPACE,
        lookup: ArtifactLookup | None = None,
        schema_base: str | None = None,
        drain: float = 5.0,
        locate: Callable[[str], str] = str,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        quiet: float = 0.1,
    ) -> None:
        """Start emitting what is appended to ``events`` from now on.

        ``transport`` is an openlineage-python transport (``emit(event)``; the
        file it appends to, for a file transport that has a ``line_writer``);
        ``consumer`` names it in the delivery figures (its URL, its file...);
        ``schema_base`` is where lineagelog's facet schemas are served (see
        ``RunEventMapper``); ``drain`` is how long ``close`` waits for what is still queued;
        ``locate`` gives the full URL of a recorded artifact URI (see ``RunEventMapper``);
        ``keep`` says whether to send a RunEvent (the client's ``filters``), else all are sent;
        RunEvents are built and sent once nothing was appended for ``quiet`` seconds
        (while a step computes, or after the run), or after ``_LONGEST_WAIT`` seconds
        of appends (0: at once).
        """
        self.consumer = consumer
        self._events = events
        self._transport = transport
        self._status = status
        self._mapper = RunEventMapper(
            namespace, lookup=lookup, schema_base=schema_base, locate=locate
        )
        self._decoder = RowDecoder(events)
        self._wanted: dict[str, bool] = {}  # topic -> whether its events map to RunEvents
        self._keep = keep
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._outbox: deque[tuple[int, str]] = deque()  # (log position, RunEvent line)
        self._write_lines = line_writer(transport)
        self._in_flight: list[int] = []
        self._held: tuple[Sequence[int], Sequence[StoredEvent]] | None = None
        self._closing = False
        self._quiet = quiet
        self._lock = threading.Lock()
        self._stopped = False
        self._failing = False
        self._delivered = self._failed = 0
        self._unflushed = (0, 0)
        self._first_undelivered: int | None = None
        self._last_error: str | None = None
        self._flushed_at = 0.0
        self._drain = drain
        self._closed: DeliveryFigures | None = None
        self._thread = threading.Thread(
            target=self._work, name="lineagelog-openlineage", daemon=True
        )
        self._thread.start()
        events.observe(self.saved)

    def saved(self, positions: Sequence[int], stored: Sequence[StoredEvent]) -> None:
        """The observer: queue one append's events (all the appending thread does)."""
        self._queue.put((positions, stored))

    def figures(self) -> DeliveryFigures:
        """The figures so far (this emitter's own, not yet those of other processes)."""
        with self._lock:
            return DeliveryFigures(
                self._delivered, self._failed, self._first_undelivered, self._last_error
            )

    def close(self, timeout: float | None = None) -> DeliveryFigures:
        """Stop observing, wait for what is queued, record the figures; again: the same figures.

        It waits up to ``timeout`` seconds (default: ``drain``); what is still
        queued or in flight then counts as undelivered.
        """
        if self._closed is not None:
            return self._closed
        timeout = self._drain if timeout is None else timeout
        self._events.stop_observing(self.saved)
        self._closing = True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        with self._lock:
            self._stopped = True
            if self._thread.is_alive():
                self._abandon(timeout)
        figures = self.figures()
        self._flush(final=True)
        if figures.failed:
            since = (figures.first_undelivered or 1) - 1
            _log.warning(
                "OpenLineage: %d event(s) were not delivered to %s (last error: %s); send them "
                "with `lineagelog openlineage send --since %d`",
                figures.failed,
                self.consumer,
                figures.last_error,
                since,
            )
        self._closed = figures
        return figures

    # -- the background thread ---------------------------------------------------------

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):  # all before it was sent: FIFO
                item.set()
                continue
            with self._lock:
                self._held = item
            self._wait_for_quiet()
            with self._lock:
                self._held = None
                if self._stopped:
                    return
                self._outbox.extend(self._map(*item))
                stopping, markers = self._take_queued()
            time.sleep(0)
            while self._send_next():
                time.sleep(0)  # hand the GIL back between events: the run comes first
            for marker in markers:
                marker.set()
            if self._failing and time.monotonic() - self._flushed_at > _FLUSH_EVERY:
                self._flush()
            if stopping:
                return

    def _wait_for_quiet(self) -> None:
        """Wait until nothing was appended for ``quiet`` seconds (at most ``_LONGEST_WAIT``).

        While a run appends step after step, building and sending its RunEvents
        would take the GIL from it; they are sent when it computes (or is done).
        """
        if self._quiet <= 0:
            return
        waited_since = time.monotonic()
        seen = self._queue.qsize()
        while not self._closing and time.monotonic() - waited_since < _LONGEST_WAIT:
            time.sleep(self._quiet)
            now = self._queue.qsize()
            if now == seen:
                return
            seen = now

    def _take_queued(self) -> tuple[bool, list[threading.Event]]:
        """Map what else is queued into the outbox (the lock is held).

        Returns whether a stop came, and the ``wait_sent`` markers to set once the
        outbox is sent.
        """
        markers: list[threading.Event] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False, markers
            if item is _STOP:
                return True, markers
            if isinstance(item, threading.Event):
                markers.append(item)
            else:
                self._outbox.extend(self._map(*item))

    def wait_sent(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until what was appended so far is sent (or failed).

        Returns whether it was: a script can make sure its events are out before it
        goes on, a benchmark that a run's emission is not charged to the next run.
        """
        if self._closed is not None:  # all was sent or counted as undelivered
            return True
        if not self._thread.is_alive():
            return False
        sent = threading.Event()  # set by the thread once all queued before it is sent
        self._queue.put(sent)
        return sent.wait(timeout)

    def _map(
        self, positions: Sequence[int], stored: Sequence[StoredEvent]
    ) -> list[tuple[int, str]]:
        rows = []
        for position, one in zip(positions, stored, strict=True):
            topic, state = stored_row(one.topic, one.state)  # the one decode of a stored row
            try:
                wanted = self._wanted.get(topic)
                if wanted is None:
                    name = self._events.event_name(topic)
                    wanted = self._mapper.handles(name) and name != _RECEIVED
                    self._wanted[topic] = wanted
            except LineageError as e:
                self._count_failure(position, f"could not map the event: {e}")
                continue
            if wanted:  # decode only what maps (not a tag, a view row, another tool's event)
                rows.append((position, one.originator_id, one.originator_version, topic, state))
        mapped: list[tuple[int, str]] = []
        keep = self._keep
        for row in rows:
            position = row[0]
            try:
                ((_, event),) = self._decoder.decode([row])
                for line in self._mapper.lines(event):
                    if keep is None or keep(json.loads(line)):
                        mapped.append((position, line))
            except (LineageError, KeyError, AttributeError, TypeError, ValueError) as e:
                self._count_failure(position, f"could not map the event: {e}")
        return mapped

    def _send_next(self) -> bool:
        """Send the next RunEvent, or the next batch of lines to a line writer; False: none."""
        with self._lock:
            if self._stopped or not self._outbox:
                return False
            take = _BATCH if self._write_lines is not None else 1
            batch = [self._outbox.popleft() for _ in range(min(take, len(self._outbox)))]
            self._in_flight = [position for position, _ in batch]
        try:
            if self._write_lines is not None:
                self._write_lines([line for _, line in batch])
            else:
                self._transport.emit(json.loads(batch[0][1]))
        except Exception as e:  # any transport's failure: requests, kafka, a file...
            error: str | None = f"{type(e).__name__}: {e}"
        else:
            error = None
        with self._lock:
            self._in_flight = []
            if self._stopped:  # close() counted it as undelivered already
                return False
            if error is None:
                self._delivered += len(batch)
                self._unflushed = (self._unflushed[0] + len(batch), self._unflushed[1])
                self._failing = False
            else:
                for position, _ in batch:
                    self._count_failure(position, error)
        return True

    def _count_failure(self, position: int, error: str) -> None:
        """Count one undelivered RunEvent (the lock is held)."""
        if not self._failing:
            _log.warning(
                "OpenLineage: could not deliver the event of log position %d to %s: %s; the "
                "pipeline goes on, failures are counted (`lineagelog openlineage status`)",
                position,
                self.consumer,
                error,
            )
        self._failing = True
        self._failed += 1
        self._unflushed = (self._unflushed[0], self._unflushed[1] + 1)
        if self._first_undelivered is None or position < self._first_undelivered:
            self._first_undelivered = position
        self._last_error = error

    def _abandon(self, timeout: float) -> None:
        """Count what is queued or in flight as undelivered (the lock is held)."""
        left = [(position, "") for position in self._in_flight]
        left.extend(self._outbox)
        self._outbox.clear()
        if self._held is not None:
            left.extend(self._map(*self._held))
            self._held = None
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, threading.Event):
                item.set()  # nothing more will be sent: let a waiter go
            elif item is not _STOP:
                left.extend(self._map(*item))
        error = f"still queued when the process ended ({timeout:g}s to drain)"
        for position, _ in left:
            self._count_failure(position, error)

    def _flush(self, *, final: bool = False) -> None:
        """Add the unrecorded figures to the store; kept for the next time if it is busy."""
        with self._lock:
            delivered, failed = self._unflushed
            self._unflushed = (0, 0)
            first, error = self._first_undelivered, self._last_error
            self._flushed_at = time.monotonic()
        if not (delivered or failed):
            return
        try:
            self._status.add(
                self.consumer,
                delivered=delivered,
                failed=failed,
                first_undelivered=first,
                last_error=error if failed else None,
            )
        except LineageError as e:  # a busy database while a run appends: next time
            with self._lock:
                self._unflushed = (self._unflushed[0] + delivered, self._unflushed[1] + failed)
            if final:
                _log.warning("OpenLineage: could not record the delivery figures: %s", e)
