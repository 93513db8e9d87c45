"""Writing seals: fold the events since the last seal into its digest, then append.

Sealing is incremental: the seal stream's head holds the position, count and
running digest of the last seal, so a new seal reads only the events after it.

Who seals, and who waits:

- ``seal_log`` (``lineagelog audit seal``, ``Client.seal()``, recovery) waits for
  the log's sealer lock, then seals everything recorded so far.
- ``seal_after_run`` (a run's end) never waits for another sealer. It takes the
  sealer lock only if it is free; when another process holds it, the run ends
  at once and leaves its events to that sealer. A seal covers every event
  before it, so one sealer at a time is enough, and writers ending runs
  together do not queue behind each other's seals or conflict on the one seal
  stream.
- Any sealer (either kind), after releasing the lock, seals again
  (``SEAL_PASSES`` at most, never waiting for the lock) when a run ended while
  it sealed: a run that ended meanwhile and found the lock taken is covered by
  that next pass, or by a sealer that took the lock after it was released
  (which reads the end of the log only once it holds the lock).

What a run's end guarantees: when it returns, its events are covered by a seal
in the log, or by the seal the process holding the sealer lock takes next (the
audit reports them as the unsealed tail until then). Only under a steady stream
of run ends may the newest events wait for the next run's end (or
``lineagelog audit seal``) once that process has made its passes.

The lock is only about waiting: correctness never depends on it. Two seals
racing anyway (a sealer without the lock, an old process) still collide on the
seal stream's version, and the loser recomputes on top of the winner.
PostgreSQL: a session-level advisory lock per database and schema (released
by the server if the process dies). SQLite: ``flock`` on ``<database>-seal`` next to the database.
In memory: a lock of the process.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.hash_pool import hashed_ranges
from lineagelog.adapters.repository import AggregateRepository
from lineagelog.domain.errors import ConcurrencyConflict, IntegrityError, StorageError
from lineagelog.domain.seal import SEAL_STREAM_ID, LogSeal

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore
    from lineagelog.adapters.repository import Changes

__all__ = ["SEAL_PASSES", "SealResult", "seal_after_run", "seal_log", "sealer_lock"]

SEAL_PASSES = 8
"""Seals one sealer takes at most while runs keep ending as it seals.

Each pass seals only what was appended during the one before (a few events, a
few milliseconds), so the last run ends of a burst are covered, and a process
that happens to hold the lock under a steady load stops after a bounded time.
"""


@dataclass(frozen=True)
class SealResult:
    """A seal as written (or the last one, when there was nothing new to seal)."""

    up_to_position: int
    event_count: int
    digest: str
    position: int | None  # where the seal event itself landed; None: nothing new was sealed
    seal_version: int | None = None
    """The seal's version in the seal stream (the seal's id); None when the log has no seal."""

    @property
    def written(self) -> bool:
        """Whether this call appended a new seal."""
        return self.position is not None


def _resume(events: EventStore) -> LogSeal | None:
    """The seal stream's head from its last event alone (no replay of every seal)."""
    last = events.last_event(SEAL_STREAM_ID)
    return None if last is None else LogSeal.resume(last)


def seal_log(
    events: EventStore, *, attempts: int = 3, repository: AggregateRepository | None = None
) -> SealResult:
    """Seal every event of the log recorded so far, waiting for another sealer to finish.

    Returns the new seal, or the last one when the only event after it is
    that seal itself. Another writer sealing at the same moment is not an
    error: the seal is recomputed on top of theirs. ``repository`` (the
    context's) keeps the seal head between seals, so the next seal reads only
    the events after it; without one, the head is read from the log.

    Raises:
        IntegrityError: an event since the last seal no longer decodes (run
            ``lineagelog audit``), or other writers sealed first ``attempts`` times.
        StorageError: the database failed.

    """
    sealed = _seal_passes(events, repository, attempts=attempts, passes=SEAL_PASSES, wait=True)
    assert sealed is not None  # waiting, the first pass always holds the lock
    return sealed


