"""The projector's decoder: stored payloads become light records, whatever fields are tagged."""

from __future__ import annotations

import json

from lineagelog.adapters.projection_events import ProjectionDecoder

TOPIC = "lineagelog.domain.step_run:StepRun.CacheDecided"
STREAM = "01234567-89ab-cdef-0123-456789abcdef"
ORIGINAL = "fedcba9876543210fedcba9876543210"


def _payload(original: object, reason: str = "no earlier execution") -> str:
    return json.dumps(
        {
            "timestamp": {"_type_": "datetime_iso", "_data_": "2026-12-01T08:00:00+00:00"},
            "original_step_run_id": original,
            "reason": reason,
        },
        separators=(",", ":"),
    )


def test_events_of_one_topic_decode_alike_whichever_of_their_fields_are_tagged() -> None:
    decoder = ProjectionDecoder({})
    hit = _payload({"_type_": "uuid_hex", "_data_": ORIGINAL})
    miss = _payload(None)
    quoted = _payload(None, reason='a "_type_" in a string')

    decoded = [decoder.decode(STREAM, 1, TOPIC, p) for p in (hit, hit, miss, hit, quoted, miss)]

    originals = [e.original_step_run_id for e in decoded]
    assert originals == [
        "fedcba98-7654-3210-fedc-ba9876543210",
        "fedcba98-7654-3210-fedc-ba9876543210",
        None,
        "fedcba98-7654-3210-fedc-ba9876543210",
        None,
        None,
    ]
    assert {e.timestamp for e in decoded} == {"2026-12-01T08:00:00+00:00"}
    assert decoded[4].reason == 'a "_type_" in a string'
    assert decoded[0].originator_id == "01234567-89ab-cdef-0123-456789abcdef"


def test_a_field_tagged_where_the_topic_usually_has_a_plain_value_is_still_untagged() -> None:
    decoder = ProjectionDecoder({})
    usual = _payload({"_type_": "uuid_hex", "_data_": ORIGINAL}, reason="x")
    odd = json.dumps(
        {
            "timestamp": "2026-12-01T08:00:00+00:00",
            "original_step_run_id": {"_type_": "uuid_hex", "_data_": ORIGINAL},
            "reason": {"_type_": "datetime_iso", "_data_": "2026-12-02T00:00:00+00:00"},
        }
    )

    decoder.decode(STREAM, 1, TOPIC, usual)
    event = decoder.decode(STREAM, 2, TOPIC, odd)

    assert event.reason == "2026-12-02T00:00:00+00:00"
    assert event.original_step_run_id == "fedcba98-7654-3210-fedc-ba9876543210"
    assert event.timestamp == "2026-12-01T08:00:00+00:00"
