"""The audit, replay and events commands, each run as a user would: a new process per command."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest
from cli import run_cli, run_python

from lineagelog.adapters.stored_events import stored_row

PIPELINE = textwrap.dedent(
    """
    from typing import Annotated
    from lineagelog.api import pipeline, step

    @step
    def load(n: int) -> Annotated[list[int], "raw"]:
        return list(range(n))

    @pipeline
    def loading(n: int) -> None:
        load(n=n)

    for n in (1, 2):
        loading(n=n)
    """
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A lineagelog home with two sealed runs."""
    script = tmp_path / "make.py"
    script.write_text(PIPELINE)
    result = run_python(str(script), settings={"LINEAGELOG_HOME": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, settings={"LINEAGELOG_HOME": str(home)}, cwd=home)


def _db(home: Path) -> Path:
    return home / "lineage.db"


def test_audit_passes_on_an_untouched_history(home: Path) -> None:
    result = cli(home, "audit")

    assert result.returncode == 0, result.stderr
    assert "audit passed" in result.stdout


def test_audit_exits_non_zero_and_lists_a_modified_event(home: Path) -> None:
    with sqlite3.connect(_db(home)) as conn:
        _topic, state = stored_row(
            *conn.execute("SELECT topic, state FROM stored_events WHERE rowid=1").fetchone()
        )
        conn.execute(
            "UPDATE stored_events SET state=? WHERE rowid=1",
            (state.replace(b'"loading"', b'"loadinG"'),),
        )

    result = cli(home, "audit", "--json", "--no-artifacts", "--no-views")

    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    # one modified event, one problem: the seals over it are not each reported again
    assert [p["kind"] for p in report["problems"]] == ["hash-chain"]


def test_audit_seal_seals_new_events(home: Path) -> None:
    assert cli(home, "artifacts", "tag", "raw:1", "golden").returncode == 0

    first = cli(home, "audit", "seal")
    again = cli(home, "audit", "seal")

    assert first.returncode == 0 and "sealed" in first.stdout
    assert "nothing new to seal" in again.stdout


def test_events_export_then_import_into_another_home_audits_the_same(
    home: Path, tmp_path: Path
) -> None:
    exported = tmp_path / "events.jsonl"
    other = tmp_path / "other"
    other.mkdir()

    export = cli(home, "events", "export", "-o", str(exported))
    imported = cli(other, "events", "import", str(exported))
    twice = cli(other, "events", "import", str(exported))

    assert export.returncode == 0, export.stderr
    assert imported.returncode == 0, imported.stderr
    digest = json.loads(cli(home, "audit", "--json", "--no-artifacts").stdout)["digest"]
    assert json.loads(cli(other, "audit", "--json", "--no-artifacts").stdout)["digest"] == digest
    assert twice.returncode == 1 and "empty store" in twice.stderr


def test_replay_prints_the_runs_as_they_stood(home: Path) -> None:
    result = cli(home, "replay", "--until", "3", "--json")

    assert result.returncode == 0, result.stderr
    replayed = json.loads(result.stdout)
    assert replayed["until_position"] == 3
    assert [r["status"] for r in replayed["runs"]] == ["running"]


def test_events_tail_shows_the_newest_events(home: Path) -> None:
    result = cli(home, "events", "tail", "-n", "2")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and "LogSeal.Sealed" in lines[-1]
