"""A long events file imports in bounded memory, and a killed import leaves the target as it was.

Both run the real ``lineagelog events import`` in a new process on a history of
some tens of thousands of events, sealed as runs seal it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli import PACKAGE_PARENT, run_cli, run_python
from waiting import wait_until

from lineagelog.adapters.bulk_insert import _CACHE_KIB
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import export_events
from lineagelog.adapters.sealing import seal_log
from lineagelog.api import Client
from lineagelog.domain.run import PipelineRun

_PEAK_RSS = """
import resource, sys
from lineagelog.adapters.bulk_insert import _CACHE_KIB
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import import_events
store = EventStore(sys.argv[2])
with open(sys.argv[1], encoding="utf-8") as source:
    import_events(store, source, workers=int(sys.argv[3]))
store.close()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
"""Import FILE into DATABASE_URL with WORKERS; print the peak resident KiB, then its workers'.

The command line's import then projects the views (``catch_up``), whose memory is
the projector's: this measures the import itself.
"""


def _history(path: Path, runs: int) -> Path:
    """Export a log of ``runs`` completed runs, sealed every 500 runs, to ``path``."""
    store = EventStore(f"sqlite:///{path.with_suffix('.db')}")
    try:
        for start in range(0, runs, 500):
            batch = []
            for i in range(start, min(runs, start + 500)):
                run = PipelineRun.start(
                    pipeline="imported",
                    run_name=f"r{i}",
                    parameters={"i": i},
                    dag={},
                    environment={},
                )
                run.complete()
                batch.append(run)
            store.save(*batch)
            seal_log(store)
        with path.open("w", encoding="utf-8") as out:
            export_events(store, out)
    finally:
        store.close()
    return path


@pytest.fixture(scope="module")
def long_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An events file of about 40,000 events (some 20 MiB)."""
    return _history(tmp_path_factory.mktemp("long") / "long.jsonl", 20_000)


@pytest.fixture(scope="module")
def short_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An events file of about 1,000 events."""
    return _history(tmp_path_factory.mktemp("short") / "short.jsonl", 500)


def _peak_kib(file: Path, target: Path | str, workers: int) -> tuple[int, int]:
    url = target if isinstance(target, str) else f"sqlite:///{target}"
    result = run_python("-c", _PEAK_RSS, str(file), url, str(workers))
    assert result.returncode == 0, result.stderr
    own, children = result.stdout.split()[-2:]
    return int(own), int(children)


@pytest.mark.parametrize("workers", [1, 2])
def test_importing_a_file_forty_times_longer_takes_no_more_memory_than_the_file_is_long(
    long_file: Path, short_file: Path, tmp_path: Path, workers: int
) -> None:
    # 200 MiB at 6.5 million events, scaled down to this file, above SQLite's own page
    # cache during the import (bounded, and filled by the long file's rows)
    allowance_kib = _CACHE_KIB + 12 * 1024
    assert long_file.stat().st_size > 1.5 * 12 * 2**20  # reading it whole would show

    short = _peak_kib(short_file, tmp_path / "short.db", workers)
    long = _peak_kib(long_file, tmp_path / "long.db", workers)

    assert long[0] - short[0] < allowance_kib, (short, long)
    assert long[1] < short[0] + 12 * 1024, (short, long)  # each worker, if there were any
    assert Client(f"sqlite:///{tmp_path / 'long.db'}").audit(verify_artifacts=False).ok


@pytest.mark.postgres
def test_an_import_into_postgresql_holds_one_batch_at_a_time(
    long_file: Path, short_file: Path, postgres_url: str
) -> None:
    short = _peak_kib(short_file, postgres_url + "?schema=short", 1)
    long = _peak_kib(long_file, postgres_url + "?schema=long", 1)

    assert long[0] - short[0] < 12 * 1024, (short, long)  # no page cache here: the server's
    assert Client(postgres_url + "?schema=long").audit(verify_artifacts=False).ok


def _read_half(file: Path, process: subprocess.Popen[str]) -> bool:
    """Whether the import has read half the file (and so verified and inserted about half)."""
    assert process.poll() is None, "the import ended before it could be killed"
    counters = Path(f"/proc/{process.pid}/io").read_text().split()
    return int(counters[counters.index("rchar:") + 1]) > file.stat().st_size // 2


@pytest.fixture
def killed_import(long_file: Path, tmp_path: Path) -> Iterator[Path]:
    """A target database whose import was SIGKILLed while it was inserting."""
    target = tmp_path / "target.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGELOG_")}
    env["PYTHONPATH"] = str(PACKAGE_PARENT)
    options = ["--database-url", f"sqlite:///{target}"]
    process = subprocess.Popen(
        [sys.executable, "-m", "lineagelog.api.cli", "events", "import", str(long_file), *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _read_half(long_file, process), 120, "the import to read half the file")
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    yield target


def test_a_killed_import_leaves_the_target_empty_and_a_new_import_finishes_it(
    killed_import: Path, long_file: Path
) -> None:
    url = f"sqlite:///{killed_import}"
    store = EventStore(url)
    left = store.max_position()
    store.close()

    audit = run_cli("audit", "--database-url", url, "--artifact-store", str(killed_import.parent))
    again = run_cli("events", "import", str(long_file), "--database-url", url)

    assert left == 0
    assert audit.returncode == 0, audit.stderr
    assert again.returncode == 0, again.stderr
    count = sum(1 for _ in long_file.open(encoding="utf-8")) - 2
    assert f"imported {count} events" in again.stdout
    assert Client(url).audit(verify_artifacts=False).ok
