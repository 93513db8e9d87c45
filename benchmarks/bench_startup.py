"""A fresh process running a one-step pipeline, beside the interpreter and the imports we need.

Runs each command ``--repeats`` times in a new process and prints the medians of
wall time and of CPU time (user + system, from ``wait4``; steadier than wall time
on a loaded machine):

- ``python -c pass``: the interpreter alone;
- ``python -c "import sqlalchemy"``: the library our views are written with;
- ``python -c "import sqlalchemy, fsspec, eventsourcing.sqlite, pydantic"``: every
  library a one-step pipeline on the embedded default cannot do without;
- ``import lineagelog.api``;
- a one-step pipeline run in a new process (SQLite database and local artifact
  store in a fresh folder), as the README shows it.

"Ours" is the pipeline's time minus the libraries' time (target under 100 ms).
Each command runs once first, so compiled modules are cached as for a user
(``PYTHONDONTWRITEBYTECODE`` is dropped from the environment).
A fixed pure-Python loop is timed too, to compare machines.

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
LIBRARIES = "import sqlalchemy, fsspec, eventsourcing.sqlite, pydantic"


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

    commands = {
        "python -c pass": ["-c", "pass"],
        'python -c "import sqlalchemy"': ["-c", "import sqlalchemy"],
        "the libraries a pipeline needs": ["-c", LIBRARIES],
        "import lineagelog.api": ["-c", "import lineagelog.api"],
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    results["one-step pipeline, new process"] = []
    with tempfile.TemporaryDirectory() as home:
        for command in [*commands.values(), ["-c", ONE_STEP, str(Path(home) / "warm-up")]]:
            measured(command)
        for i in range(args.repeats):  # interleaved: a load spike hits every command alike
            for name, command in commands.items():
                results[name].append(measured(command))
            pipeline = ["-c", ONE_STEP, str(Path(home) / f"home{i}")]
            results["one-step pipeline, new process"].append(measured(pipeline))

    medians = {
        name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        for name, runs in results.items()
    }
    for name, (wall, cpu) in medians.items():
        print(f"{name:<34} wall {wall * 1000:7.1f} ms   CPU {cpu * 1000:7.1f} ms")
    wall, cpu = medians["one-step pipeline, new process"]
    base_wall, base_cpu = medians["the libraries a pipeline needs"]
    print(
        f"{'ours (pipeline - libraries)':<34} wall {(wall - base_wall) * 1000:7.1f} ms   "
        f"CPU {(cpu - base_cpu) * 1000:7.1f} ms   (target < 100 ms)"
    )
    reference = statistics.median(reference_loop() for _ in range(5))
    print(
        f"pure-Python reference loop: median {reference * 1000:.1f} ms; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.repeats} repeats"
    )


if __name__ == "__main__":
    main()
