"""Hashing a large log on every core: worker processes read and hash position ranges.

Decoding and canonically re-encoding each event is what an audit or an export
spends its time on, and each event hashes independently of the others. Workers
open the same database, each hashes a range of positions, and the caller gets
the ranges back in log order to check the chains and seals sequentially (cheap).
A ``memory://`` log, or a small one, is hashed in this process.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from lineagelog.adapters.raw_events import RawEvent, UndecodableEvent, hashed, read_raw

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["Hashed", "hashed_ranges", "parallel_map", "slim"]

Hashed = RawEvent | tuple[int, str, int, str, str, str]
"""A hashed event, or ``(position, stream, version, topic, "undecodable:<sha256>", error)``."""

Render = Callable[[RawEvent, bytes], Any]
"""Turns a hashed event and its stored bytes into what the caller keeps (the export's line)."""

_PARALLEL_ABOVE = 40_000
_CHUNK = 20_000
_PAGE = 5000
_worker_events: EventStore | None = None


def slim(raw: RawEvent, keep: tuple[str, ...]) -> RawEvent:
    """Cut the payload to ``previous_hash`` unless the topic ends with one of ``keep``."""
    if raw.topic.endswith(keep):
        return raw
    return raw._replace(content={"previous_hash": raw.content.get("previous_hash")})


def hash_range(
    events: EventStore, after: int, until: int, keep: tuple[str, ...], render: Render | None
) -> list[tuple[Hashed, Any]]:
    """Hash the events in ``(after, until]``; content is kept whole only for topics in ``keep``."""
    out: list[tuple[Hashed, Any]] = []
    while after < until:
        page = read_raw(events, after, _PAGE, until=until)
        if not page:
            break
        for row in page:
            try:
                raw = hashed(*row)
            except UndecodableEvent as e:
                bad = (
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    "undecodable:" + hashlib.sha256(row[4]).hexdigest(),
                    str(e),
                )
                out.append((bad, None))
                continue
            out.append((slim(raw, keep), render(raw, row[4]) if render is not None else None))
        after = page[-1][0]
    return out


def _init_worker(url: str) -> None:
    from lineagelog.adapters.event_store import EventStore

    global _worker_events
    _worker_events = EventStore(url)


def _work(args: tuple[int, int, tuple[str, ...], Render | None]) -> list[tuple[Hashed, Any]]:
    assert _worker_events is not None
    return hash_range(_worker_events, *args)


def hashed_ranges(
    events: EventStore,
    after: int,
    until: int,
    *,
    keep: tuple[str, ...] = (),
    render: Render | None = None,
    workers: int | None = None,
) -> Iterator[list[tuple[Hashed, Any]]]:
    """Every event in ``(after, until]``, hashed, in log order, a range at a time.

    ``workers`` processes (default: one per core) share the work when the log
    is on disk and longer than a few tens of thousands of events; ``render``
    must then be a module-level function (it runs in the workers).
    """
    count = (os.cpu_count() or 1) if workers is None else workers
    parallel = count > 1 and until - after > _PARALLEL_ABOVE and events.location.backend != "memory"
    if not parallel:
        while after < until:
            stop = min(until, after + _CHUNK)
            yield hash_range(events, after, stop, keep, render)
            after = stop
        return
    ranges = [(a, min(until, a + _CHUNK), keep, render) for a in range(after, until, _CHUNK)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=_init_worker, initargs=(events.url,)
    ) as pool:
        yield from pool.map(_work, ranges)


T = TypeVar("T")
R = TypeVar("R")


def parallel_map(
    fn: Callable[[T], R], chunks: Iterable[T], *, workers: int | None = None, items: int = 0
) -> Iterator[R]:
    """Map ``fn`` over ``chunks`` in order, on worker processes for a large job.

    Workers are used above a few tens of thousands of ``items``; ``fn`` must
    then be a module-level function.
    """
    count = (os.cpu_count() or 1) if workers is None else workers
    if count <= 1 or items <= _PARALLEL_ABOVE:
        yield from map(fn, chunks)
        return
    with ProcessPoolExecutor(
        max_workers=count, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        yield from pool.map(fn, chunks)
