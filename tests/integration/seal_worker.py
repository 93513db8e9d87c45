"""A worker for the concurrent-seal tests: runs whose ends line up with the other workers'.

Usage: python seal_worker.py DATABASE_URL ARTIFACT_STORE WORKER WORKERS RUNS RENDEZVOUS

Run ``r``'s only step creates ``RENDEZVOUS/<r>-<worker>`` and waits until all
WORKERS have created theirs, so every worker ends run ``r`` at about the same
moment. Each run's end seal (``seal_after_run``) is timed; the worker prints one
JSON line per call: {"run": r, "seconds": ..., "sealed": true|false}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from lineagelog.adapters import sealing
from lineagelog.api import pipeline, step

RENDEZVOUS_TIMEOUT = 120.0


@step(enable_cache=False)
def meet(folder: str, worker: int, workers: int, run: int) -> int:
    Path(folder, f"{run}-{worker}").touch()
    deadline = time.monotonic() + RENDEZVOUS_TIMEOUT
    while len(list(Path(folder).glob(f"{run}-*"))) < workers:
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run}: the other workers never reached the rendezvous")
        time.sleep(0.002)
    return worker * 1000 + run


@pipeline(enable_cache=False)
def together(folder: str, worker: int, workers: int, run: int) -> None:
    meet(folder, worker, workers, run)


def main(argv: list[str]) -> None:
    database_url, artifact_store, worker, workers, runs, folder = argv
    calls: list[dict[str, object]] = []
    seal_after_run = sealing.seal_after_run

    def timed(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        result = seal_after_run(*args, **kwargs)  # type: ignore[arg-type]
        calls.append({"seconds": time.perf_counter() - started, "sealed": result is not None})
        return result

    sealing.seal_after_run = timed  # type: ignore[assignment]
    for run in range(int(runs)):
        together.run(
            folder,
            int(worker),
            int(workers),
            run,
            database_url=database_url,
            artifact_store=artifact_store,
        )
        print(json.dumps({"run": run, **calls[-1]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
