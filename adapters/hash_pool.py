"""Hashing a large log on every core: worker processes read and hash position ranges.

Decoding and canonically re-encoding each event is what an audit or an export
spends its time on, and each event hashes independently of the others. Workers
open the same database, each hashes a range of positions, and the caller gets
the ranges back in log order to check the chains and seals sequentially (cheap).
A ``memory://`` log, or a small one, is hashed in this process.

What comes back is pickled, and pickling named tuples or whole payloads costs
a worker a large share of what the hashing costs: a range comes back as plain
tuples (hash, claimed previous hash, where the event is) plus only the payload
fields the caller reads (``Keep``).
"""

from __future__ import annotations

import collections
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from lineagelog.adapters.raw_events import RawEvent, decode_state, hash_content
from lineagelog.adapters.stored_events import UndecodableEvent, check_topic, stream_hex
from lineagelog.domain.seal import advance_digest

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from lineagelog.adapters.event_store import EventStore

__all__ = [
    "KEEP_NOTHING",
    "HashedEvent",
    "HashedRange",
    "Keep",
    "hash_range",
    "hashed_ranges",
    "in_order",
    "parallel_map",
    "position_spans",
    "worker_log",
    "worker_pool",
]

HashedEvent = tuple[int, str, int, str, Any]
"""(position, stream id as 32 hex digits, stream version, event hash, claimed ``previous_hash``)."""

Render = Callable[[RawEvent, bytes], str]
"""Turns a hashed event and its stored bytes into text the caller keeps (the export's line)."""

_PARALLEL_ABOVE = 40_000
_CHUNK = 20_000
_PAGE = 5000
_worker_log: EventStore | None = None


@dataclass(frozen=True)
class Keep:
    """Which payloads a hashed range carries back besides the hashes.

    Those of the topics ending with one of ``topics``, cut to ``fields`` (all of
    the payload when None): a worker sends back only what the caller reads.
    """

    topics: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None

    def cut(self, content: dict[str, Any]) -> dict[str, Any]:
        """The part of a kept payload the caller reads."""
        if self.fields is None:
            return content
        return {name: content[name] for name in self.fields if name in content}


KEEP_NOTHING = Keep()
"""Hashes only (and each event's claimed ``previous_hash``)."""


