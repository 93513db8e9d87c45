"""Crash safety: real processes SIGKILLed at seeded points lose nothing and corrupt nothing.

A child process (``crash_worker.py``) runs pipelines on a SQLite file and an
artifact folder and kills itself at a named checkpoint (``projections/faults``),
or is killed by this process after a seeded random delay. After every kill:

- the log opens and ``recover_runs`` marks exactly the killed run interrupted;
- the audit passes, artifact bytes included: no event points at missing bytes;
- the views resume and equal a rebuild from the log;
- the next run works, and what the cache serves loads and verifies.
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from views import view_rows

from lineagelog.adapters.export import export_events, import_events
from lineagelog.api import Client
from lineagelog.api.context import close_contexts
from lineagelog.domain.errors import RunFailedError

sys.path.insert(0, str(Path(__file__).parent))
import contextlib

from crash_pipelines import crashy, expected_total

WORKER = Path(__file__).with_name("crash_worker.py")
SCENARIOS = {
    # checkpoint(s) -> kills; the AFTER-th pass is drawn per kill from a seeded generator
    "step.body": 15,
    "materializer.write": 15,
    "artifact.written": 15,
    "artifact.recorded,run.ending": 12,
    "projector.page": 15,
    "projector.committed": 10,
}
RANDOM_DELAY_KILLS = 14
IMPORT_KILLS = 14


class Zygote:
    """The worker process: forks one child per job, reports its pid and exit code."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _line(self, prefix: str) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.startswith(prefix), f"worker said {line!r}; is it alive? {self.process.poll()}"
        return line.split()[1]

    def start(self, db: str, store: str, seed: int, points: str, after: int, *extra: str) -> int:
        """Fork a child on a job; return its pid."""
        assert self.process.stdin is not None
        self.process.stdin.write(
            " ".join([db, store, str(seed), points, str(after), *extra]) + "\n"
        )
        self.process.stdin.flush()
        return int(self._line("pid"))

    def wait(self) -> int:
        """The exit code of the last child (-9: SIGKILLed)."""
        return int(self._line("exit"))

    def close(self) -> None:
        """Stop the worker."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.process.stdout.close()


def _kill(pid: int) -> None:
    # ProcessLookupError: it finished first; the zygote reports a clean exit, not counted
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    worker = Zygote()
    yield worker
    worker.close()


def check_after_kill(db: str, store: str, rng: random.Random) -> None:
    """Everything a user can see after a crash is consistent, and work goes on."""
    close_contexts()
    client = Client(db, store)  # the log opens and the views resume

    recovery = client.recover_runs(apply=True)
    assert [d.verdict for d in recovery.decisions if d.verdict != "interrupted"] == []
    assert len(recovery.decisions) <= 1  # only the run of the killed process was unfinished
    assert client.list_runs(status="running") == []

    report = client.audit(verify_artifacts=True)
    assert report.ok, [p.message for p in report.problems]
    for version in client.list_artifact_versions():
        if not version.deleted:
            assert client.context.artifacts.exists(version.uri), version

    maintained = view_rows(client.context)
    client.context.projector.rebuild()
    assert view_rows(client.context) == maintained

    n = rng.randint(1, 4)
    run = crashy.run(n=n, database_url=db, artifact_store=store)
    assert run.status in ("completed", "cached")  # cached: every step was served from the cache
    squares = run.steps["square"].outputs["squares"].load(verify=True)
    assert list(squares) == [v * v for v in range(n)]
    assert run.steps["total"].outputs["total"].load(verify=True) == expected_total(n)


@pytest.mark.parametrize(("points", "kills"), list(SCENARIOS.items()), ids=list(SCENARIOS))
def test_a_process_killed_at_a_checkpoint_loses_and_corrupts_nothing(
    zygote, sqlite_store_urls, points, kills
):
    db, store = sqlite_store_urls
    rng = random.Random(f"crash:{points}")
    killed = 0

    for _ in range(kills * 2):
        if killed == kills:
            break
        zygote.start(db, store, rng.randrange(2**32), points, rng.randint(1, 4))
        code = zygote.wait()
        assert code in (0, -signal.SIGKILL)
        killed += code == -signal.SIGKILL
        check_after_kill(db, store, rng)

    assert killed == kills, f"only {killed} of {kills} planned kills at {points} happened"


def test_a_process_killed_after_a_random_delay_loses_and_corrupts_nothing(
    zygote, sqlite_store_urls
):
    db, store = sqlite_store_urls
    rng = random.Random("crash:random-delay")
    killed = 0

    for _ in range(RANDOM_DELAY_KILLS):
        pid = zygote.start(db, store, rng.randrange(2**32), "-", 1)
        # The random delay IS the behaviour under test: the kill lands anywhere in the
        # work, at no checkpoint a condition could name.
        time.sleep(rng.uniform(0.0, 1.0))
        _kill(pid)
        killed += zygote.wait() == -signal.SIGKILL
        check_after_kill(db, store, rng)

    assert killed == RANDOM_DELAY_KILLS


def test_an_import_killed_part_way_leaves_all_or_nothing(zygote, tmp_path):
    source_db, store = f"sqlite:///{tmp_path / 'source.db'}", str(tmp_path / "artifacts")
    for n in range(1, 5):
        for fail in (False, True):
            with contextlib.suppress(RunFailedError):
                crashy.run(n=n, fail=fail, database_url=source_db, artifact_store=store)
    exported = tmp_path / "events.jsonl"
    buffer = io.StringIO()
    export_events(Client(source_db, store).context.events, buffer)
    exported.write_text(buffer.getvalue())
    total = Client(source_db, store).context.events.max_position()
    source = Client(source_db, store)
    source.context.catch_up()
    expected_views = view_rows(source.context)
    started = time.perf_counter()
    scratch = Client(f"sqlite:///{tmp_path / 'scratch.db'}", store)
    with exported.open() as events_file:
        import_events(scratch.context.events, events_file)
    window = time.perf_counter() - started  # how long an import takes here, roughly
    rng = random.Random("crash:import")
    killed = outcomes = 0

    while killed < IMPORT_KILLS and outcomes < IMPORT_KILLS * 6:
        outcomes += 1
        target = f"sqlite:///{tmp_path / f'target{outcomes}.db'}"
        pid = zygote.start(target, store, 0, "-", 1, str(exported))
        time.sleep(rng.uniform(0.0, window))  # as above: a kill anywhere in the import
        _kill(pid)
        killed += zygote.wait() == -signal.SIGKILL
        close_contexts()
        client = Client(target, store)

        assert client.context.events.max_position() in (0, total)
        assert client.audit(verify_artifacts=True).ok
        if client.context.events.max_position() == total:
            client.context.projector.catch_up()
            assert view_rows(client.context) == expected_views

    assert killed == IMPORT_KILLS
    close_contexts()


def test_the_scenarios_kill_at_least_a_hundred_times():
    assert sum(SCENARIOS.values()) + RANDOM_DELAY_KILLS + IMPORT_KILLS >= 100
