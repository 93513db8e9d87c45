"""Writers ending runs at the same moment do not wait for each other's seals (SQLite, PostgreSQL).

A run's end seals only when no other process is sealing (``seal_after_run``);
whoever holds the sealer lock seals again once it is released, so when every
writer is done the log is sealed to its end, and the audit is clean.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lineagelog.adapters.sealing import sealer_lock
from lineagelog.api.client import Client
from lineagelog.api.context import open_context

WORKER = Path(__file__).with_name("seal_worker.py")
SKIP_BOUND = 1.0
"""Seconds a run's end may spend when another process holds the sealer lock: one try."""
SEAL_BOUND = 10.0
"""Seconds any run's end may spend sealing, its extra passes included (a loaded machine)."""


def run_workers(
    database_url: str, store: str, rendezvous: Path, workers: int, runs: int
) -> list[dict[str, Any]]:
    """Start ``workers`` writer processes at once; return every run-end seal they timed."""
    rendezvous.mkdir()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                database_url,
                store,
                str(worker),
                str(workers),
                str(runs),
                str(rendezvous),
            ],
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for worker in range(workers)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * workers, "\n".join(outputs)
    for output in outputs:
        assert "could not be sealed" not in output, output
    calls = [
        json.loads(line)
        for output in outputs
        for line in output.splitlines()
        if line.startswith("{")
    ]
    assert len(calls) == workers * runs, "\n".join(outputs)
    return calls


def check_ends_together(database_url: str, store: str, tmp_path: Path) -> None:
    calls = run_workers(database_url, store, tmp_path / "rendezvous", workers=4, runs=3)
    for call in calls:
        bound = SEAL_BOUND if call["sealed"] else SKIP_BOUND
        assert call["seconds"] < bound, calls
    report = Client(_context=open_context(database_url, store)).audit(views=False)
    assert report.ok, report
    assert report.unsealed_tail == 0, (report, calls)  # the last run ends were sealed too
    assert report.seals_checked >= 1


def check_ends_while_another_seals(database_url: str, store: str, tmp_path: Path) -> None:
    context = open_context(database_url, store)
    with sealer_lock(context.events, wait=True) as held:
        assert held
        # Every run ends while the lock is held elsewhere: none waits, none seals.
        calls = run_workers(database_url, store, tmp_path / "rendezvous", workers=2, runs=2)
    assert [c["sealed"] for c in calls] == [False] * 4
    assert all(c["seconds"] < SKIP_BOUND for c in calls), calls
    client = Client(_context=context)
    before = client.audit(views=False)
    assert before.ok, before
    assert before.unsealed_tail > 0  # left to the lock's holder, which here never sealed
    client.seal()  # waits for the lock, then covers everything
    after = client.audit(views=False)
    assert after.ok, after
    assert after.unsealed_tail == 0


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lineage.db'}"


def test_sqlite_runs_ending_together_are_all_sealed_without_waiting(tmp_path: Path) -> None:
    check_ends_together(sqlite_url(tmp_path), str(tmp_path / "artifacts"), tmp_path)


def test_sqlite_a_run_ends_at_once_while_another_process_seals(tmp_path: Path) -> None:
    check_ends_while_another_seals(sqlite_url(tmp_path), str(tmp_path / "artifacts"), tmp_path)


@pytest.mark.postgres
def test_postgres_runs_ending_together_are_all_sealed_without_waiting(
    postgres_url: str, tmp_path: Path
) -> None:
    check_ends_together(postgres_url, str(tmp_path / "artifacts"), tmp_path)


@pytest.mark.postgres
def test_postgres_a_run_ends_at_once_while_another_process_seals(
    postgres_url: str, tmp_path: Path
) -> None:
    check_ends_while_another_seals(postgres_url, str(tmp_path / "artifacts"), tmp_path)
