"""``lineagelog events import`` builds the imported log's views without growing with its length.

The real command runs in a new process on an events file of some tens of thousands
of events; its peak memory is compared with that of the streaming import alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli import run_python

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import export_events
from lineagelog.api import Client
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome

_PEAK = """
import resource, subprocess, sys
subprocess.run([sys.executable, *sys.argv[1:]], check=True, capture_output=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
"""Run ``python ARGS``; print its peak resident KiB.

Started from this small process, not from the test's: Linux counts what a process
had before ``exec`` (a fork of the test process) in its peak."""

_IMPORT_ALONE = """
import sys
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import import_events
store = EventStore(sys.argv[2])
with open(sys.argv[1], encoding="utf-8") as source:
    import_events(store, source, workers=1)
store.close()
"""
"""Import FILE into DATABASE_URL without building the views."""

VIEWS_ALLOWANCE_KIB = 40 * 1024
"""What building the views may add to the import's peak: a page of 5,000 events and
SQLite's lean page cache, partly filled at this size. With plain stored rows this was
under 24 MiB; reading compact (deflated) rows adds about 20 MiB more, not yet explained
or bounded. The old catch-up, projecting in 20,000-event pages, added 67 to 76 MiB here."""


def _history(path: Path, runs: int) -> Path:
    """Export ``runs`` runs of five steps each (cache decisions, successes) to ``path``."""
    store = EventStore(f"sqlite:///{path.with_suffix('.db')}")
    try:
        for start in range(0, runs, 200):
            batch: list[object] = []
            for i in range(start, min(runs, start + 200)):
                run = PipelineRun.start(
                    pipeline="imported", run_name=f"r{i}", parameters={}, dag={}, environment={}
                )
                for s in range(5):
                    step = StepRun.start(
                        run_id=run.id,
                        pipeline="imported",
                        invocation_id=f"step_{s}",
                        step_name=f"step_{s}",
                        source_ref=f"pipelines.imported:step_{s}",
                        code_hash="c0de" * 16,
                        parameters={"s": s, "text": "x" * 200},
                        inputs={},
                    )
                    step.decide_cache(
                        cache_key=f"{i:032x}{s:032x}",
                        outcome=CacheOutcome.MISS,
                        reason="no earlier execution",
                        ingredients={"code_hash": "c0de", "inputs": {}},
                    )
                    step.succeed(duration_s=0.5)
                    batch.append(step)
                run.complete()
                batch.append(run)
            store.save(*batch)
        with path.open("w", encoding="utf-8") as out:
            export_events(store, out)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An events file of about 40,000 events."""
    return _history(tmp_path_factory.mktemp("views") / "history.jsonl", 2_400)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An events file of about 300 events."""
    return _history(tmp_path_factory.mktemp("tiny") / "tiny.jsonl", 20)


def _peak_kib(alone: bool, file: Path, target: Path) -> int:
    """Peak KiB of importing ``file`` into ``target``: the import alone, or the command."""
    command = ["-c", _IMPORT_ALONE] if alone else ["-m", "lineagelog.api.cli", "events", "import"]
    options = [str(file), f"sqlite:///{target}"] if alone else [str(file), "--database-url"]
    if not alone:
        options.append(f"sqlite:///{target}")
    result = run_python("-c", _PEAK, *command, *options, timeout=600)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1])


def test_the_import_command_builds_the_views_in_little_more_memory_than_the_import_takes(
    events_file: Path, tiny_file: Path, tmp_path: Path
) -> None:
    # what the command line loads besides the import (typer, rich, the views' modules)
    own = _peak_kib(False, tiny_file, tmp_path / "tiny.db")
    own -= _peak_kib(True, tiny_file, tmp_path / "tiny_alone.db")

    imported = _peak_kib(True, events_file, tmp_path / "alone.db")
    command = _peak_kib(False, events_file, tmp_path / "command.db")

    assert command - imported - own < VIEWS_ALLOWANCE_KIB, (own, imported, command)
    client = Client(f"sqlite:///{tmp_path / 'command.db'}")
    assert len(client.list_runs(limit=10_000)) == 2_400
    assert {run.status for run in client.list_runs(limit=10_000)} == {"completed"}
