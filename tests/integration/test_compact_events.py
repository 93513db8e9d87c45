"""The compact encoding of stored events: topic codes and deflated payloads.

Rows are written compact, rows of the older encoding (JSON and whole topics:
old databases, imports) read the same, every reader decodes both through
``stored_events.stored_row``, and an event's hash does not depend on its bytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from views import sqlite_database, stored_event_rows

from lineagelog.adapters.audit import audit_log
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import export_events, import_events
from lineagelog.adapters.raw_events import hashed
from lineagelog.adapters.stored_events import TOPIC_CODES, encode_row, stored_row
from lineagelog.api import Client
from lineagelog.domain.base import event_hash
from lineagelog.domain.topics import EVENT_CLASSES
from lineagelog.examples.numbers_pipeline import numbers


@pytest.fixture
def history(sqlite_stores: tuple[str, str], tmp_path: Path) -> Iterator[Client]:
    numbers(n=5)
    client = Client()
    client.tag_artifact("numbers", 1, "golden")
    client.seal()
    yield client


def test_every_event_class_has_its_own_code_and_no_code_is_a_topic() -> None:
    assert set(TOPIC_CODES) == set(EVENT_CLASSES)
    assert len(set(TOPIC_CODES.values())) == len(TOPIC_CODES)
    assert not any(":" in code for code in TOPIC_CODES.values())


def test_rows_are_stored_compact_and_every_reader_sees_them_whole(
    history: Client, tmp_path: Path
) -> None:
    raw = stored_event_rows(tmp_path / "lineage.db", decoded=False)
    plain = stored_event_rows(tmp_path / "lineage.db")

    assert {topic for *_, topic, _ in raw} <= set(TOPIC_CODES.values())
    assert all(state[:1] == b"\x01" for *_, state in raw)
    assert sum(len(s) for *_, s in raw) * 2 < sum(len(s) for *_, s in plain)
    assert all(json.loads(state)["timestamp"] for *_, state in plain)
    events = history.context.events
    end = events.max_position()
    assert [tuple(r) for r in events.read_rows(0, end)] == [
        (p, s, v, topic, state) for p, s, v, topic, state in plain
    ]
    assert [(n.id, n.topic, n.state) for n in events.read_notifications(0, end)] == [
        (p, topic, state) for p, _, _, topic, state in plain
    ]


def test_a_plain_row_and_its_compact_row_read_and_hash_the_same(
    history: Client, tmp_path: Path
) -> None:
    events = history.context.events
    mapper = events.mapper
    for position, stream, version, topic, state in stored_event_rows(tmp_path / "lineage.db"):
        code, deflated = encode_row(topic, state)
        assert stored_row(code, deflated) == (topic, state)
        compact = hashed(position, stream, version, *stored_row(code, deflated))
        assert compact == hashed(position, stream, version, topic, state)
        decoded = mapper.to_domain_event(StoredEvent(stream, version, code, deflated))
        assert event_hash(decoded) == compact.hash


def test_a_log_of_old_plain_rows_mixed_with_compact_ones_audits_clean(
    history: Client, tmp_path: Path
) -> None:
    path = tmp_path / "lineage.db"
    half = stored_event_rows(path)[::2]
    with sqlite_database(path) as conn:  # every other row back to the old encoding
        conn.executemany(
            "UPDATE stored_events SET topic=?, state=? WHERE rowid=?",
            [(topic, state, p) for p, _, _, topic, state in half],
        )

    assert audit_log(EventStore(f"sqlite:///{path}")).ok
    assert history.audit(verify_artifacts=False).ok


def test_skipped_topics_are_left_out_whether_a_row_is_compact_or_plain(
    history: Client, tmp_path: Path
) -> None:
    path = tmp_path / "lineage.db"
    plain = stored_event_rows(path)
    with sqlite_database(path) as conn:  # every other row back to the old encoding
        conn.executemany(
            "UPDATE stored_events SET topic=?, state=? WHERE rowid=?",
            [(topic, state, p) for p, _, _, topic, state in plain[::2]],
        )
    skipped = {topic for *_, topic, _ in plain[:6]}
    events = EventStore(f"sqlite:///{path}")

    try:
        rows = events.read_rows(0, len(plain), skip_topics=skipped)
    finally:
        events.close()

    kept = [row for row in plain if row[3] not in skipped]
    assert kept and len(kept) < len(plain)
    assert [tuple(r) for r in rows] == [(p, s, v, t, st) for p, s, v, t, st in kept]


def test_a_damaged_deflated_payload_is_reported_undecodable_not_a_crash(
    history: Client, tmp_path: Path
) -> None:
    path = tmp_path / "lineage.db"
    victim = stored_event_rows(path, decoded=False)[3]
    with sqlite_database(path) as conn:
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (victim[4][:-5], victim[0]))

    report = history.audit(verify_artifacts=False, views=False)

    undecodable = [p for p in report.problems if p.kind == "undecodable"]
    assert [p.position for p in undecodable] == [victim[0]]


def test_an_imported_log_is_stored_compact_and_audits_to_the_same_digest(
    history: Client, tmp_path: Path
) -> None:
    exported = io.StringIO()
    export_events(history.context.events, exported)
    target_path = tmp_path / "imported.db"
    target = EventStore(f"sqlite:///{target_path}")
    try:
        import_events(target, io.StringIO(exported.getvalue()))
        digest = audit_log(target).digest
    finally:
        target.close()

    raw = stored_event_rows(target_path, decoded=False)
    assert raw and all(state[:1] == b"\x01" for *_, state in raw)
    assert {topic for *_, topic, _ in raw} <= set(TOPIC_CODES.values())
    assert stored_event_rows(target_path) == stored_event_rows(tmp_path / "lineage.db")
    assert digest == audit_log(history.context.events).digest
