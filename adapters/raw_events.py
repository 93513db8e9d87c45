"""Stored events as bytes: hash them without building domain objects.

The audit, the seal writer and the exporter read millions of stored events.
Decoding each into its domain class only to hash it is slow, so this module
computes ``lineagelog.domain.base.event_hash`` straight from the stored JSON:
the transcoder's tagged values (``{"_type_": "uuid_hex", "_data_": ...}``,
``datetime_iso``) become the strings ``to_jsonable`` gives for a UUID and a
datetime, the row's stream id and version are added, and ``__type__`` is the
class part of the topic. A test holds this equal to ``event_hash`` of the
decoded event for every kind of event.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple
from uuid import UUID

from lineagelog.domain.canonical import canonical_bytes

__all__ = ["RawEvent", "UndecodableEvent", "hash_content", "hashed", "stream_hex", "topic_type"]


class UndecodableEvent(ValueError):
    """A stored event whose bytes are not the JSON the transcoder wrote."""


class RawEvent(NamedTuple):
    """One stored event as the auditor sees it: where it is, what it says, its hash."""

    position: int
    stream_id: str  # 32 hex digits
    version: int
    topic: str
    content: dict[str, Any]  # the payload, with tagged values as plain strings
    hash: str


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
        kind, data = obj["_type_"], obj["_data_"]
        if kind == "uuid_hex":
            return str(UUID(hex=data))
        if kind == "datetime_iso":
            return data
        raise UndecodableEvent(f"unknown transcoding {kind!r}")
    return obj


_decoder = json.JSONDecoder(object_hook=_untag)
_dumps = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def stream_hex(originator_id: Any) -> str:
    """A stream id as 32 lowercase hex digits, whatever the recorder returned."""
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(str(originator_id)).hex


def topic_type(topic: str) -> str:
    """The event class's qualified name from its topic (``module:Class.Event``)."""
    return topic.partition(":")[2]


def hash_content(stream_id: str, version: int, topic: str, content: dict[str, Any]) -> str:
    """``event_hash`` of an event from its untagged payload and its row's columns."""
    full = dict(content)
    full["originator_id"] = str(UUID(hex=stream_id))
    full["originator_version"] = version
    full["__type__"] = topic_type(topic)
    try:
        encoded = _dumps(full).encode("utf-8")
    except ValueError:  # NaN or infinity: canonical_bytes spells them out
        encoded = canonical_bytes(full)
    return hashlib.sha256(encoded).hexdigest()


def hashed(position: int, originator_id: Any, version: int, topic: str, state: bytes) -> RawEvent:
    """Decode a stored event's payload and hash it.

    Raises:
        UndecodableEvent: the payload is not valid UTF-8 JSON of an object.
    """
    try:
        content = _decoder.decode(state.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, TypeError) as e:
        raise UndecodableEvent(f"payload does not decode: {e}") from e
    if not isinstance(content, dict):
        raise UndecodableEvent(f"payload is a JSON {type(content).__name__}, not an object")
    stream = stream_hex(originator_id)
    return RawEvent(position, stream, version, topic, content, hash_content(stream, version, topic, content))
