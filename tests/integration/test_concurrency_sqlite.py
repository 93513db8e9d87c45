"""Two processes on one SQLite file racing for version numbers of the same names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from log_checks import registered_versions

from lineagelog.api.context import open_context

WORKER = Path(__file__).with_name("concurrency_worker.py")
RUNS = 6


def test_two_processes_on_one_sqlite_file_get_unique_gapless_versions(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"
    store = str(tmp_path / "artifacts")
    open_context(database_url, store)  # create the tables before the race
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), database_url, store, str(w), str(RUNS)],
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for w in range(2)
    ]

    outputs = [w.communicate(timeout=300)[0] for w in workers]

    assert [w.returncode for w in workers] == [0, 0], "\n".join(outputs)
    context = open_context(database_url, store)
    for name in ("shared_number", "shared_total"):
        assert registered_versions(context, name) == list(range(1, 2 * RUNS + 1))
    context.catch_up()
    assert sorted(v.number for v in context.queries.list_artifact_versions("shared_number")) == (
        list(range(1, 2 * RUNS + 1))
    )
