"""A worker process for the concurrency tests: runs pipelines that write shared names.

Usage: python concurrency_worker.py DATABASE_URL ARTIFACT_STORE WORKER RUNS [block MARKER]

Every run writes a new version of ``shared_number`` and ``shared_total``, the
same names in every worker. With ``block MARKER`` the worker instead runs one
pipeline whose first step creates MARKER and then waits (to be killed mid-step).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

from lineagelog.api import pipeline, step

SHARED_NAMES = ("shared_number", "shared_total")


@step(enable_cache=False)
def make(worker: int, run: int) -> Annotated[int, "shared_number"]:
    return worker * 1000 + run


@step(enable_cache=False)
def add(number: int) -> Annotated[int, "shared_total"]:
    return number + 1


@pipeline(enable_cache=False)
def shared(worker: int, run: int) -> None:
    add(make(worker, run))


@step(enable_cache=False)
def hang(marker: str) -> Annotated[int, "shared_number"]:
    Path(marker).write_text("started")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # killed long before this ends
        time.sleep(0.05)
    return -1


@pipeline(enable_cache=False)
def hanging(marker: str) -> None:
    add(hang(marker))


def main(argv: list[str]) -> None:
    database_url, artifact_store, worker, runs = argv[:4]
    if len(argv) > 4 and argv[4] == "block":
        hanging.run(argv[5], database_url=database_url, artifact_store=artifact_store)
        return
    for run in range(int(runs)):
        shared.run(int(worker), run, database_url=database_url, artifact_store=artifact_store)


if __name__ == "__main__":
    main(sys.argv[1:])