def seal_after_run(
    events: EventStore,
    *,
    repository: AggregateRepository | None = None,
    passes: int = SEAL_PASSES,
) -> SealResult | None:
    """Seal at a run's end without waiting for another sealer (see the module's notes).

    Returns the last seal this call took, or None when another process held
    the sealer lock (that process covers this run's events).

    Raises:
        IntegrityError: as ``seal_log``.
        StorageError: the database failed.

    """
    return _seal_passes(events, repository, attempts=3, passes=passes, wait=False)


def _seal_passes(
    events: EventStore,
    repository: AggregateRepository | None,
    *,
    attempts: int,
    passes: int,
    wait: bool,
) -> SealResult | None:
    """Seal under the sealer lock, then again while runs ended during the last pass.

    ``wait``: wait for the lock the first time (later passes never wait). Returns
    the last seal written (or found), None if the lock was never free. Any sealer
    makes the later passes, an explicit one too: a run's end that found the lock
    taken counts on its holder to cover it.
    """
    result: SealResult | None = None
    for done in range(passes):
        seen: list[int] = []  # the end of the log as this pass read it, under the lock
        with sealer_lock(events, wait=wait and done == 0) as held:
            if not held:
                return result  # the holder seals again after us if a run ended
            sealed = _seal_held(events, attempts, repository, seen)
        result = sealed if sealed.written or result is None else result
        target = seen[-1]  # the end of the log the seal covers (its last attempt's reading)
        if not _run_ended_after(events, target, sealed.position):
            return result  # no run ended while it sealed: nobody counts on another pass
    return result


_RUN_ENDS = frozenset({"RunCompleted", "RunFailed", "RunInterrupted"})
"""The events a run's end appends before it seals (``seal_after_run``)."""

_SCAN_LIMIT = 10_000
"""Events after a seal looked at for a run's end; beyond them, seal again anyway."""


def _run_ended_after(events: EventStore, target: int, own: int | None) -> bool:
    """Whether a run ended after ``target`` (other than by the seal at ``own``).

    Only a run's end relies on another sealer, so growth of the log by anything
    else (steps of runs still going) needs no further pass. An event this cannot
    name, or more than ``_SCAN_LIMIT`` of them, counts as a run's end.
    """
    after, scanned = target, 0
    while scanned < _SCAN_LIMIT:
        page = events.read_notifications(after, 500)
        for row in page:
            if row.id == own:
                continue
            try:
                if events.event_name(row.topic) in _RUN_ENDS:
                    return True
            except StorageError:
                return True
        if len(page) < 500:
            return False
        after, scanned = page[-1].id, scanned + len(page)
    return True


def _seal_held(
    events: EventStore,
    attempts: int,
    repository: AggregateRepository | None,
    seen: list[int],
) -> SealResult:
    """Seal, the sealer lock held; ``seen`` gets the end of the log each attempt read."""
    repository = repository if repository is not None else AggregateRepository(events)
    positions: list[int] = []
    try:
        sealed = repository.change_together(
            lambda changes: _seal(events, changes, seen),
            attempts=attempts,
            on_saved=positions.extend,
            what="seal the log",
        )
    except ConcurrencyConflict as e:
        # An IntegrityError, as before the repository: callers and scripts catch that.
        raise IntegrityError(f"{e}; run `lineagelog audit seal` again") from e
    if isinstance(sealed, SealResult):
        return sealed
    return SealResult(
        sealed.up_to_position,
        sealed.event_count,
        sealed.digest,
        positions[-1] if positions else None,
        sealed.version,
    )


