"""Stored events into domain events, for lineagelog's own event classes only.

eventsourcing's ``Mapper`` finds an event's class with ``resolve_topic``, which
imports whatever module the stored topic names. A topic is data (a row of the
database, a line of an events file), so this mapper first looks it up among
lineagelog's domain events (``lineagelog.domain.topics``) and refuses any
other: the library then only resolves a topic of a module already imported.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from lineagelog.adapters.stored_events import encode_row, stored_row
from lineagelog.domain.errors import IntegrityError
from lineagelog.domain.topics import event_class

__all__ = ["DomainEventMapper"]


class DomainEventMapper(Mapper[UUID]):
    """A ``Mapper`` that decodes only the event classes lineagelog defines.

    It stores rows in the compact encoding of ``stored_events`` (a topic code, the
    payload deflated) and reads rows of either encoding through ``stored_row``.
    """

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Encode a domain event as a compact stored row."""
        plain = super().to_stored_event(domain_event)
        topic, state = encode_row(plain.topic, plain.state)
        return StoredEvent(plain.originator_id, plain.originator_version, topic, state)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Decode a stored event whose topic names a lineagelog event class.

        Raises:
            IntegrityError: the topic names no lineagelog event; nothing was imported.

        """
        topic, state = stored_row(stored_event.topic, stored_event.state)
        if event_class(topic) is None:
            raise IntegrityError(
                f"the event of stream {stored_event.originator_id} version "
                f"{stored_event.originator_version} has type {topic!r}, which is "
                "not an event lineagelog records: the log was forged or written by another "
                "program; nothing was imported for it. Run `lineagelog audit` to see the damage"
            )
        return super().to_domain_event(
            StoredEvent(stored_event.originator_id, stored_event.originator_version, topic, state)
        )
