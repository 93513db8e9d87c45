"""On a read-only filesystem, reads still work: the views answer as they are and say how far behind.

Tests run as root in CI, where ``chmod -w`` does not stop a write, so the
project folder is made read-only for real: the command runs in its own mount
namespace (``unshare -m``) where the folder is bind-mounted read-only, and the
wrapper first proves that creating a file there fails before it runs anything.
As another user, ``chmod -w`` on the folder and the database is used instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli import run_python
from parts import unavailable

from lineagelog.adapters.event_store import EventStore
from lineagelog.domain.artifact_name import ArtifactName

PIPELINE = textwrap.dedent(
    """
    from typing import Annotated

    from lineagelog.api import pipeline, step


    @step
    def load(n: int = 5) -> Annotated[list[int], "numbers"]:
        return list(range(n))


    @pipeline
    def numbers(n: int = 5):
        load(n=n)


    numbers(n=4)
    """
)

# Bind the folder read-only in a private mount namespace, prove a write fails, then run.
_READ_ONLY_MOUNT = (
    'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" || exit 96; '
    'if touch "$1/.write-probe" 2>/dev/null; then echo "still writable" >&2; exit 97; fi; '
    'shift; exec "$@"'
)
_EXEC_READ_ONLY = (
    "import os, sys; os.execvp('unshare', ['unshare', '-m', 'sh', '-c', "
    f"{_READ_ONLY_MOUNT!r}, 'sh', sys.argv[1], sys.executable, *sys.argv[2:]])"
)


def _namespaces_work(folder: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", _READ_ONLY_MOUNT, "sh", str(folder), "true"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


@contextmanager
def read_only(project: Path) -> Iterator[object]:
    """Yield a function running ``python ARGS`` in ``project`` while it is read-only."""
    if os.geteuid() == 0:
        if not _namespaces_work(project):
            unavailable("a mount namespace (unshare -m) to make a folder read-only as root", "")

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return run_python("-c", _EXEC_READ_ONLY, str(project), *args, cwd=project)

        yield run
        return
    paths = [project, project / ".lineagelog", project / ".lineagelog" / "lineage.db"]
    modes = {p: p.stat().st_mode for p in paths}
    for path in paths:
        path.chmod(modes[path] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        yield lambda *args: run_python(*args, cwd=project)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "flow.py").write_text(PIPELINE)
    result = run_python("flow.py", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


def test_reads_work_on_a_read_only_project_and_write_nothing(project):
    database = project / ".lineagelog" / "lineage.db"
    before = sorted(p.name for p in database.parent.iterdir()), digest(database)

    with read_only(project) as run:
        runs = run("-m", "lineagelog.api.cli", "runs", "list")
        audit = run("-m", "lineagelog.api.cli", "audit")
        loaded = run(
            "-c",
            "from lineagelog.api import Client; "
            "print(Client().get_artifact_version('numbers').load())",
        )

    assert runs.returncode == 0, runs.stderr
    assert "numbers" in runs.stdout and "completed" in runs.stdout
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[0, 1, 2, 3]"
    assert (sorted(p.name for p in database.parent.iterdir()), digest(database)) == before


def test_views_behind_the_log_answer_as_they_are_and_say_how_far_behind(project):
    database = project / ".lineagelog" / "lineage.db"
    events = EventStore(f"sqlite:///{database}")
    events.save(ArtifactName.register_name("late"))  # in the log, not yet in the views
    log_position = events.max_position()
    events.close()

    with read_only(project) as run:
        listed = run("-m", "lineagelog.api.cli", "artifacts", "list")

    assert listed.returncode == 0, listed.stderr
    assert "numbers" in listed.stdout
    assert "late" not in listed.stdout
    assert "read-only" in listed.stderr
    assert f"1 event(s) behind the log (position {log_position})" in listed.stderr


def test_a_write_on_a_read_only_project_fails_with_a_message(project):
    with read_only(project) as run:
        tagged = run("-m", "lineagelog.api.cli", "artifacts", "tag", "numbers:1", "prod")

    assert tagged.returncode != 0
    assert "Traceback" not in tagged.stderr
    assert "is read-only here" in tagged.stderr