def _seal(events: EventStore, changes: Changes, seen: list[int]) -> SealResult | LogSeal:
    """Fold the events since the head into a new seal; a ``SealResult`` when there is none."""
    head = changes.find(SEAL_STREAM_ID, LogSeal, fastforward=True, load=lambda: _resume(events))
    start = head.up_to_position if head is not None else 0
    count = head.event_count if head is not None else 0
    digest = bytes.fromhex(head.digest) if head is not None else None
    target = events.max_position()
    seen.append(target)
    new, only_seal, after = 0, True, start
    running = digest if digest is not None else bytes(32)
    seal_stream = SEAL_STREAM_ID.hex
    for hashed in hashed_ranges(events, start, target):  # every core for a long range
        bad = hashed.first_undecodable()
        if bad is not None:
            (position, stream, version, *_), _, error = bad
            raise IntegrityError(
                f"cannot seal: the event at position {position} (stream {stream} "
                f"version {version}) {error}; run `lineagelog audit`"
            )
        running = hashed.digest_from(running)
        new += len(hashed.events)
        only_seal = only_seal and all(e[1] == seal_stream for e in hashed.events)
        if hashed.events:
            after = hashed.events[-1][0]
    if head is None and new == 0:
        return SealResult(0, 0, running.hex(), None)
    if head is not None and only_seal:  # nothing but earlier seals since the last seal
        return SealResult(head.up_to_position, head.event_count, head.digest, None, head.version)
    seal = head if head is not None else changes.add(LogSeal.open())
    seal.seal(up_to_position=after, event_count=count + new, digest=running.hex())
    return seal


# -- the sealer lock ----------------------------------------------------------------

_LOCK = 0x6C6F67  # "log": the advisory lock's class; its object is the schema's hash
_process_locks: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_process_locks_guard = threading.Lock()


@contextlib.contextmanager
def sealer_lock(events: EventStore, *, wait: bool) -> Iterator[bool]:
    """Hold the log's sealer lock for the block; yield whether it is held.

    ``wait=False`` yields False at once when another sealer holds it. A backend
    without a lock that spans processes (another SQLAlchemy database, a platform
    without ``flock``) yields True: seals then rely on optimistic concurrency alone.
    """
    backend = events.location.backend
    if backend == "postgresql":
        with _postgres_lock(events, wait=wait) as held:
            yield held
    elif backend == "sqlite":
        with _file_lock(events, wait=wait) as held:
            yield held
    else:
        with _process_lock(events, wait=wait) as held:
            yield held


@contextlib.contextmanager
def _postgres_lock(events: EventStore, *, wait: bool) -> Iterator[bool]:
    """A session-level advisory lock on a pooled connection, per database and schema.

    Not a transaction's: a long seal (hashing millions of events) would outlast
    the pool's idle-in-transaction timeout. The server releases it when the
    process dies; a connection that cannot release it is closed, never pooled.
    """
    import psycopg
    from eventsourcing.persistence import PersistenceError

    datastore = events.recorder.datastore  # type: ignore[attr-defined]  # the PostgreSQL one
    key = (_LOCK, events.location.schema or "public")
    with contextlib.ExitStack() as stack:
        try:
            conn = stack.enter_context(datastore.get_connection())
            if wait:
                conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", key)
                held = True
            else:
                row = conn.execute(
                    "SELECT pg_try_advisory_lock(%s, hashtext(%s)) AS held", key
                ).fetchone()
                held = bool(row and row["held"])
        except PersistenceError as e:
            raise StorageError(
                f"could not take the sealer lock of the log: {events._say(e)}; "
                "check that the database is reachable, then seal again (`lineagelog audit seal`)"
            ) from e
        try:
            yield held
        finally:
            if held:
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)
                except psycopg.Error:
                    conn.close()  # the pool drops it, and the server releases the lock


@contextlib.contextmanager
def _file_lock(events: EventStore, *, wait: bool) -> Iterator[bool]:
    """``flock`` on ``<database>-seal`` (a file of its own: SQLite's own locks are untouched).

    Where that file cannot be opened (a folder this process cannot write), or the
    platform has no ``flock``, every sealer seals and the seal stream arbitrates.
    """
    try:
        import fcntl
    except ImportError:
        yield True
        return
    database = events.location.env.get("SQLITE_DBNAME", "")
    if not database or database.startswith("file:") or ":memory:" in database:
        with _process_lock(events, wait=wait) as held:
            yield held
        return
    path = Path(database).with_name(Path(database).name + "-seal")
    try:
        handle = open(path, "a+b")  # noqa: SIM115 (closed below, after the body)
    except OSError:
        yield True
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _process_lock(events: EventStore, *, wait: bool) -> Iterator[bool]:
    with _process_locks_guard:
        lock = _process_locks.setdefault(events, threading.Lock())
    if not lock.acquire(blocking=wait):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
