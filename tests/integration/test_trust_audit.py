"""The audit covers the views, and seals anchored outside the log catch rewritten histories.

Real SQLite files and artifact folders, tampered with by hand (sqlite3) or by
a forger who recomputes every hash with the project's own functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from forgery import forge_export
from views import sqlite_database, view_table

from lineagelog.adapters.anchor import AnchorFileError, check_events_file, read_anchors
from lineagelog.adapters.export import export_events, import_events
from lineagelog.adapters.stored_events import TOPIC_CODES
from lineagelog.api import Client, pipeline, step
from lineagelog.domain.errors import IntegrityError, RunFailedError
from lineagelog.examples.numbers_pipeline import numbers

_SEALED = "lineagelog.domain.seal:LogSeal.Sealed"


@step
def explode(n: int) -> int:
    raise ValueError(f"cannot handle {n}")


@pipeline
def exploding(n: int) -> None:
    explode(n=n)


@pytest.fixture
def history(sqlite_stores: tuple[str, str]) -> Iterator[Client]:
    """Two runs of the numbers pipeline; each sealed the log when it ended."""
    numbers(n=5)
    numbers(n=7)
    yield Client()


def _messages(report: Any, kind: str) -> list[str]:
    return [p.message for p in report.problems if p.kind == kind]


# -- the views ---------------------------------------------------------------------


def test_a_failed_run_shown_as_completed_in_the_views_is_named_by_the_audit(
    history: Client, tmp_path: Path
) -> None:
    with pytest.raises(RunFailedError) as failed:
        exploding(n=1)
    run_id = str(failed.value.run_id)
    assert history.get_run(run_id).status == "failed"  # a query catches the views up
    with sqlite_database(tmp_path / "lineage.db") as conn:
        conn.execute(f"UPDATE {view_table('runs')} SET status='completed' WHERE id=?", (run_id,))

    report = history.audit(verify_artifacts=False)

    assert not report.ok
    [message] = _messages(report, "view-row")
    assert f"'{view_table('runs')}'" in message and run_id in message
    assert "status 'completed' -> 'failed'" in message


def test_a_zeroed_catalog_content_hash_is_named_by_the_audit(
    history: Client, tmp_path: Path
) -> None:
    version = history.get_artifact_version("numbers", 1)
    with sqlite_database(tmp_path / "lineage.db") as conn:
        conn.execute(
            f"UPDATE {view_table('artifact_versions')} SET content_hash=? WHERE id=?",
            ("0" * 64, str(version.id)),
        )

    report = history.audit(verify_artifacts=False)

    [message] = _messages(report, "view-row")
    assert f"'{view_table('artifact_versions')}'" in message and str(version.id) in message
    assert f"content_hash '{'0' * 64}' -> '{version.content_hash}'" in message


def test_rows_deleted_from_or_added_to_the_views_are_named_by_the_audit(
    history: Client, tmp_path: Path
) -> None:
    with sqlite_database(tmp_path / "lineage.db") as conn:
        src, dst, kind = conn.execute(
            f"SELECT src, dst, kind FROM {view_table('lineage_edges')} LIMIT 1"
        ).fetchone()
        conn.execute(
            f"DELETE FROM {view_table('lineage_edges')} WHERE src=? AND dst=? AND kind=?",
            (src, dst, kind),
        )
        conn.execute(
            f"INSERT INTO {view_table('cache_entries')} (step_run_id, cache_key, decided_pos) "
            "VALUES (?, ?, 1)",
            ("forged-step-run", "f" * 64),
        )

    report = history.audit(verify_artifacts=False)

    messages = _messages(report, "view-row")
    assert any(
        f"'{view_table('lineage_edges')}'" in m and src in m and "missing from the views" in m
        for m in messages
    )
    assert any(
        f"'{view_table('cache_entries')}'" in m and "forged-step-run" in m and "forged row" in m
        for m in messages
    )


def test_views_that_lag_the_log_are_compared_at_their_own_position(
    history: Client, tmp_path: Path
) -> None:
    numbers(n=9)  # the run catches up only the cache's views; the others lag behind

    report = history.audit(verify_artifacts=False)

    assert report.ok, report.problems
    assert report.views_position is not None


def test_the_audit_can_skip_the_views(history: Client, tmp_path: Path) -> None:
    with sqlite_database(tmp_path / "lineage.db") as conn:
        conn.execute(f"UPDATE {view_table('runs')} SET status='failed'")

    report = history.audit(verify_artifacts=False, views=False)

    assert report.ok and report.views_position is None


# -- anchors -----------------------------------------------------------------------


def test_a_cut_off_tail_passes_the_log_audit_but_not_the_anchor(
    history: Client, tmp_path: Path
) -> None:
    anchors = str(tmp_path / "anchors.jsonl")
    history.seal(anchor=anchors)
    with sqlite_database(tmp_path / "lineage.db") as conn:
        seals = [
            r[0]
            for r in conn.execute(
                "SELECT rowid FROM stored_events WHERE topic IN (?, ?) ORDER BY rowid",
                (_SEALED, TOPIC_CODES[_SEALED]),  # the compact code, or the whole topic
            )
        ]
        conn.execute("DELETE FROM stored_events WHERE rowid > ?", (seals[0],))  # run 2, its seal

    assert history.audit(verify_artifacts=False, views=False).ok  # the in-log audit is fooled
    report = history.audit(verify_artifacts=False, views=False, anchor=anchors)

    assert report.anchors_checked == 1
    [message] = _messages(report, "anchor")
    assert "line 1 of" in message and "anchors.jsonl" in message
    assert "tail of the history was cut off" in message


def test_a_fully_rehashed_forgery_passes_the_log_audit_but_not_the_anchor(
    history: Client, tmp_path: Path
) -> None:
    anchors = str(tmp_path / "anchors.jsonl")
    history.seal(anchor=anchors)
    exported, forged = tmp_path / "events.jsonl", tmp_path / "forged.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_events(history.context.events, out)
    forge_export(exported, forged, "n", 6)
    copy = Client(f"sqlite:///{tmp_path / 'copy.db'}", str(tmp_path / "artifacts"))
    with forged.open(encoding="utf-8") as source:
        import_events(copy.context.events, source)

    assert copy.audit(verify_artifacts=False).ok  # chains and seals all recomputed
    assert copy.list_runs()[-1].parameters["n"] in (6, 7)
    report = copy.audit(verify_artifacts=False, anchor=anchors)

    [message] = _messages(report, "anchor")
    assert "does not match the log" in message and "rewritten" in message


def test_an_anchored_history_passes_and_a_forged_file_is_refused_before_import(
    history: Client, tmp_path: Path
) -> None:
    anchors = str(tmp_path / "anchors.jsonl")
    history.seal(anchor=anchors)
    numbers(n=9)
    history.seal(anchor=anchors)
    exported, forged = tmp_path / "events.jsonl", tmp_path / "forged.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_events(history.context.events, out)
    forge_export(exported, forged, "n", 6)

    assert history.audit(verify_artifacts=False, anchor=anchors).anchors_checked == 2
    with exported.open(encoding="utf-8") as source:
        assert check_events_file(source, read_anchors(anchors), anchors) == 2
    with forged.open(encoding="utf-8") as source, pytest.raises(IntegrityError) as refused:
        check_events_file(source, read_anchors(anchors), anchors)
    assert "line 1 of" in str(refused.value) and "nothing was imported" in str(refused.value)


def test_a_malformed_anchor_file_is_an_error_naming_the_file_and_line(
    history: Client, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    history.seal(anchor=str(anchors))
    with anchors.open("a", encoding="utf-8") as f:
        f.write('{"format": "lineagelog-anchor", "version": 1, "event_count": "many"}\n')

    with pytest.raises(AnchorFileError, match=r"line 2 of the anchor file .*anchors\.jsonl"):
        history.audit(anchor=str(anchors))


@pytest.mark.s3
def test_anchors_append_to_an_object_store_without_losing_earlier_lines(
    history: Client, s3_store: str
) -> None:
    anchors = f"{s3_store.rstrip('/')}/anchors.jsonl"

    history.seal(anchor=anchors)
    numbers(n=9)
    history.seal(anchor=anchors)

    assert [a.line for a in read_anchors(anchors)] == [1, 2]
    assert history.audit(verify_artifacts=False, views=False, anchor=anchors).ok
