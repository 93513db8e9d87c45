"""The aggregate base: every event commits to its predecessor in its stream.

Each event carries ``previous_hash``, the digest of the event before it in the
same stream (``GENESIS_HASH`` for the first). An auditor recomputes the chain
from the stored events; one changed byte breaks it, the stored topic (module
and class) included.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from lineagelog.domain.canonical import digest

__all__ = ["EVENT_HASH_FORMAT", "GENESIS_HASH", "LineageAggregate", "event_hash", "event_topic"]

GENESIS_HASH = "0" * 64

EVENT_HASH_FORMAT = 2
"""2: ``__type__`` is the whole topic (``module:Class.Event``); 1 hashed only the class part,
so the module a stored topic names could be rewritten without breaking the chain."""


def event_topic(cls: type) -> str:
    """The topic the event store records for an event class: ``module:Outer.Event``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def event_hash(event: Any) -> str:
    """Digest of an event's whole content, including its topic and ``previous_hash``."""
    # Only the fields the event holds: an event stored before a field was added to its
    # class reads that field's default, but its hash (and the stored payload) never had it.
    held = vars(event)
    content = {f.name: held[f.name] for f in dataclasses.fields(event) if f.name in held}
    content["__type__"] = event_topic(type(event))
    return digest(content)


class LineageAggregate(Aggregate):
    """An aggregate whose events form a hash chain."""

    class Event(Aggregate.Event):
        """Base of every lineagelog event."""

        previous_hash: str

        def mutate(self, aggregate: Any) -> Any:
            """Apply the event, then move the stream's chain head to it."""
            mutated = super().mutate(aggregate)
            assert mutated is not None
            mutated.chain_head = event_hash(self)  # read by trigger_event
            return mutated

    class Created(Event, Aggregate.Created):
        """Base of the first event of a stream."""

    if TYPE_CHECKING:
        chain_head: str

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """Append an event chained to the current head of this stream."""
        kwargs.setdefault("previous_hash", self.chain_head)
        super().trigger_event(event_class, **kwargs)
