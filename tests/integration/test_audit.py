"""The audit against a real SQLite file and a real artifact folder, tampered with by hand."""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from views import sqlite_database, stored_event_rows

from lineagelog.api import Client
from lineagelog.domain.errors import ArtifactNotFoundError, IntegrityError
from lineagelog.examples.numbers_pipeline import numbers


@pytest.fixture
def history(sqlite_stores: tuple[str, str], tmp_path: Path) -> Iterator[Client]:
    """Two runs of the numbers pipeline; each sealed the log when it ended."""
    numbers(n=5)
    numbers(n=7)
    yield Client()


def _db(tmp_path: Path) -> AbstractContextManager[sqlite3.Connection]:
    return sqlite_database(tmp_path / "lineage.db")


def _rows(tmp_path: Path) -> list[tuple[Any, ...]]:
    return stored_event_rows(tmp_path / "lineage.db")


def _stream_last_rows(tmp_path: Path) -> set[int]:
    last: dict[str, int] = {}
    for rowid, stream, *_ in _rows(tmp_path):
        last[stream] = rowid
    return set(last.values())


def _seal_positions(tmp_path: Path) -> list[int]:
    return [r[0] for r in _rows(tmp_path) if r[3].endswith("LogSeal.Sealed")]


def _flip_timestamp_byte(state: bytes) -> bytes:
    at = state.index(b'"_data_":"') + len(b'"_data_":"') + 3  # the year's last digit
    flipped = b"7" if state[at : at + 1] != b"7" else b"8"
    return state[:at] + flipped + state[at + 1 :]


def _folder(client: Client, uri: str) -> Path:
    local = client.context.artifacts.local_path(uri)
    assert local is not None
    return Path(local)


def _kinds(report: Any) -> set[str]:
    return {p.kind for p in report.problems}


def test_an_untouched_history_passes_with_every_event_and_artifact_checked(
    history: Client, tmp_path: Path
) -> None:
    report = history.audit()

    assert report.ok, report.problems
    assert report.events_checked == len(_rows(tmp_path))
    assert report.artifacts_checked == len(history.list_artifact_versions())
    assert report.seals_checked == 2
    assert report.unsealed_tail == 0  # the last seal event itself needs no seal


def test_runs_seal_the_log_when_they_end(history: Client, tmp_path: Path) -> None:
    rows = _rows(tmp_path)

    assert rows[-1][3].endswith("LogSeal.Sealed")
    assert history.seal().written is False  # nothing but the seal since the seal


@pytest.mark.parametrize("kept", [None, 1, 3])  # 1, 3: nearly every stream's head on disk
def test_one_flipped_byte_in_the_middle_of_a_stream_names_the_broken_link(
    history: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kept: int | None
) -> None:
    from lineagelog.adapters import stream_heads

    if kept is not None:
        monkeypatch.setattr(stream_heads, "KEPT", kept)
    assert history.audit(verify_artifacts=False, views=False).ok
    rows = _rows(tmp_path)
    victim = next(r for r in rows if r[0] not in _stream_last_rows(tmp_path))
    with _db(tmp_path) as conn:
        conn.execute(
            "UPDATE stored_events SET state=? WHERE rowid=?",
            (_flip_timestamp_byte(victim[4]), victim[0]),
        )

    report = history.audit(verify_artifacts=False, views=False)

    assert not report.ok
    chain = [p for p in report.problems if p.kind == "hash-chain"]
    assert chain and chain[0].stream == victim[1]
    assert f"predecessor at position {victim[0]}" in chain[0].message
    assert _kinds(report) == {"hash-chain"}  # the seal over it is not a second report


def test_a_changed_last_event_of_a_stream_is_caught_by_the_seal(
    history: Client, tmp_path: Path
) -> None:
    first_seal = _seal_positions(tmp_path)[0]
    victim = next(
        r for r in _rows(tmp_path) if r[0] in _stream_last_rows(tmp_path) and r[0] < first_seal
    )
    with _db(tmp_path) as conn:
        conn.execute(
            "UPDATE stored_events SET state=? WHERE rowid=?",
            (_flip_timestamp_byte(victim[4]), victim[0]),
        )

    report = history.audit(verify_artifacts=False, views=False)

    assert "seal" in _kinds(report)
    assert any("modified, deleted, inserted or reordered" in p.message for p in report.problems)


def test_a_payload_that_no_longer_decodes_is_a_problem_not_a_crash(
    history: Client, tmp_path: Path
) -> None:
    victim = _rows(tmp_path)[2]
    with _db(tmp_path) as conn:
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (victim[4][:-7], victim[0]))

    report = history.audit(verify_artifacts=False, views=False)

    undecodable = [p for p in report.problems if p.kind == "undecodable"]
    assert [p.position for p in undecodable] == [victim[0]]
    assert report.events_checked == len(_rows(tmp_path))


