"""Hashing stored events from their bytes gives exactly the domain's event hashes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from views import stored_event_rows

from lineagelog.adapters.hash_pool import HashedRange, Keep, hashed_ranges
from lineagelog.adapters.raw_events import hashed
from lineagelog.adapters.stored_events import UndecodableEvent
from lineagelog.api import Client
from lineagelog.domain.base import event_hash
from lineagelog.examples.numbers_pipeline import numbers

_TOPIC = "lineagelog.domain.step_run:StepRun.StepStarted"
_STREAM = "F" * 32


@pytest.fixture
def history(sqlite_stores: tuple[str, str], tmp_path: Path) -> Iterator[Client]:
    """Runs, tags, an external version, a deletion and seals: every kind of event."""
    numbers(n=5)
    numbers(n=7)
    client = Client()
    client.tag_artifact("numbers", 1, "golden")
    client.untag_artifact("numbers", 1, "golden")
    external = tmp_path / "external.txt"
    external.write_text("outside data", encoding="utf-8")
    client.register_artifact(external, "outside")
    client.delete_artifact_version("evens", 1, reason="superseded")
    client.seal()
    yield client


def _hashed_ranges(client: Client, **options: Any) -> list[HashedRange]:
    events = client.context.events
    return list(hashed_ranges(events, 0, events.max_position(), **options))


def test_every_stored_event_hashes_to_its_domain_event_hash(
    history: Client, tmp_path: Path
) -> None:
    mapper = history.context.events.mapper
    rows = stored_event_rows(tmp_path / "lineage.db")

    expected = [
        event_hash(mapper.to_domain_event(StoredEvent(stream, version, topic, state)))
        for _, stream, version, topic, state in rows
    ]

    assert len({row[3] for row in rows}) >= 10
    assert [hashed(*row).hash for row in rows] == expected
    assert [e[3] for r in _hashed_ranges(history) for e in r.events] == expected


def test_worker_processes_hash_ranges_exactly_as_this_process_does(
    history: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lineagelog.adapters import hash_pool

    keep = Keep((":StepRun.ArtifactWritten", ":LogSeal.Sealed"), fields=("name", "digest"))
    alone = _hashed_ranges(history, keep=keep, workers=1)
    monkeypatch.setattr(hash_pool, "_PARALLEL_ABOVE", 0)
    monkeypatch.setattr(hash_pool, "_CHUNK", 9)

    shared = _hashed_ranges(history, keep=keep, workers=2)

    def flat(ranges: list[HashedRange]) -> tuple[list[Any], list[Any]]:
        events = [e for r in ranges for e in r.events]
        kept = [(r.events[i][0], topic, content) for r in ranges for i, topic, content in r.kept]
        return events, kept

    assert flat(shared) == flat(alone)
    assert {topic.rpartition(".")[2]: set(kept) for _, topic, kept in flat(alone)[1]} == {
        "ArtifactWritten": {"name"},
        "Sealed": {"digest"},
    }


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            b'{"timestamp":{"_type_":"datetime_iso","_data_":"2024-05-01T12:00:00.123456+00:00"},'
            b'"previous_hash":"'
            + b"0" * 64
            + b'","run_id":{"_type_":"uuid_hex","_data_":"'
            + b"ab" * 16
            + b'"},"zeta":1.5,"alpha":"\xc3\xa9t\xc3\xa9","nested":{"b":[{"_type_":"uuid_hex",'
            b'"_data_":"' + b"cd" * 16 + b'"}],"a":null}}',
            "c4186de92963f1a3dc4f2cd00b9064d54d3ed63d465deaf3db7ab1f4bb188c34",
        ),
        (
            b'{"previous_hash":"' + b"1" * 64 + b'","score":NaN,'
            b'"big":123456789012345678901234567890,"empty":{},"list":[3,2,1]}',
            "de520889016b75552e3c26beb093787768ab39995cce54b442b359fdd1b1d05f",
        ),
    ],
    ids=["tagged-values-nested-and-unicode", "nan-and-big-integers"],
)
def test_the_hash_of_stored_bytes_never_changes(state: bytes, expected: str) -> None:
    assert hashed(7, _STREAM, 3, _TOPIC, state).hash == expected


@pytest.mark.parametrize(
    ("state", "error"),
    [
        (b'{"previous_hash":"x"', "payload does not decode: Expecting ',' delimiter"),
        (b"[1, 2]", "payload is a JSON list, not an object"),
        (b'{"a":{"_type_":"decimal_str","_data_":"1.5"}}', "unknown transcoding 'decimal_str'"),
        (b'{"a":"\xff"}', "payload does not decode: 'utf-8' codec can't decode byte 0xff"),
    ],
)
def test_a_payload_that_does_not_decode_is_named_as_such(state: bytes, error: str) -> None:
    with pytest.raises(UndecodableEvent, match=error):
        hashed(7, _STREAM, 3, _TOPIC, state)
