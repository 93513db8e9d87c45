"""Runs whose process vanished are marked interrupted, with events, and nothing is guessed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli import run_cli, store_options
from waiting import wait_until

from lineagelog.api import Client
from lineagelog.api.context import open_context
from lineagelog.api.recovery import process_is_alive
from lineagelog.domain.errors import LineageError
from lineagelog.domain.run import PipelineRun

HANGING_PIPELINE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from lineagelog.api import pipeline, step

    started, db, store = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    @step
    def first() -> int:
        return 1

    @step
    def hang(x: int) -> int:
        started.write_text("in the step")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the parent kills us long before
            time.sleep(0.05)
        return x

    @pipeline
    def hanging() -> None:
        hang(first())

    hanging.run(database_url=db, artifact_store=store)
    """
)


@pytest.fixture
def killed_run(tmp_path: Path, sqlite_store_urls: tuple[str, str]) -> tuple[str, str]:
    """A run whose process was SIGKILLed inside its second step."""
    db, store = sqlite_store_urls
    script, started = tmp_path / "hang.py", tmp_path / "started"
    script.write_text(HANGING_PIPELINE)
    child = subprocess.Popen([sys.executable, str(script), str(started), db, store])
    try:
        wait_until(started.exists, 60, "the child to enter its second step")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    return db, store


def _start_foreign_run(db: str, store: str, *, host: str, seconds_ago: float = 0.0) -> str:
    """A run recorded as started by a process on another machine."""
    context = open_context(db, store)
    run = PipelineRun.start(
        pipeline="remote",
        run_name="remote-1",
        parameters={},
        dag={"steps": {}},
        environment={"host": host, "pid": 4242},
    )
    if seconds_ago:
        object.__setattr__(
            run.pending_events[0], "timestamp", datetime.now(UTC) - timedelta(seconds=seconds_ago)
        )
    context.events.save(run)
    return str(run.id)


def test_recovery_is_a_dry_run_by_default_like_the_cli(killed_run):
    db, store = killed_run
    client = Client(db, store)
    before = client.context.events.max_position()

    report = client.recover_runs()

    assert [d.verdict for d in report.decisions] == ["interrupted"]
    assert "is gone" in report.decisions[0].reason
    assert not report.decisions[0].marked
    assert client.context.events.max_position() == before
    assert client.list_runs()[0].status == "running"


def test_recovery_marks_the_killed_run_and_its_running_step_interrupted(killed_run):
    db, store = killed_run
    client = Client(db, store)

    report = client.recover_runs(apply=True)

    run = client.list_runs()[0]
    assert report.decisions[0].marked
    assert run.status == "interrupted"
    assert "is gone" in (run.error or "")
    assert run.steps["first"].status == "completed"
    assert run.steps["hang"].status == "interrupted"
    assert client.context.queries.get_step_run(str(run.steps["hang"].id)).error_message.startswith(
        "its run was interrupted"
    )


def test_recovering_twice_marks_a_run_only_once(killed_run):
    db, store = killed_run
    client = Client(db, store)
    client.recover_runs(apply=True)
    after_first = client.context.events.max_position()

    report = client.recover_runs(apply=True)

    assert report.decisions == []
    assert client.context.events.max_position() == after_first


def test_the_interruption_is_in_the_log_and_survives_a_rebuild(killed_run):
    db, store = killed_run
    client = Client(db, store)
    client.recover_runs(apply=True)

    client.context.projector.rebuild()

    run = client.list_runs()[0]
    assert run.status == "interrupted"
    assert run.steps["hang"].status == "interrupted"
    assert client.audit(verify_artifacts=True).ok


def test_the_next_run_after_recovery_works(killed_run, tmp_path):
    db, store = killed_run
    Client(db, store).recover_runs(apply=True)
    from lineagelog.examples.numbers_pipeline import numbers

    run = numbers.run(database_url=db, artifact_store=store)

    assert run.status == "completed"


def test_a_run_of_a_live_process_on_this_host_is_left_running(sqlite_store_urls):
    db, store = sqlite_store_urls
    context = open_context(db, store)
    run = PipelineRun.start(
        pipeline="alive",
        run_name="alive-1",
        parameters={},
        dag={"steps": {}},
        environment={"host": os.uname().nodename, "pid": os.getpid()},
    )
    context.events.save(run)

    report = Client(db, store).recover_runs(timeout=0, apply=True)

    assert [d.verdict for d in report.decisions] == ["running"]
    assert "still alive" in report.decisions[0].reason
    assert Client(db, store).get_run(run.id).status == "running"


def test_a_run_from_another_host_without_a_timeout_is_unknown_and_not_marked(sqlite_store_urls):
    db, store = sqlite_store_urls
    run_id = _start_foreign_run(db, store, host="gpu-node-7", seconds_ago=3600)

    report = Client(db, store).recover_runs()

    assert [d.verdict for d in report.decisions] == ["unknown"]
    assert "--timeout" in report.decisions[0].reason
    assert Client(db, store).get_run(run_id).status == "running"


def test_a_run_from_another_host_is_marked_only_when_quiet_for_longer_than_the_timeout(
    sqlite_store_urls,
):
    db, store = sqlite_store_urls
    stale = _start_foreign_run(db, store, host="gpu-node-7", seconds_ago=3600)
    fresh = _start_foreign_run(db, store, host="gpu-node-8")

    report = Client(db, store).recover_runs(timeout=600, apply=True)

    verdicts = {d.run_id: d.verdict for d in report.decisions}
    assert verdicts == {stale: "interrupted", fresh: "running"}
    assert Client(db, store).get_run(stale).status == "interrupted"
    assert Client(db, store).get_run(fresh).status == "running"


def test_a_negative_timeout_is_refused(sqlite_store_urls):
    db, store = sqlite_store_urls

    with pytest.raises(LineageError, match=r"timeout -5"):
        Client(db, store).recover_runs(timeout=-5)


def test_a_pid_reused_by_a_newer_process_counts_as_gone():
    long_ago = datetime.now(UTC) - timedelta(days=365 * 30)

    assert process_is_alive(os.getpid())
    assert not process_is_alive(os.getpid(), started_at=long_ago)


def test_the_cli_is_a_dry_run_by_default_and_marks_with_apply(killed_run):
    db, store = killed_run
    options = store_options(db, store)

    dry = run_cli("runs", "recover", *options)
    applied = run_cli("runs", "recover", "--apply", "--json", *options)
    listed = run_cli("runs", "list", "--json", *options)

    assert dry.returncode == 0, dry.stderr
    assert "would be marked interrupted" in dry.stdout
    report = json.loads(applied.stdout)
    assert report["applied"] is True
    assert [(r["verdict"], r["marked"]) for r in report["runs"]] == [("interrupted", True)]
    assert [r["status"] for r in json.loads(listed.stdout)] == ["interrupted"]