def test_an_event_deleted_from_the_middle_is_detected(history: Client, tmp_path: Path) -> None:
    victim = next(r for r in _rows(tmp_path) if r[0] not in _stream_last_rows(tmp_path))
    with _db(tmp_path) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid=?", (victim[0],))

    report = history.audit(verify_artifacts=False, views=False)

    assert "stream-order" in _kinds(report)
    assert "seal" in _kinds(report)


def test_an_event_deleted_from_the_end_of_a_sealed_range_is_detected(
    history: Client, tmp_path: Path
) -> None:
    last_seal = _seal_positions(tmp_path)[-1]
    victim = last_seal - 1  # the run's RunCompleted: the last event of its stream
    assert victim in _stream_last_rows(tmp_path)
    with _db(tmp_path) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid=?", (victim,))

    report = history.audit(verify_artifacts=False, views=False)

    assert _kinds(report) == {"seal"}
    assert any(f"up to position {victim}" in p.message for p in report.problems)


def test_two_events_swapped_between_positions_are_detected(history: Client, tmp_path: Path) -> None:
    first_seal = _seal_positions(tmp_path)[0]
    rows = _rows(tmp_path)
    # two neighbours of different streams: each stream's chain stays intact
    a, b = next((x, y) for x, y in itertools.pairwise(rows) if x[1] != y[1] and y[0] < first_seal)
    with _db(tmp_path) as conn:
        for (rowid, *_), (_, stream, version, topic, state) in ((a, b), (b, a)):
            conn.execute(
                "UPDATE stored_events SET originator_id=?, originator_version=?, topic=?, state=? "
                "WHERE rowid=?",
                (stream + "-", version, topic, state, rowid),  # dodge the primary key for a moment
            )
        conn.execute("UPDATE stored_events SET originator_id=substr(originator_id, 1, 32)")

    report = history.audit(verify_artifacts=False, views=False)

    assert "seal" in _kinds(report)


def test_swapped_payloads_break_both_chains(history: Client, tmp_path: Path) -> None:
    rows = _rows(tmp_path)
    a, b = rows[1], rows[2]
    with _db(tmp_path) as conn:
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (b[4], a[0]))
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (a[4], b[0]))

    report = history.audit(verify_artifacts=False, views=False)

    assert not report.ok
    # both broken links explain why the seal over them disagrees: reported once each
    assert _kinds(report) == {"hash-chain"}


def test_a_forged_event_appended_to_a_stream_breaks_its_chain(
    history: Client, tmp_path: Path
) -> None:
    rows = _rows(tmp_path)
    run_id = rows[0][1]
    completed = next(r for r in rows if r[1] == run_id and r[2] == 2)
    with _db(tmp_path) as conn:
        conn.execute(
            "INSERT INTO stored_events VALUES (?, 3, ?, ?)", (run_id, completed[3], completed[4])
        )

    report = history.audit(verify_artifacts=False, views=False)

    chain = [p for p in report.problems if p.kind == "hash-chain"]
    assert [p.position for p in chain] == [len(rows) + 1]


def test_an_event_replaced_inside_a_sealed_range_is_detected(
    history: Client, tmp_path: Path
) -> None:
    first_seal = _seal_positions(tmp_path)[0]
    rows = _rows(tmp_path)
    forged = next(r for r in rows if r[0] in _stream_last_rows(tmp_path) and r[0] < first_seal)
    with _db(tmp_path) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid=?", (forged[0],))
        conn.execute(
            "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            (forged[0], "f" * 32, 1, rows[0][3], rows[0][4]),
        )

    report = history.audit(verify_artifacts=False, views=False)

    assert "seal" in _kinds(report)


def test_a_changed_artifact_fails_the_audit_and_a_verified_load(
    history: Client, tmp_path: Path
) -> None:
    version = history.get_artifact_version("numbers", 1)
    files = sorted(p for p in _folder(history, version.uri).rglob("*") if p.is_file())
    data = files[0].read_bytes()
    files[0].write_bytes(data[:-1] + bytes([data[-1] ^ 1]))

    report = history.audit()

    assert [(p.kind, p.artifact) for p in report.problems] == [
        ("artifact-modified", str(version.id))
    ]
    with pytest.raises(IntegrityError, match="numbers:1"):
        version.load(verify=True)
    assert history.get_artifact_version("numbers", 2).load(verify=True) == list(range(7))


def test_a_missing_artifact_fails_the_audit_and_a_verified_load(
    history: Client, tmp_path: Path
) -> None:
    version = history.get_artifact_version("evens", 2)
    shutil.rmtree(_folder(history, version.uri))

    report = history.audit()

    assert [(p.kind, p.artifact) for p in report.problems] == [
        ("artifact-missing", str(version.id))
    ]
    with pytest.raises(ArtifactNotFoundError, match="missing"):
        version.load(verify=True)


def test_an_audit_without_artifacts_reads_no_artifact(history: Client, tmp_path: Path) -> None:
    shutil.rmtree(_folder(history, history.get_artifact_version("evens", 2).uri))

    report = history.audit(verify_artifacts=False, views=False)

    assert report.ok
    assert report.artifacts_checked == 0


