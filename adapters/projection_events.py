"""Stored events decoded for the projector: light records instead of domain objects.

Projection handlers read a handful of attributes of each event; building the
eventsourcing domain object (a JSON object hook per value, a ``UUID`` per id, a
``datetime`` per timestamp, a frozen dataclass) costs more than applying it.
Here a payload is decoded with plain ``json.loads`` and becomes a
``ProjectedEvent``: an instance of a small class named after the event class
(the last segment of the topic), whose attributes are the payload's fields.

The transcoder's tagged values (``{"_type_": name, "_data_": data}``, written by
``JSONTranscoder`` with the transcodings ``EventStore`` registers) become:

- ``uuid_hex``: the canonical string ``str(UUID(data))`` (what handlers store);
- ``datetime_iso``: the ISO 8601 text as stored (``datetime.isoformat()``);
  handlers normalize it with ``utc_text``;
- any other registered transcoding (``decimal_str``, ...): its own decoded value.

``originator_id`` is the canonical string of the stream id, ``originator_version``
the stream version.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from eventsourcing.persistence import Transcoding

from lineagelog.adapters.stored_events import UndecodableEvent, check_topic, dashed_uuid
from lineagelog.domain.topics import EVENT_CLASSES

# UndecodableEvent and dashed_uuid are defined in stored_events; the event
# store imports them from here too.
__all__ = ["ProjectedEvent", "ProjectionDecoder", "UndecodableEvent", "dashed_uuid"]


class ProjectedEvent:
    """An event as projections see it: the payload's fields as attributes."""

    originator_id: str
    originator_version: int
    timestamp: str

    def __repr__(self) -> str:
        """Name the event type and its fields, for failing tests and logs."""
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


_raw_decode = json.JSONDecoder().raw_decode
"""``json.loads`` without its whitespace handling: (value, end index)."""


def _is_tagged(value: Any) -> bool:
    """Whether ``value`` is a transcoder's tagged value (``_type_``, ``_data_``)."""
    return type(value) is dict and len(value) == 2 and "_type_" in value and "_data_" in value


class ProjectionDecoder:
    """Decodes stored payloads into ``ProjectedEvent`` records."""

    def __init__(self, transcodings: Mapping[str, Transcoding]) -> None:
        """Decode tagged values with ``transcodings`` (the transcoder's ``names``)."""
        self._transcodings = dict(transcodings)
        self._hooked = json.JSONDecoder(object_hook=self._untag_or_keep)
        self._classes: dict[str, type[ProjectedEvent]] = {}
        self._tagged_keys: dict[str, tuple[str, ...]] = {}  # per topic: fields tagged last time

    def event_class(self, topic: str) -> type[ProjectedEvent]:
        """Return the record class of ``topic`` (``module:Outer.EventName`` -> ``EventName``).

        Raises:
            UndecodableEvent: the topic names no lineagelog event (a view must not
                take a forged ``evil:StepRun.StepSucceeded`` for the real one).

        """
        cls = self._classes.get(topic)
        if cls is None:
            check_topic(topic)
            domain_class = EVENT_CLASSES[topic]
            name = domain_class.__name__
            # Fields added to an event class later have defaults: an event stored
            # before the field existed reads the default, as its domain object does.
            defaults = {
                f.name: f.default
                for f in dataclasses.fields(domain_class)
                if f.default is not dataclasses.MISSING
            }
            namespace = {"__module__": __name__, "__qualname__": name, **defaults}
            cls = type(name, (ProjectedEvent,), namespace)
            self._classes[topic] = cls
        return cls

    def decode(
        self, stream_id: str, version: int, topic: str, state: bytes | str
    ) -> ProjectedEvent:
        """Build the record of one stored event.

        Raises:
            UndecodableEvent: the payload is not JSON of an object, or uses an
                unknown transcoding, or the topic names no lineagelog event.

        """
        return self.record(topic, self.fields(stream_id, version, topic, state))

    def record(self, topic: str, fields: dict[str, Any]) -> ProjectedEvent:
        """The record of ``topic`` whose attributes are ``fields`` (as ``fields`` gives them).

        Raises:
            UndecodableEvent: the topic names no lineagelog event.

        """
        record = object.__new__(self.event_class(topic))
        record.__dict__ = fields
        return record

    def fields(
        self, stream_id: str, version: int, topic: str, state: bytes | str
    ) -> dict[str, Any]:
        """The attributes of one stored event's record: a plain dict, which pickles.

        Raises:
            UndecodableEvent: the payload is not JSON of an object, or uses an
                unknown transcoding.

        """
        text = state.decode("utf-8") if isinstance(state, (bytes, bytearray)) else state
        try:
            fields, end = _raw_decode(text)  # the transcoder writes no surrounding whitespace
        except ValueError:
            end = -1
        if end != len(text):
            try:  # a clear error (or a padded payload, which is still readable)
                fields = json.loads(text)
            except ValueError as e:
                raise UndecodableEvent(f"payload does not decode: {e}") from e
        if type(fields) is not dict:
            raise UndecodableEvent(f"payload is a JSON {type(fields).__name__}, not an object")
        payload: dict[str, Any] = fields
        tagged = text.count('"_type_"')
        if tagged:
            payload = self._untag_fields(payload, text, tagged, topic)
        payload.pop("class_version", None)
        payload["originator_id"] = stream_id
        payload["originator_version"] = version
        return payload

    def _untag_fields(
        self, fields: dict[str, Any], text: str, tagged: int, topic: str
    ) -> dict[str, Any]:
        # Events of one topic tag the same fields: try those first, then every field.
        keys = self._tagged_keys.get(topic, ())
        if len(keys) == tagged and all(_is_tagged(fields.get(key)) for key in keys):
            untag = self._untag
            for key in keys:
                fields[key] = untag(fields[key])
            return fields
        found: list[str] = []
        for key, value in fields.items():
            if _is_tagged(value):
                fields[key] = self._untag(value)
                found.append(key)
        if len(found) == tagged:
            self._tagged_keys[topic] = tuple(found)
            return fields
        # Tagged values nested deeper (or "_type_" inside a string): decode with a hook.
        decoded = self._hooked.decode(text)
        assert type(decoded) is dict
        return decoded

    def _untag(self, obj: dict[str, Any]) -> Any:
        kind, data = obj["_type_"], obj["_data_"]
        if kind == "uuid_hex":
            return dashed_uuid(data)
        if kind == "datetime_iso" and type(data) is str:
            return data
        transcoding = self._transcodings.get(kind)
        if transcoding is None:
            raise UndecodableEvent(
                f"payload uses transcoding {kind!r}, which the event store does not register"
            )
        return transcoding.decode(data)

    def _untag_or_keep(self, obj: dict[str, Any]) -> Any:
        if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
            return self._untag(obj)
        return obj
