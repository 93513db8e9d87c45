"""What every reader of stored event rows shares, whatever it builds from them.

The audit, the seal writer and the exporter hash stored rows (``raw_events``,
``hash_pool``, ``export``); the projector decodes them into light records
(``projection_events``). They share the error for a row lineagelog did not
write, the check that a topic names one of lineagelog's events, and the two
spellings of a stream id: ``UUID.hex`` (32 lowercase hex digits, what the
recorder and the ``uuid_hex`` transcoding store) and the canonical dashed
string (what events and views hold).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from lineagelog.domain.topics import EVENT_CLASSES

__all__ = ["UndecodableEvent", "check_topic", "dashed_uuid", "parse_stream_id", "stream_hex"]


class UndecodableEvent(ValueError):
    """A stored event lineagelog cannot read as one of its own.

    Its payload is not the JSON object the transcoder writes, it uses a
    transcoding the event store does not register, or its topic names no
    lineagelog event.
    """


_KNOWN_TOPICS = frozenset(EVENT_CLASSES)


def check_topic(topic: str) -> None:
    """Refuse a topic that names no lineagelog event class (nothing is imported for it).

    Raises:
        UndecodableEvent: the topic is not one lineagelog records.

    """
    if topic not in _KNOWN_TOPICS:
        raise UndecodableEvent(
            f"its type {topic!r} is not an event lineagelog records "
            "(a forged or foreign event; lineagelog never imports the module a topic names)"
        )


def dashed_uuid(text: Any) -> str:
    """``str(UUID(text))`` without building a UUID when ``text`` is 32 hex digits.

    Readers call this once or twice per stored event, so the recorder's own
    spelling (``UUID.hex``) is sliced rather than parsed.

    Examples:
        >>> dashed_uuid("000000000000000000000000000000AB")
        '00000000-0000-0000-0000-0000000000ab'

    """
    if type(text) is str and len(text) == 32:
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}".lower()
    return str(text if isinstance(text, UUID) else UUID(str(text)))


_DASHED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_stream_id(text: str) -> str:
    """A stream id read from outside the store (an events file) as 32 lowercase hex digits.

    The usual dashed lowercase form is converted without building a UUID.

    Raises:
        ValueError: ``text`` is not a UUID.

    Examples:
        >>> parse_stream_id("00000000-0000-0000-0000-0000000000ab")
        '000000000000000000000000000000ab'

    """
    if _DASHED_UUID.fullmatch(text):
        return text.replace("-", "")
    return UUID(text).hex


def stream_hex(originator_id: Any) -> str:
    """A stream id as the recorder returned it (hex text or a UUID) as 32 lowercase hex digits.

    Examples:
        >>> stream_hex(UUID(int=171))
        '000000000000000000000000000000ab'

    """
    if isinstance(originator_id, UUID):
        return originator_id.hex
    text = str(originator_id)
    if len(text) == 32 and text == text.lower():
        return text
    return parse_stream_id(text)
