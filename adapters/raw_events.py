"""Stored events as bytes: hash them without building domain objects.

The audit, the seal writer and the exporter read millions of stored events.
Decoding each into its domain class only to hash it is slow, so this module
computes ``lineagelog.domain.base.event_hash`` straight from the stored JSON:
the transcoder's tagged values (``{"_type_": "uuid_hex", "_data_": ...}``,
``datetime_iso``) become the strings ``to_jsonable`` gives for a UUID and a
datetime, the row's stream id and version are added, and ``__type__`` is the
whole topic (module included: rewriting it breaks the chain). A test holds
this equal to ``event_hash`` of the decoded event for every kind of event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from lineagelog.adapters.stored_events import (
    UndecodableEvent,
    check_topic,
    dashed_uuid,
    stream_hex,
)
from lineagelog.domain.canonical import canonical_bytes

__all__ = ["RawEvent", "decode_state", "hash_content", "hashed", "topic_type"]


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
        if kind == "uuid_hex" and isinstance(data, str):
            return dashed_uuid(data)
        if kind == "datetime_iso":
            return data
        raise UndecodableEvent(f"unknown transcoding {kind!r}")
    return obj


_decoder = json.JSONDecoder(object_hook=_untag)
_plain = json.JSONDecoder()


def _decode(text: str) -> Any:
    """Decode a payload, untagging top-level values in place.

    The object hook (a Python call per object) is used only when tagged values
    are nested deeper.
    """
    content = _plain.decode(text)
    tagged = text.count('"_type_":')
    if not tagged or type(content) is not dict:
        return content
    found = 0
    for key, value in content.items():
        if type(value) is dict and len(value) == 2 and "_type_" in value:
            content[key] = _untag(value)
            found += 1
    return content if found == tagged else _decoder.decode(text)


def _compact_sorted_encoder() -> Callable[[Any], str]:
    """``json.dumps`` with sorted keys, no spaces, UTF-8 as is and no NaN, for JSON values.

    ``JSONEncoder.encode`` builds its C encoder anew for every value; this builds
    it once (there are no cycles to look for in decoded JSON).
    """
    encoder = json.JSONEncoder(
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        check_circular=False,
    )
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # an interpreter without the C accelerator
        return encoder.encode
    encode = make_encoder(
        None, encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
    return lambda value: "".join(encode(value, 0))


_dumps = _compact_sorted_encoder()


def topic_type(topic: str) -> str:
    """Return the event class's qualified name from its topic (``module:Class.Event``)."""
    return topic.partition(":")[2]


def hash_content(
    stream_id: str, version: int, topic: str, content: dict[str, Any], *, in_place: bool = False
) -> str:
    """``event_hash`` of an event from its untagged payload and its row's columns.

    ``in_place`` adds the row's columns to ``content`` itself instead of to a
    copy (for a caller that has no further use for the payload).
    """
    full = content if in_place else dict(content)
    full["originator_id"] = dashed_uuid(stream_id)
    full["originator_version"] = version
    full["__type__"] = topic
    try:
        encoded = _dumps(full).encode("utf-8")
    except ValueError:  # NaN or infinity: canonical_bytes spells them out
        encoded = canonical_bytes(full)
    return hashlib.sha256(encoded).hexdigest()


def decode_state(state: bytes) -> dict[str, Any]:
    """Decode a stored event's payload, its tagged values as plain strings.

    Raises:
        UndecodableEvent: the payload is not valid UTF-8 JSON of an object.

    """
    try:
        content = _decode(state.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, TypeError) as e:
        raise UndecodableEvent(f"payload does not decode: {e}") from e
    if not isinstance(content, dict):
        raise UndecodableEvent(f"payload is a JSON {type(content).__name__}, not an object")
    return content


def hashed(position: int, originator_id: Any, version: int, topic: str, state: bytes) -> RawEvent:
    """Decode a stored event's payload and hash it.

    Raises:
        UndecodableEvent: the payload is not valid UTF-8 JSON of an object, or
            the topic names no lineagelog event.

    """
    check_topic(topic)
    content = decode_state(state)
    stream = stream_hex(originator_id)
    return RawEvent(
        position, stream, version, topic, content, hash_content(stream, version, topic, content)
    )
