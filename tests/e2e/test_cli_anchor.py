"""Anchors and the views' audit from the command line, each command a new process."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

from cli import run_cli
from views import sqlite_database, view_table

from lineagelog.api.context import close_contexts
from lineagelog.examples.numbers_pipeline import numbers

_spec = importlib.util.spec_from_file_location(
    "forgery", Path(__file__).parent.parent / "integration" / "forgery.py"
)
assert _spec is not None and _spec.loader is not None
forgery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(forgery)


def _events_in(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "stored_events" not in tables:
            return 0
        count: int = conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]
        return count


def test_anchored_seals_refuse_a_forged_import_and_the_views_audit_names_an_edited_row(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    numbers(n=5)
    numbers(n=7)
    close_contexts()
    anchors, exported, forged = (
        tmp_path / "anchors.jsonl",
        tmp_path / "events.jsonl",
        tmp_path / "forged.jsonl",
    )
    target = (f"sqlite:///{tmp_path / 'copy.db'}", str(tmp_path / "artifacts"))

    sealed = run_cli("audit", "seal", "--anchor", str(anchors), stores=sqlite_stores)
    passed = run_cli("audit", "--anchor", str(anchors), stores=sqlite_stores)
    assert run_cli("events", "export", "-o", str(exported), stores=sqlite_stores).returncode == 0
    forgery.forge_export(exported, forged, "n", 6)
    refused = run_cli("events", "import", str(forged), "--anchor", str(anchors), stores=target)
    written = _events_in(tmp_path / "copy.db")
    with sqlite_database(tmp_path / "lineage.db") as conn:
        conn.execute(f"UPDATE {view_table('runs')} SET status='failed'")
    edited = run_cli("audit", "--no-artifacts", stores=sqlite_stores)
    accepted = run_cli("events", "import", str(exported), "--anchor", str(anchors), stores=target)

    assert sealed.returncode == 0 and f"anchored in {anchors}" in sealed.stdout
    assert passed.returncode == 0 and "1 anchors" in passed.stdout, passed
    assert refused.returncode == 1 and "does not hold the anchored history" in refused.stderr
    assert "line 1 of" in refused.stderr and "nothing was imported" in refused.stderr
    assert written == 0  # refused before anything was written
    assert edited.returncode == 1 and "[view-row]" in edited.stdout
    assert "status 'failed' -> 'completed'" in edited.stdout
    assert accepted.returncode == 0 and "imported" in accepted.stdout, accepted
