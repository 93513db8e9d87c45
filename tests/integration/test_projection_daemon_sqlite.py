"""``lineagelog projections run`` on the embedded SQLite store: polling, stop, resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from log_checks import append_runs
from waiting import wait_until

from lineagelog.api.context import open_context


def test_the_daemon_polls_sqlite_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"
    store = str(tmp_path / "artifacts")
    context = open_context(database_url, store)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "lineagelog.api.cli", "projections", "run", "--follow",
         "--interval", "0.05", "--database-url", database_url, "--artifact-store", store],
        env=os.environ.copy(), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        last = append_runs(database_url, 12)
        wait_until(
            lambda: min(context.projector.positions().values()) >= last,
            30,
            "the daemon to catch up",
        )
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)

    assert daemon.returncode == 0, err
    assert "polling every 0.05s" in err
    assert f"views at position {last}" in err
    assert len(context.queries.list_runs()) == 12
