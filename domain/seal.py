"""Seals: the global log commits to every event up to a position.

Each event already commits to its predecessor in its own stream
(``previous_hash``). A seal closes the gaps between streams: its ``digest`` is
a running hash over ``(stream id, stream version, event hash)`` of every event
of the log, in log order, up to ``up_to_position``, chained from
``SEAL_GENESIS``. Deleting, inserting, reordering or changing any event of a
sealed range changes the digest an auditor recomputes.

The running hash does not include positions, so a log moved to another
backend (export and import) keeps its digests. Seals are events of one
``LogSeal`` stream, written through the normal event store, so a seal is itself
chained and covered by the next seal.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Snapshot

from lineagelog.domain.base import GENESIS_HASH, LineageAggregate, event_hash, event_topic
from lineagelog.domain.errors import SealMovedBackError

__all__ = [
    "SEAL_FORMAT",
    "SEAL_GENESIS",
    "SEAL_STREAM_ID",
    "LogSeal",
    "SealMovedBackError",
    "advance_digest",
]

SEAL_FORMAT = 1
"""Bump when the running-hash framing changes."""

SEAL_GENESIS = "0" * 64
"""The running digest before the first event."""

SEAL_STREAM_ID = uuid5(UUID(int=0), "lineagelog:log-seal")
"""The one stream that holds every seal of a log."""


def advance_digest(previous: bytes, stream_id: str, version: int, event_hash: str) -> bytes:
    """Fold one event into the running digest (raw 32-byte sha256).

    ``stream_id`` is the stream's UUID as 32 lowercase hex digits.

    Examples:
        >>> d = advance_digest(bytes.fromhex(SEAL_GENESIS), "0" * 32, 1, "a" * 64)
        >>> len(d), d.hex() != SEAL_GENESIS
        (32, True)

    """
    return hashlib.sha256(previous + f"{stream_id}|{version}|{event_hash}".encode()).digest()


class LogSeal(LineageAggregate):
    """The log's seals: each ``Sealed`` event commits to every event before a position."""

    class Event(LineageAggregate.Event):
        """Base of the events of ``LogSeal``.

        Its events derive from it as written: eventsourcing would otherwise redefine each
        one under a base of its own making, a second dataclass per event class at import.
        """

    class SealOpened(LineageAggregate.Created, Event):
        """The log's seal stream was opened (before its first seal)."""

        seal_format: int

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.up_to_position = 0
            aggregate.event_count = 0
            aggregate.digest = SEAL_GENESIS

    class Sealed(Event):
        """Every event up to ``up_to_position`` (``event_count`` of them) digests to ``digest``."""

        up_to_position: int
        event_count: int
        digest: str
        previous_digest: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.up_to_position = self.up_to_position
            aggregate.event_count = self.event_count
            aggregate.digest = self.digest

    if TYPE_CHECKING:
        up_to_position: int
        event_count: int
        digest: str

    @classmethod
    def open(cls) -> LogSeal:
        """Open the seal stream of a log (emits ``SealOpened``)."""
        return cls._create(
            cls.SealOpened, id=SEAL_STREAM_ID, previous_hash=GENESIS_HASH, seal_format=SEAL_FORMAT
        )

    @classmethod
    def resume(cls, last: Any) -> LogSeal:
        """The seal stream's state from its last event alone.

        Every ``Sealed`` event carries the whole state (position, count, digest),
        so a process that seals does not replay one event per run ever sealed.
        """
        if isinstance(last, cls.SealOpened):
            resumed: LogSeal = last.mutate(None)
            return resumed
        if not isinstance(last, cls.Sealed):
            raise TypeError(f"{type(last).__name__} is not an event of the seal stream")
        # The supported way to make an aggregate from its state: a snapshot.
        state = {
            "_created_on": last.timestamp,
            "_modified_on": last.timestamp,
            "up_to_position": last.up_to_position,
            "event_count": last.event_count,
            "digest": last.digest,
            "chain_head": event_hash(last),
        }
        snapshot = Snapshot(
            originator_id=last.originator_id,
            originator_version=last.originator_version,
            timestamp=last.timestamp,
            topic=event_topic(cls),
            state=state,
        )
        seal = snapshot.mutate(None)
        assert isinstance(seal, cls)
        return seal

    def seal(self, *, up_to_position: int, event_count: int, digest: str) -> None:
        """Record a seal over the first ``event_count`` events (emits ``Sealed``)."""
        self.check_moves_forward(up_to_position, event_count)
        self.trigger_event(
            self.Sealed,
            up_to_position=up_to_position,
            event_count=event_count,
            digest=digest,
            previous_digest=self.digest,
        )

    def check_moves_forward(self, up_to_position: int, event_count: int) -> None:
        """Raise when a seal would cover less than the previous one."""
        if up_to_position < self.up_to_position or event_count < self.event_count:
            raise SealMovedBackError(
                f"a seal up to position {up_to_position} ({event_count} events) would move back "
                f"from the last seal up to {self.up_to_position} ({self.event_count} events); "
                "seal again from the end of the log"
            )
