"""Many writers on one PostgreSQL log and one S3 bucket, and a writer killed mid-step."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from log_checks import event_counts, registered_versions
from views import view_rows
from waiting import wait_until

from lineagelog.api.client import Client
from lineagelog.api.context import open_context

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]

WORKER = Path(__file__).with_name("concurrency_worker.py")
WORKERS = 4
RUNS = 5


def start_worker(database_url: str, store: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), database_url, store, *args],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_four_writers_and_a_killed_one_leave_a_complete_gapless_log(
    postgres_url: str, s3_store: str, tmp_path: Path
) -> None:
    database_url = postgres_url + "?schema=lineage"
    marker = tmp_path / "victim-started"
    victim = start_worker(database_url, s3_store, "99", "1", "block", str(marker))
    workers = [start_worker(database_url, s3_store, str(w), str(RUNS)) for w in range(WORKERS)]

    wait_until(marker.exists, 120, "the victim to enter its step")
    victim.send_signal(signal.SIGKILL)
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    victim.wait(timeout=30)

    assert victim.returncode == -signal.SIGKILL
    assert [w.returncode for w in workers] == [0] * WORKERS, "\n".join(outputs)
    context = open_context(database_url, s3_store)
    total = WORKERS * RUNS
    counts = event_counts(context)
    assert counts["RunCompleted"] == total
    assert counts["StepSucceeded"] == 2 * total
    assert counts["RunStarted"] == total + 1  # the victim's run started and never ended
    for name in ("shared_number", "shared_total"):
        assert registered_versions(context, name) == list(range(1, total + 1))
    client = Client(_context=context)
    versions = client.list_artifact_versions("shared_number")
    assert sorted(v.number for v in versions) == list(range(1, total + 1))
    loaded = {client.get_artifact_version("shared_total", v).load() for v in range(1, total + 1)}
    assert loaded == {w * 1000 + r + 1 for w in range(WORKERS) for r in range(RUNS)}
    if hasattr(client, "audit"):
        report = client.audit()
        assert report.ok, report
    before = view_rows(context)
    context.projector.rebuild()
    assert view_rows(context) == before
