"""Stored events decoded for the OpenLineage mapper, lighter than the projector's decoder.

``EventStore.decode_rows`` untags the transcoder's tagged values
(``{"_type_": "uuid_hex", "_data_": ...}``) found at the top of a payload and
decodes a payload whose tags sit deeper a second time, with a hook per JSON
object: a step's inputs and a cache decision's reused outputs (name -> version
id) take that path, most of the events an export maps. ``RowDecoder`` untags
the top level and the values of a dict field too, in one pass; a payload with
any other tag, or one that does not decode, goes to ``decode_rows``, which
decodes it (or says why it cannot). The records are the same either way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.projection_events import ProjectionDecoder, dashed_uuid
from lineagelog.adapters.stored_events import UndecodableEvent

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["RowDecoder"]

Row = tuple[int, Any, int, str, Any]
"""(position, stream id, version, topic, state), as ``EventStore.read_rows`` gives them."""


_raw_decode = json.JSONDecoder().raw_decode


class _Deeper(Exception):
    """A tag this decoder leaves to ``decode_rows``."""


class RowDecoder:
    """Decodes rows of ``events`` into the records ``decode_rows`` makes (``ProjectedEvent``)."""

    def __init__(self, events: EventStore) -> None:
        """Decode rows of ``events`` (which decodes what this decoder does not)."""
        self._events = events
        self._classes = ProjectionDecoder({})  # its record classes, by topic (checked)

    def decode(self, rows: Sequence[Row]) -> list[tuple[int, Any]]:
        """(position, record) of each row.

        Raises:
            StorageError: an event does not decode (``decode_rows``' message).

        """
        decoded: list[tuple[int, Any]] = []
        event_class = self._classes.event_class
        for row in rows:
            position, stream, version, topic, state = row
            try:
                text = state if type(state) is str else bytes(state).decode("utf-8")
                fields, end = _raw_decode(text)  # the transcoder writes no whitespace around
                if type(fields) is not dict or end != len(text):
                    raise _Deeper
                if _untag(fields) != text.count('"_type_"'):
                    raise _Deeper  # a tag deeper down (or the text inside a string)
                fields.pop("class_version", None)
                fields["originator_id"] = dashed_uuid(stream)
                fields["originator_version"] = version
                record = object.__new__(event_class(topic))
                record.__dict__ = fields
            except (_Deeper, ValueError, UndecodableEvent):
                (recorded,) = self._events.decode_rows([row])
                record = recorded.event
            decoded.append((position, record))
        return decoded


def _untag(fields: dict[str, Any]) -> int:
    """Untag the top-level values of ``fields`` and those of its dict values; count them."""
    found = 0
    for key, value in fields.items():
        if type(value) is dict:
            if "_type_" in value:
                fields[key] = _value(value)
                found += 1
            else:
                for inner, nested in value.items():
                    if type(nested) is dict and "_type_" in nested:
                        value[inner] = _value(nested)
                        found += 1
    return found


def _value(tagged: dict[str, Any]) -> str:
    if len(tagged) == 2 and "_data_" in tagged:
        kind, data = tagged["_type_"], tagged["_data_"]
        if kind == "uuid_hex":
            return dashed_uuid(data)
        if kind == "datetime_iso" and type(data) is str:
            return data
    raise _Deeper  # another transcoding: decode_rows knows them all
