"""Decoding the log ahead of the projector, in another process.

A rebuild spends about a third of its time reading stored rows, inflating and
decoding them, and the rest applying them to the views and writing rows, all
on one core. On a machine with a core to spare, a worker process reads and
decodes the next pages (``EventStore.decode_fields``: plain tuples and dicts,
which pickle cheaply) while this process applies the ones it has; only turning
the decoded fields into records is left here. Only a few pages are in flight,
so memory does not grow with the log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.hash_pool import in_order, position_spans, worker_log, worker_pool

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["decoded_pages", "decodes_ahead"]

DECODE_AHEAD_ABOVE = 100_000
"""Events in a range below which starting a worker process costs more than it saves.

At 64k events a rebuild decoded ahead took as long as one decoded here (the worker's
start ate the gain); at 396k it was 18% faster (11,700 against 9,900 events/s on a
slow day)."""

_AHEAD = 3
"""Pages decoded or being decoded ahead of the one being applied."""


def decodes_ahead(events: EventStore, after: int, until: int) -> bool:
    """Whether ``decoded_pages`` would use a worker for the events in ``(after, until]``.

    Yes for a long range of a log on disk, on a machine with more than one core.
    """
    return (
        until - after > DECODE_AHEAD_ABOVE
        and (os.cpu_count() or 1) > 1
        and events.location.backend != "memory"
    )


def decoded_pages(
    events: EventStore, after: int, until: int, page_size: int
) -> Iterator[list[tuple[int, str, dict[str, Any]]]]:
    """The events in ``(after, until]``, decoded by a worker, ``page_size`` positions a page.

    Each page is what ``events.decode_fields`` returns (possibly empty where
    positions were skipped), in log order.

    Raises:
        StorageError: the worker could not read the log, or an event does not decode.

    """
    spans = position_spans(events, after, until, page_size)
    with worker_pool(1, log_url=events.url) as pool:
        yield from in_order(pool, _decode, spans, ahead=_AHEAD)


def _decode(span: tuple[int, int]) -> list[tuple[int, str, dict[str, Any]]]:
    log = worker_log()
    after, until = span
    return log.decode_fields(log.read_rows(after, until - after, until))
