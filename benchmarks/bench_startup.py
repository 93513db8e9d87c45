"""A fresh process running a one-step pipeline, beside the interpreter and the libraries it needs.

Each command runs ``--repeats`` times in a new process, the commands interleaved
(a load spike hits every command alike); the script prints the medians of wall
time and of CPU time (user + system of the process and its children, from
``wait4``: steadier than wall time on a shared machine).

- ``python -c pass``: the interpreter alone;
- ``python -c "import sqlalchemy"``: the library the views are written with;
- the libraries we cannot avoid (``LIBRARIES`` below): what a one-step pipeline on
  the embedded default must import whoever wrote it;
- ``import lineagelog.api`` (``from lineagelog.api import step, pipeline`` loads the same);
- the README's one-step pipeline in a new process, in a new folder (a new database);
- the same pipeline run again in a new process on that database (a cache hit).

**Ours** is a pipeline's time minus the libraries' time: our own modules'
import, opening the store, the step, the appends, the seal and the views'
catch-up (the target is under 100 ms). The libraries we cannot avoid are
SQLAlchemy with its SQLite dialect and the ``sqlite3`` driver (the views and the
connection), eventsourcing's domain, persistence and SQLite recorder (the log),
and fsspec with its local filesystem (the artifact store). pydantic is not one:
a pipeline whose steps take and return plain values never loads it. So that the
definition cannot drift, the script checks that the pipeline's process loads no
third-party package beyond them and prints any it does.

Compiled modules are cached as for a user: ``PYTHONDONTWRITEBYTECODE`` is
dropped from the environment and every command runs once before the timing.
A fixed pure-Python loop is timed too, to compare machines (or moments).

    python benchmarks/bench_startup.py [--repeats 15]
    python -X importtime -c "import lineagelog.api" 2>&1 | sort -t'|' -k2 -n | tail -30
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ONE_STEP = """
import sys
from lineagelog.api import pipeline, step, configure
configure(home=sys.argv[1])
@step
def one(x: int = 1) -> int:
    return x + 1
@pipeline
def single() -> None:
    one()
single()
"""

LIBRARIES = (
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "sqlite3",
    "eventsourcing.domain",
    "eventsourcing.persistence",
    "eventsourcing.sqlite",
    "fsspec",
    "fsspec.implementations.local",
)
"""The imports a one-step pipeline on the embedded default cannot avoid."""

THIRD_PARTY = """
import sys
stdlib = sys.stdlib_module_names | {"__main__", "builtins"}
print(",".join(sorted({n.split(".")[0] for n in sys.modules} - stdlib)))
"""
"""Appended to a command: print the third-party top-level packages its process loaded."""

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""As a user runs it: compiled modules cached in ``__pycache__`` (written by the warm-up run)."""


def measured(args: list[str]) -> tuple[float, float]:
    """Run ``python ARGS`` in a new process; return (wall seconds, CPU seconds)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, *args], env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    took = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"python {args} failed")
    return took, usage.ru_utime + usage.ru_stime


def third_party(code: str, *argv: str) -> set[str]:
    """The third-party top-level packages ``python -c CODE ARGV`` loads."""
    printed = subprocess.run(
        [sys.executable, "-c", code + THIRD_PARTY, *argv],
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {name for name in printed.split(",") if name} - {"lineagelog"}


def reference_loop() -> float:
    """A fixed pure-Python loop: divide by it to compare machines (or moments)."""
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i % 7
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    libraries = "import " + ", ".join(LIBRARIES)
    new_database, existing_database = "pipeline, new database", "pipeline, existing database"
    commands = {
        "python -c pass": ["-c", "pass"],
        'python -c "import sqlalchemy"': ["-c", "import sqlalchemy"],
        "libraries we cannot avoid": ["-c", libraries],
        "import lineagelog.api": ["-c", "import lineagelog.api"],
    }
    results: dict[str, list[tuple[float, float]]] = {
        name: [] for name in [*commands, new_database, existing_database]
    }
    with tempfile.TemporaryDirectory() as home:
        for command in commands.values():
            measured(command)
        warm_up = str(Path(home) / "warm-up")
        loaded = third_party(ONE_STEP, warm_up)  # also compiles every module it loads
        beyond = loaded - third_party(libraries)
        for i in range(args.repeats):
            for name, command in commands.items():
                results[name].append(measured(command))
            pipeline = ["-c", ONE_STEP, str(Path(home) / f"home{i}")]
            results[new_database].append(measured(pipeline))
            results[existing_database].append(measured(pipeline))

    medians = {
        name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        for name, runs in results.items()
    }
    for name, (wall, cpu) in medians.items():
        print(f"{name:<34} wall {wall * 1000:7.1f} ms   CPU {cpu * 1000:7.1f} ms")
    base_wall, base_cpu = medians["libraries we cannot avoid"]
    for name in (new_database, existing_database):
        wall, cpu = medians[name]
        print(
            f"{'ours, ' + name.removeprefix('pipeline, '):<34} "
            f"wall {(wall - base_wall) * 1000:7.1f} ms   "
            f"CPU {(cpu - base_cpu) * 1000:7.1f} ms   (target < 100 ms)"
        )
    print(f"libraries we cannot avoid: {', '.join(LIBRARIES)}")
    print(
        "third-party packages the pipeline loads beyond them: "
        + (", ".join(sorted(beyond)) if beyond else "none")
    )
    reference = statistics.median(reference_loop() for _ in range(5))
    print(
        f"pure-Python reference loop: median {reference * 1000:.1f} ms; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.repeats} repeats"
    )


if __name__ == "__main__":
    main()
