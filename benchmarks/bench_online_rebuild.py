"""How long writers wait for the write lock while an online rebuild runs (target: max < 250 ms).

Copies a SQLite history with its views (made by ``bench_lineage.py``) to a scratch
file for each repeat, starts a writer process on it, and runs
``Projector.rebuild(online=True)`` in this one. The writer process:

- appends pipeline runs (a run and ``--steps-per-run`` step runs with their cache
  decisions, one save each, as a pipeline's driver does), timing each save;
- probes the lock: a thread that asks for it (``BEGIN IMMEDIATE``) again and again,
  timing how long each request waits.

Prints, per repeat and as medians over the repeats, the rebuild's rate and the
maximum and 99th percentile of the probe's waits and of the saves, with the
pure-Python reference loop's time (the machine's speed at that moment).

    python benchmarks/bench_lineage.py --steps 10000 --database /tmp/small.db --samples 0
    python benchmarks/bench_online_rebuild.py /tmp/small.db --repeats 3

Run with the ``lineagelog`` package importable (``pip install -e .`` or
``PYTHONPATH`` pointing at a folder that holds it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench_step_overhead import reference_loop
from sqlalchemy import create_engine

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.view_engine import sqlite_bulk_writes, sqlite_write_locking
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome
from lineagelog.projections.projector import Projector


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _pipeline_run(number: int, steps: int) -> list[Any]:
    run = PipelineRun.start(
        pipeline="writer",
        run_name=f"writer-{number}",
        parameters={"epochs": 3},
        dag={},
        environment={"python": "3.11"},
    )
    step_runs = []
    for i in range(steps):
        step = StepRun.start(
            run_id=run.id,
            pipeline=run.pipeline,
            invocation_id=f"step_{i}",
            step_name=f"step_{i}",
            source_ref=f"pipelines.writer:step_{i}",
            code_hash="c0de" * 16,
            parameters={"i": i},
            inputs={},
        )
        step.decide_cache(
            cache_key=f"{number:032x}{i:032x}",
            outcome=CacheOutcome.DISABLED,
            reason="caching disabled",
            ingredients={},
        )
        step.succeed(duration_s=0.01)
        step_runs.append(step)
    run.complete()
    return [run, *step_runs]


def writer(path: str, steps: int) -> None:
    """The writer process: append runs and probe the lock until stdin closes; print waits."""
    store = EventStore(f"sqlite:///{path}")
    saves: list[float] = []
    waits: list[float] = []
    done = threading.Event()

    def probe() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=60)
        try:
            while not done.is_set():
                started = time.perf_counter()
                conn.execute("BEGIN IMMEDIATE")
                waits.append(time.perf_counter() - started)
                conn.execute("ROLLBACK")
                time.sleep(0.005)
        finally:
            conn.close()

    def append() -> None:
        number = 0
        while not done.is_set():
            number += 1
            aggregates = _pipeline_run(number, steps)
            started = time.perf_counter()
            store.save(*aggregates)
            saves.append(time.perf_counter() - started)
            time.sleep(0.02)

    threads = [threading.Thread(target=probe), threading.Thread(target=append)]
    for thread in threads:
        thread.start()
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes it
    done.set()
    for thread in threads:
        thread.join()
    store.close()
    print(json.dumps({"waits": waits, "saves": saves}), flush=True)


def _one(path: Path, steps: int) -> dict[str, float]:
    events = EventStore(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    sqlite_write_locking(engine)
    projector = Projector(engine, events, bulk_writes=sqlite_bulk_writes)
    projector.create_tables()
    projector.catch_up()
    child = subprocess.Popen(
        [sys.executable, __file__, "--writer", str(path), "--steps-per-run", str(steps)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    count, took = projector.rebuild(online=True)
    child.stdin.close()
    measured = json.loads(child.stdout.read())
    child.wait()
    events.close()
    engine.dispose()
    waits, saves = measured["waits"], measured["saves"]
    return {
        "rate": count / took,
        "events": count,
        "seconds": took,
        "wait_max": max(waits) * 1000,
        "wait_p99": _quantile(waits, 0.99) * 1000,
        "probes": len(waits),
        "save_max": max(saves) * 1000,
        "save_p99": _quantile(saves, 0.99) * 1000,
        "runs": len(saves),
    }


def _line(m: dict[str, float]) -> str:
    return (
        f"{m['events']:,.0f} events in {m['seconds']:.1f}s ({m['rate']:,.0f} events/s); "
        f"lock wait max {m['wait_max']:.0f} ms, p99 {m['wait_p99']:.0f} ms "
        f"({m['probes']:.0f} probes); run save max {m['save_max']:.0f} ms, "
        f"p99 {m['save_p99']:.0f} ms ({m['runs']:.0f} runs written)"
    )


def main() -> None:
    """Measure and print the writers' waits over ``--repeats`` fresh copies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a SQLite history (bench_lineage.py)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps-per-run", type=int, default=5, help="of the writer's runs")
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(str(args.database), args.steps_per_run)
        return
    scratch = Path(tempfile.mkdtemp(prefix="bench-online-rebuild-"))
    try:
        results = []
        for i in range(args.repeats):
            copy = scratch / f"{i}.db"
            shutil.copyfile(args.database, copy)
            results.append(_one(copy, args.steps_per_run))
            print(f"repeat {i + 1}: {_line(results[-1])}", flush=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
        medians = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(f"median of {args.repeats}: {_line(medians)}")
        reference = statistics.median(reference_loop() for _ in range(5))
        print(f"pure-Python reference loop: median {reference * 1000:.1f} ms")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