@dataclass
class HashedRange:
    """The events of a range of positions, hashed, in log order.

    Plain tuples and lists: a worker process sends this back to the caller, and
    pickling them costs a fraction of what named tuples and payload dicts cost.
    """

    events: list[HashedEvent] = field(default_factory=list)
    kept: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    """(index in ``events``, topic, payload as ``Keep.cut`` leaves it) of the kept events."""
    undecodable: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Index in ``events`` -> (topic, why the event does not decode).

    Such an event's hash is ``undecodable:<sha256 of its bytes>`` and it claims
    no previous hash.
    """
    text: str = ""
    """What ``render`` made of the events, joined (the export's lines)."""

    def add(
        self,
        position: int,
        stream: str,
        version: int,
        topic: str,
        content: dict[str, Any],
        keep: Keep,
        *,
        spend: bool = True,
    ) -> str:
        """Hash an event's decoded payload, append the event, and return its hash.

        ``spend``: nothing reads ``content`` afterwards, so hashing may add to it.
        """
        if topic.endswith(keep.topics):
            kept = keep.cut(content)
            spend = spend and kept is not content
            self.kept.append((len(self.events), topic, kept))
        previous = content.get("previous_hash")
        event_hash = hash_content(stream, version, topic, content, in_place=spend)
        self.events.append((position, stream, version, event_hash, previous))
        return event_hash

    def add_undecodable(
        self, position: int, stream: str, version: int, topic: str, state: bytes, error: str
    ) -> None:
        """Append an event whose payload does not decode."""
        self.undecodable[len(self.events)] = (topic, error)
        fold = "undecodable:" + hashlib.sha256(state).hexdigest()
        self.events.append((position, stream, version, fold, None))

    def digest_from(self, running: bytes) -> bytes:
        """The running seal digest ``running`` advanced over every event of the range."""
        for _, stream, version, event_hash, _ in self.events:
            running = advance_digest(running, stream, version, event_hash)
        return running

    def first_undecodable(self) -> tuple[HashedEvent, str, str] | None:
        """The first event that does not decode: (its entry, its topic, why), or None."""
        if not self.undecodable:
            return None
        index = min(self.undecodable)
        return (self.events[index], *self.undecodable[index])


def hash_range(
    events: EventStore, after: int, until: int, keep: Keep, render: Render | None
) -> HashedRange:
    """Hash the events in ``(after, until]``, keeping the payloads ``keep`` names."""
    hashed = HashedRange()
    lines: list[str] = []
    while after < until:
        page = events.read_rows(after, _PAGE, until)
        if not page:
            break
        for position, originator_id, version, topic, state in page:
            stream = stream_hex(originator_id)
            try:
                check_topic(topic)
                content = decode_state(state)
            except UndecodableEvent as e:
                hashed.add_undecodable(position, stream, version, topic, state, str(e))
                continue
            event_hash = hashed.add(
                position, stream, version, topic, content, keep, spend=render is None
            )
            if render is not None:
                raw = RawEvent(position, stream, version, topic, content, event_hash)
                lines.append(render(raw, state))
        after = page[-1][0]
    hashed.text = "".join(lines)
    return hashed


def _work(args: tuple[int, int, Keep, Render | None]) -> HashedRange:
    return hash_range(worker_log(), *args)


def position_spans(
    events: EventStore, after: int, until: int, span: int
) -> Iterator[tuple[int, int]]:
    """Position ranges ``(a, b]`` that cover the events in ``(after, until]``, in order.

    Each starts just before an event that exists, so a gap in the positions
    (an imported log may jump from 5 to 2**53) costs one read, not one range
    per ``span`` positions: the number of ranges follows the number of events.
    """
    while after < until:
        first = events.read_rows(after, 1, until)
        if not first:
            return
        start = first[0][0] - 1
        stop = min(until, start + span)
        yield after, stop
        after = stop


def hashed_ranges(
    events: EventStore,
    after: int,
    until: int,
    *,
    keep: Keep = KEEP_NOTHING,
    render: Render | None = None,
    workers: int | None = None,
    span: int = _CHUNK,
) -> Iterator[HashedRange]:
    """Every event in ``(after, until]``, hashed, in log order, a range at a time.

    ``workers`` processes (default: one per core) share the work when the log
    is on disk and longer than a few tens of thousands of events; ``render``
    must then be a module-level function (it runs in the workers). A range
    covers at most ``span`` positions, and only a few ranges are in memory at
    once (one per worker and one more), so memory does not grow with the log.
    """
    count = (os.cpu_count() or 1) if workers is None else workers
    parallel = count > 1 and until - after > _PARALLEL_ABOVE and events.location.backend != "memory"
    spans = position_spans(events, after, until, span)
    if not parallel:
        for start, stop in spans:
            yield hash_range(events, start, stop, keep, render)
        return
    ranges = ((a, b, keep, render) for a, b in spans)
    with worker_pool(count, log_url=events.url) as pool:
        yield from in_order(pool, _work, ranges, ahead=count + 1)


T = TypeVar("T", bound=Sized)
R = TypeVar("R")


def parallel_map(
    fn: Callable[[T], R],
    chunks: Iterable[T],
    *,
    workers: int | None = None,
    items: int | None = None,
) -> Iterator[R]:
    """Map ``fn`` over ``chunks`` in order, on worker processes for a large job.

    Workers are used above a few tens of thousands of ``items``; ``fn`` must
    then be a module-level function. When ``items`` is None the chunks are a
    stream of unknown length: the first ones are read (counting the items of
    each) until the job is known to be large or has ended. Chunks are read
    from ``chunks`` only a few ahead of the results taken, so a stream of any
    length is mapped in bounded memory.
    """
    count = (os.cpu_count() or 1) if workers is None else workers
    stream = iter(chunks)
    head: collections.deque[T] = collections.deque()
    if items is None:
        items = 0
        for chunk in stream:
            head.append(chunk)
            items += len(chunk)
            if items > _PARALLEL_ABOVE or count <= 1:
                break
    chunks = _popping(head, stream)
    if count <= 1 or items <= _PARALLEL_ABOVE:
        yield from map(fn, chunks)
        return
    with worker_pool(count) as pool:
        yield from in_order(pool, fn, chunks, ahead=count + 1)


def worker_pool(count: int, *, log_url: str | None = None) -> ProcessPoolExecutor:
    """``count`` spawned worker processes (imported here: every run's short seal needs none).

    With ``log_url``, each worker opens that log as it starts, for ``worker_log``:
    without claiming the database again (this process opened it), so a worker
    loads no SQLAlchemy.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    if log_url is None:
        return ProcessPoolExecutor(max_workers=count, mp_context=context)
    return ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=_open_worker_log, initargs=(log_url,)
    )


def worker_log() -> EventStore:
    """The log this worker process opened as it started (``worker_pool(log_url=...)``)."""
    if _worker_log is None:
        raise RuntimeError("worker_log() outside a worker_pool(log_url=...) worker")
    return _worker_log


def _open_worker_log(url: str) -> None:
    from lineagelog.adapters.event_store import EventStore

    global _worker_log
    _worker_log = EventStore(url, opened_elsewhere=True)


def _popping(head: collections.deque[T], rest: Iterator[T]) -> Iterator[T]:
    """The chunks read ahead, then the rest; each let go of once handed on."""
    while head:
        yield head.popleft()
    yield from rest


def in_order(
    pool: ProcessPoolExecutor, fn: Callable[[T], R], chunks: Iterable[T], *, ahead: int
) -> Iterator[R]:
    """``pool.map`` that submits a chunk only when fewer than ``ahead`` are pending.

    ``Executor.map`` submits every chunk at once and keeps every result until it
    is taken: the whole job in memory. This holds ``ahead`` of each.
    """
    pending: collections.deque[Future[R]] = collections.deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(fn, chunk))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:  # stopped early (an error, or the caller had enough)
            future.cancel()