def test_sealing_on_demand_covers_events_written_since(history: Client, tmp_path: Path) -> None:
    version = history.get_artifact_version("numbers", 1)
    history.tag_artifact("numbers", version.version, "golden")

    sealed = history.seal()
    report = history.audit(verify_artifacts=False, views=False)

    assert sealed.written
    assert sealed.up_to_position == len(_rows(tmp_path)) - 1
    assert report.ok and report.seals_checked == 3 and report.unsealed_tail == 0


def test_hashing_in_worker_processes_finds_the_same_problems_and_digest(
    history: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lineagelog.adapters import hash_pool

    victim = next(r for r in _rows(tmp_path) if r[0] not in _stream_last_rows(tmp_path))
    with _db(tmp_path) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid=?", (victim[0],))
    alone = history.audit(verify_artifacts=False, views=False)
    monkeypatch.setattr(hash_pool, "_PARALLEL_ABOVE", 0)
    monkeypatch.setattr(hash_pool, "_CHUNK", 7)

    from lineagelog.adapters.audit import audit_log

    shared = audit_log(history.context.events, workers=2)

    assert shared.digest == alone.digest
    assert shared.problems == alone.problems and shared.problems


@pytest.fixture
def worker_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash in worker processes, seven positions a range, however short the log."""
    from lineagelog.adapters import hash_pool

    monkeypatch.setattr(hash_pool, "_PARALLEL_ABOVE", 0)
    monkeypatch.setattr(hash_pool, "_CHUNK", 7)


def test_a_first_seal_hashed_in_worker_processes_verifies(
    tmp_path: Path, worker_ranges: None
) -> None:
    from lineagelog.adapters.audit import audit_log
    from lineagelog.adapters.event_store import EventStore
    from lineagelog.adapters.sealing import seal_log
    from lineagelog.domain.run import PipelineRun

    store = EventStore(f"sqlite:///{tmp_path / 'unsealed.db'}")
    for i in range(12):
        run = PipelineRun.start(
            pipeline="p", run_name=f"r{i}", parameters={}, dag={}, environment={}
        )
        run.complete()
        store.save(run)

    sealed = seal_log(store)
    report = audit_log(store, workers=1)

    assert (sealed.event_count, sealed.up_to_position) == (24, 24)
    assert report.ok and report.seals_checked == 1 and report.unsealed_tail == 0
    store.close()


def test_sealing_refuses_to_cover_an_event_that_no_longer_decodes(
    history: Client, tmp_path: Path, worker_ranges: None
) -> None:
    history.tag_artifact("numbers", 1, "golden")
    victim = _rows(tmp_path)[-1]
    with _db(tmp_path) as conn:
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (victim[4][:-7], victim[0]))

    with pytest.raises(IntegrityError, match=f"cannot seal: the event at position {victim[0]} "):
        history.seal()


@pytest.mark.parametrize("field", ["event_count", "up_to_position"])
def test_a_seal_with_a_forged_non_numeric_count_is_a_problem_not_a_crash(
    history: Client, tmp_path: Path, field: str
) -> None:
    victim = next(r for r in _rows(tmp_path) if r[0] == _seal_positions(tmp_path)[0])
    payload = json.loads(victim[4])
    payload[field] = "lots"
    with _db(tmp_path) as conn:
        conn.execute(
            "UPDATE stored_events SET state=? WHERE rowid=?",
            (json.dumps(payload).encode(), victim[0]),
        )

    report = history.audit(verify_artifacts=False, views=False)

    assert not report.ok
    assert any(
        f"{field} 'lots', not a whole number" in p.message and p.position == victim[0]
        for p in report.problems
    ), report.problems


def test_a_changed_event_is_reported_once_not_again_by_every_later_seal(
    history: Client, tmp_path: Path
) -> None:
    numbers(n=9)
    numbers(n=11)  # four seals now, each after the edited event
    first_seal = _seal_positions(tmp_path)[0]
    victim = next(
        r for r in _rows(tmp_path) if r[0] in _stream_last_rows(tmp_path) and r[0] < first_seal
    )
    with _db(tmp_path) as conn:
        conn.execute(
            "UPDATE stored_events SET state=? WHERE rowid=?",
            (_flip_timestamp_byte(victim[4]), victim[0]),
        )

    report = history.audit(verify_artifacts=False, views=False)

    assert report.seals_checked == 4
    assert [(p.kind, p.position) for p in report.problems] == [("seal", first_seal)]
    assert "was modified" in report.problems[0].message


def test_audit_and_audit_seal_agree_that_a_sealed_log_needs_no_seal(history: Client) -> None:
    report = history.audit(verify_artifacts=False, views=False)

    assert report.unsealed_tail == 0
    assert history.seal().written is False
    history.save_artifact([1], "late")

    assert history.audit(verify_artifacts=False, views=False).unsealed_tail > 0
    assert history.seal().written is True
    assert history.audit(verify_artifacts=False, views=False).unsealed_tail == 0
