"""Writing seals: fold the events since the last seal into its digest, then append.

Sealing is incremental: the seal stream's head holds the position, count and
running digest of the last seal, so a new seal reads only the events after it.
Runs seal themselves when they end; ``lineagelog audit seal`` seals on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lineagelog.adapters.hash_pool import hashed_ranges
from lineagelog.adapters.repository import AggregateRepository
from lineagelog.domain.errors import ConcurrencyConflict, IntegrityError
from lineagelog.domain.seal import SEAL_STREAM_ID, LogSeal

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore
    from lineagelog.adapters.repository import Changes

__all__ = ["SealResult", "seal_log"]


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
    """Seal every event of the log recorded so far.

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
    repository = repository if repository is not None else AggregateRepository(events)
    positions: list[int] = []
    try:
        sealed = repository.change_together(
            lambda changes: _seal(events, changes),
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


def _seal(events: EventStore, changes: Changes) -> SealResult | LogSeal:
    """Fold the events since the head into a new seal; a ``SealResult`` when there is none."""
    head = changes.find(SEAL_STREAM_ID, LogSeal, fastforward=True, load=lambda: _resume(events))
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
        return SealResult(head.up_to_position, head.event_count, head.digest, None, head.version)
    seal = head if head is not None else changes.add(LogSeal.open())
    seal.seal(up_to_position=after, event_count=count + new, digest=running.hex())
    return seal
