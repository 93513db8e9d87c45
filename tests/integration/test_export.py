"""Export to JSON Lines and import into an empty SQLite store: same history, or nothing."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from views import stored_event_rows

from lineagelog.adapters.audit import audit_log
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import ExportFormatError, export_events, import_events
from lineagelog.api import Client
from lineagelog.domain.errors import IntegrityError, StorageError
from lineagelog.examples.numbers_pipeline import numbers


@pytest.fixture
def source(sqlite_stores: tuple[str, str]) -> Iterator[Client]:
    """A history of two runs and a tag, sealed."""
    numbers(n=5)
    numbers(n=8)
    client = Client()
    client.tag_artifact("numbers", 2, "golden")
    client.seal()
    yield client


@pytest.fixture
def target(tmp_path: Path) -> Iterator[EventStore]:
    """An empty event store in another SQLite file."""
    store = EventStore(f"sqlite:///{tmp_path / 'target.db'}")
    yield store
    store.close()


def _export(client: Client, path: Path, since: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as out:
        export_events(client.context.events, out, since=since)
    return path


def _import(store: EventStore, path: Path) -> Any:
    with path.open(encoding="utf-8") as source:
        return import_events(store, source)


def _stored(path: Path) -> list[tuple[Any, ...]]:
    """The log's rows, whole topics and JSON payloads whichever encoding they are stored in."""
    return stored_event_rows(path)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_an_imported_export_is_the_same_history_byte_for_byte(
    source: Client, target: EventStore, tmp_path: Path
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")

    result = _import(target, exported)

    assert _stored(tmp_path / "target.db") == _stored(tmp_path / "lineage.db")
    assert not result.renumbered
    assert result.digest == source.audit(verify_artifacts=False).digest


def test_an_imported_history_audits_with_the_same_digests_and_shows_the_same_views(
    source: Client, tmp_path: Path
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    copy = Client(f"sqlite:///{tmp_path / 'copy.db'}", str(tmp_path / "artifacts"))
    _import(copy.context.events, exported)

    original, imported = source.audit(), copy.audit()

    assert imported.ok and imported.seals_checked == original.seals_checked
    assert imported.digest == original.digest
    assert [(r.id, r.status, sorted(r.steps)) for r in copy.list_runs()] == [
        (r.id, r.status, sorted(r.steps)) for r in source.list_runs()
    ]
    assert [(v.id, v.version, v.tags, v.position) for v in copy.list_artifact_versions()] == [
        (v.id, v.version, v.tags, v.position) for v in source.list_artifact_versions()
    ]


def test_the_format_has_a_versioned_header_one_event_per_line_and_a_footer(
    source: Client, tmp_path: Path
) -> None:
    lines = [json.loads(line) for line in _lines(_export(source, tmp_path / "events.jsonl"))]

    header, events, footer = lines[0], lines[1:-1], lines[-1]
    assert (header["format"], header["version"], header["since"]) == ("lineagelog-events", 1, 0)
    assert [e["position"] for e in events] == list(range(1, len(events) + 1))
    assert {
        "timestamp",
        "stream_id",
        "stream_version",
        "type",
        "payload",
        "previous_hash",
        "hash",
    } <= set(events[0])
    assert footer == {
        "end": "lineagelog-events",
        "count": len(events),
        "last_position": len(events),
        "digest": source.audit(verify_artifacts=False).digest,
    }


def test_an_export_since_a_position_holds_only_later_events(source: Client, tmp_path: Path) -> None:
    lines = [json.loads(line) for line in _lines(_export(source, tmp_path / "e.jsonl", since=10))]

    assert lines[1]["position"] == 11
    assert lines[-1]["count"] == len(lines) - 2


def test_import_refuses_a_store_that_is_not_empty(source: Client, tmp_path: Path) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    before = _stored(tmp_path / "lineage.db")

    with pytest.raises(StorageError, match="already holds"):
        _import(source.context.events, exported)
    assert _stored(tmp_path / "lineage.db") == before


def test_import_refuses_another_format_version(
    source: Client, target: EventStore, tmp_path: Path
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    lines = _lines(exported)
    lines[0] = lines[0].replace('"version":1', '"version":2')
    exported.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(ExportFormatError, match="format version 2"):
        _import(target, exported)
    assert target.max_position() == 0


def test_a_byte_order_mark_gets_its_own_message(
    source: Client, target: EventStore, tmp_path: Path
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    exported.write_text("\ufeff" + exported.read_text(encoding="utf-8"), encoding="utf-8")

    with pytest.raises(ExportFormatError, match="byte-order mark"):
        _import(target, exported)
    assert target.max_position() == 0


def test_a_truncated_line_names_its_number_and_nothing_is_written(
    source: Client, target: EventStore, tmp_path: Path
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    lines = _lines(exported)
    lines[7] = lines[7][: len(lines[7]) // 2] + "\n"
    exported.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(ExportFormatError, match="line 8 "):
        _import(target, exported)
    assert target.max_position() == 0


def test_a_file_cut_short_at_a_line_boundary_is_refused(
    source: Client, target: EventStore, tmp_path: Path
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    exported.write_text("".join(_lines(exported)[:-3]), encoding="utf-8")

    with pytest.raises(ExportFormatError, match="without its footer"):
        _import(target, exported)
    assert target.max_position() == 0


def test_an_edited_payload_is_refused_with_its_line_number(
    source: Client, target: EventStore, tmp_path: Path
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    lines = _lines(exported)
    lines[1] = lines[1].replace('"pipeline":"numbers"', '"pipeline":"numberz"')
    exported.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(ExportFormatError, match=r"line 2 .*modified"):
        _import(target, exported)
    assert target.max_position() == 0


def test_a_consistently_forged_file_fails_verification_and_nothing_is_written(
    source: Client, target: EventStore, tmp_path: Path
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    lines = _lines(exported)
    event = json.loads(lines[3])
    del event["hash"]  # no per-line hash to betray the edit: the chain and the seals must
    event["payload"]["name"] = "forged"
    lines[3] = json.dumps(event) + "\n"
    exported.write_text("".join(lines), encoding="utf-8")

    with pytest.raises((IntegrityError, ExportFormatError)):
        _import(target, exported)
    assert target.max_position() == 0


def test_a_large_file_parsed_in_worker_processes_still_names_a_truncated_line(
    source: Client, target: EventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lineagelog.adapters import export, hash_pool

    monkeypatch.setattr(hash_pool, "_PARALLEL_ABOVE", 0)
    monkeypatch.setattr(export, "_LINES_PER_CHUNK", 5)
    exported = _export(source, tmp_path / "events.jsonl")
    good = exported.read_text(encoding="utf-8")
    lines = _lines(exported)
    lines[12] = lines[12][:40] + "\n"
    exported.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(ExportFormatError, match="line 13 "):
        _import(target, exported)
    exported.write_text(good, encoding="utf-8")
    result = _import(target, exported)

    assert result.count == len(lines) - 2
    assert _stored(tmp_path / "target.db") == _stored(tmp_path / "lineage.db")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Import in chunks of five lines, on worker processes."""
    from lineagelog.adapters import export, hash_pool

    monkeypatch.setattr(hash_pool, "_PARALLEL_ABOVE", 0)
    monkeypatch.setattr(export, "_LINES_PER_CHUNK", 5)


def test_an_import_refused_at_the_footer_rolls_back_the_chunks_already_written(
    source: Client, target: EventStore, tmp_path: Path, small_chunks: None
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    lines = _lines(exported)
    del lines[-2]  # the last event, a seal: only the footer's count can tell
    exported.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(ExportFormatError, match="lines were removed"):
        _import(target, exported)

    assert target.max_position() == 0
    assert _stored(tmp_path / "target.db") == []


@pytest.mark.parametrize("line", [4, 7], ids=["inside-a-chunk", "first-of-a-chunk"])
def test_a_position_not_after_the_one_before_names_its_line(
    source: Client, target: EventStore, tmp_path: Path, small_chunks: None, line: int
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    lines = _lines(exported)
    lines[line - 1] = lines[line - 1].replace(f'{{"position":{line - 1},', '{"position":1,', 1)
    exported.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(ExportFormatError, match=f"line {line} .*position 1, not after {line - 2}"):
        _import(target, exported)

    assert _stored(tmp_path / "target.db") == []


def test_an_export_with_gaps_in_its_positions_keeps_them_and_still_audits(
    source: Client, target: EventStore, tmp_path: Path, small_chunks: None
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    header, *events, footer = [json.loads(line) for line in _lines(exported)]
    seal = max(i for i, e in enumerate(events) if e["type"].endswith("LogSeal.Sealed"))
    for event in events[seal:]:  # a gap before the last seal, as a PostgreSQL sequence leaves
        event["position"] += 100
    footer["last_position"] += 100
    exported.write_text("".join(json.dumps(x) + "\n" for x in [header, *events, footer]))

    result = _import(target, exported)

    stored = _stored(tmp_path / "target.db")
    assert not result.renumbered and result.last_position == events[-1]["position"]
    assert [row[0] for row in stored] == [e["position"] for e in events]
    assert [row[1:] for row in stored] == [row[1:] for row in _stored(tmp_path / "lineage.db")]
    report = audit_log(target)
    assert report.ok, report.problems


@pytest.mark.parametrize("position", [0, -3, 2**63])
def test_a_position_outside_what_a_database_stores_names_its_line(
    source: Client, target: EventStore, tmp_path: Path, position: int
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    lines = _lines(exported)
    lines[1] = lines[1].replace('{"position":1,', f'{{"position":{position},', 1)
    exported.write_text("".join(lines), encoding="utf-8")

    with pytest.raises(
        ExportFormatError, match=f"line 2 of the events file has position {position};"
    ):
        _import(target, exported)

    assert _stored(tmp_path / "target.db") == []


def test_an_export_imports_into_a_store_other_than_sqlite(
    source: Client, tmp_path: Path, small_chunks: None
) -> None:
    exported = _export(source, tmp_path / "events.jsonl")
    target = EventStore("memory://")

    result = _import(target, exported)

    assert result.count == target.max_position() == len(_lines(exported)) - 2
    assert audit_log(target).digest == source.audit(verify_artifacts=False).digest


def test_an_event_that_no_longer_decodes_stops_the_export_naming_it(
    source: Client, tmp_path: Path, small_chunks: None
) -> None:
    victim = _stored(tmp_path / "lineage.db")[12]
    with sqlite3.connect(tmp_path / "lineage.db") as conn:
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (victim[4][:-3], victim[0]))

    with pytest.raises(IntegrityError, match=f"cannot export the event at position {victim[0]} "):
        _export(source, tmp_path / "events.jsonl")
