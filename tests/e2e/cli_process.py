"""Run the real ``lineagelog`` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import lineagelog.api

# The folder that holds the ``lineagelog`` package as this process imported it.
PACKAGE_PARENT = Path(lineagelog.api.__file__).parent.parent.parent
HAS_DOT = shutil.which("dot") is not None
NEEDS_DOT = "the Graphviz `dot` program is not installed (apt-get install graphviz)"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def run_cli(
    *args: str,
    stores: tuple[str, str] | None = None,
    cwd: Path | None = None,
    path: str | None = None,
    timeout: float = 120,
) -> Result:
    """Run ``python -m lineagelog.api.cli ARGS``; ``stores`` become the settings' env vars."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGELOG_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PACKAGE_PARENT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["COLUMNS"] = "200"
    if stores is not None:
        env["LINEAGELOG_DATABASE_URL"], env["LINEAGELOG_ARTIFACT_STORE"] = stores
    if path is not None:
        env["PATH"] = path
    done = subprocess.run(
        [sys.executable, "-m", "lineagelog.api.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """The command failed with one clear line on stderr, naming ``fragments``."""
    assert result.code != 0, result
    assert "Traceback" not in result.err, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
