"""Stored events decoded for the OpenLineage mapper, lighter than the projector's decoder.

``EventStore.decode_rows`` untags the transcoder's tagged values
(``{"_type_": "uuid_hex", "_data_": ...}``) found at the top of a payload and
decodes a payload whose tags sit deeper a second time, with a hook per JSON
object: a step's inputs and a cache decision's reused outputs (name -> version
id) take that path, most of the events an export maps. ``RowDecoder`` decodes
each payload once, its hook untagging ids and times wherever they sit (as the
transcoder does); a payload with any other tag, or one that does not decode,
goes to ``decode_rows``, which decodes it (or says why it cannot). The records
are the same either way.
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


def _untag(value: dict[str, Any]) -> Any:
    """A JSON object as the transcoder decodes it: a tagged id or time untagged, else itself."""
    if "_type_" in value and len(value) == 2 and "_data_" in value:
        kind, data = value["_type_"], value["_data_"]
        if kind == "uuid_hex" and type(data) is str and len(data) == 32:
            # dashed_uuid's own slicing, inlined: a call per id costs a tenth of a decode
            return f"{data[:8]}-{data[8:12]}-{data[12:16]}-{data[16:20]}-{data[20:]}".lower()
        if kind == "datetime_iso" and type(data) is str:
            return data
        raise _Deeper  # another transcoding: decode_rows knows them all
    return value


_raw_decode = json.JSONDecoder(object_hook=_untag).raw_decode
