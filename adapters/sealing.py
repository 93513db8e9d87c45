"""Writing seals: fold the events since the last seal into its digest, then append.

Sealing is incremental: the seal stream's head holds the position, count and
running digest of the last seal, so a new seal reads only the events after it.
Runs seal themselves when they end; ``lineagelog audit seal`` seals on demand.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lineagelog.adapters.hash_pool import hashed_ranges
from lineagelog.domain.errors import ConcurrencyConflict, IntegrityError
from lineagelog.domain.seal import SEAL_STREAM_ID, LogSeal

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["SealResult", "seal_log"]

_heads: weakref.WeakKeyDictionary[EventStore, LogSeal] = weakref.WeakKeyDictionary()


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


def _head(events: EventStore) -> LogSeal | None:
    cached = _heads.get(events)
    if cached is not None:
        head = events.get(SEAL_STREAM_ID, after=cached)
    else:
        last = events.last_event(SEAL_STREAM_ID)
        head = None if last is None else LogSeal.resume(last)
    if head is not None:
        _heads[events] = head
    return head if isinstance(head, LogSeal) else None


def seal_log(events: EventStore, *, attempts: int = 3) -> SealResult:
    """Seal every event of the log recorded so far.

    Returns the new seal, or the last one when the only event after it is
    that seal itself. Another writer sealing at the same moment is not an
    error: the seal is recomputed on top of theirs.

    Raises:
        IntegrityError: an event since the last seal no longer decodes (run ``lineagelog audit``).
        StorageError: the database failed.

    """
    for _ in range(attempts):
        head = _head(events)
        start = head.up_to_position if head is not None else 0
        count = head.event_count if head is not None else 0
        digest = bytes.fromhex(head.digest) if head is not None else None
        target = events.max_position()
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
            return SealResult(
                head.up_to_position, head.event_count, head.digest, None, head.version
            )
        seal = head if head is not None else LogSeal.open()
        seal.seal(up_to_position=after, event_count=count + new, digest=running.hex())
        try:
            positions = events.save(seal)
        except ConcurrencyConflict:
            _heads.pop(events, None)
            continue
        except BaseException:
            _heads.pop(events, None)  # the unsaved seal must not stay applied to the head
            raise
        _heads[events] = seal
        return SealResult(
            after, count + new, running.hex(), positions[-1] if positions else None, seal.version
        )
    raise IntegrityError(
        f"could not seal the log after {attempts} attempts: other writers kept sealing first; "
        "run `lineagelog audit seal` again"
    )
