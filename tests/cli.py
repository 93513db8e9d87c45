"""Run the real ``lineagelog`` command line in a new process, as a user would.

Every test that starts ``python -m lineagelog.api.cli`` (or a pipeline script) goes
through here, so each gets the same clean environment: no ``LINEAGELOG_`` setting
leaks in from the shell running the tests, the package is importable as this
process imported it, and a wide terminal keeps tables on one line. Import from
any test module (``from cli import run_cli``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypedDict, Unpack

import lineagelog.api

__all__ = [
    "HAS_DOT",
    "NEEDS_DOT",
    "ProcessOptions",
    "assert_one_line_error",
    "run_cli",
    "run_python",
    "store_options",
]

# The folder that holds the ``lineagelog`` package as this process imported it.
PACKAGE_PARENT = Path(lineagelog.api.__file__).parent.parent.parent
HAS_DOT = shutil.which("dot") is not None
NEEDS_DOT = "the Graphviz `dot` program is not installed (apt-get install graphviz)"


class ProcessOptions(TypedDict, total=False):
    """How ``run_python`` and ``run_cli`` start the process.

    stores: (database URL, artifact store), passed as ``LINEAGELOG_DATABASE_URL``
        and ``LINEAGELOG_ARTIFACT_STORE``.
    settings: further environment variables (``LINEAGELOG_HOME``...).
    cwd: the working folder of the process.
    path: the process's ``PATH`` (to hide or show a program such as ``dot``).
    stdin: what the process reads on its standard input.
    timeout: seconds before the test fails on a hung process (default 120).
    preexec_fn: run in the child before it starts (e.g. to limit its memory).
    """

    stores: tuple[str, str]
    settings: Mapping[str, str]
    cwd: Path
    path: str
    stdin: str
    timeout: float
    preexec_fn: Callable[[], object]


def run_python(*args: str, **options: Unpack[ProcessOptions]) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` (a script, or ``-m module ...``) with only the settings given.

    Returns:
        The finished process, its output captured as text; a non-zero exit is not an error.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGELOG_")}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PACKAGE_PARENT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["COLUMNS"] = "200"
    if "stores" in options:
        env["LINEAGELOG_DATABASE_URL"], env["LINEAGELOG_ARTIFACT_STORE"] = options["stores"]
    env.update(options.get("settings", {}))
    if "path" in options:
        env["PATH"] = options["path"]
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=options.get("cwd"),
        input=options.get("stdin"),
        timeout=options.get("timeout", 120),
        check=False,
        preexec_fn=options.get("preexec_fn"),
    )


def run_cli(*args: str, **options: Unpack[ProcessOptions]) -> subprocess.CompletedProcess[str]:
    """Run ``lineagelog ARGS`` (``python -m lineagelog.api.cli ARGS``), as ``run_python``."""
    return run_python("-m", "lineagelog.api.cli", *args, **options)


def store_options(database_url: str | None, artifact_store: str | None) -> list[str]:
    """The command-line options that name the stores (those given), for ``run_cli``."""
    return [
        *(["--database-url", database_url] if database_url else []),
        *(["--artifact-store", artifact_store] if artifact_store else []),
    ]


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """The command failed with one clear line on stderr, naming ``fragments``."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
