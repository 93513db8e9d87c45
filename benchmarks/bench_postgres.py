"""PostgreSQL throughput: batched appends, projection catch-up, per-step overhead, writers.

    python benchmarks/bench_postgres.py [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--events 20000] [--batch 500] [--repeats 3] [--synchronous-commit off] [--skip-writers]

Each measurement runs in a throwaway database (``lineagelog_bench_<random>``)
that is dropped afterwards. Figures are medians over ``--repeats``.

- append: events/s appending realistic runs (a run of 3 step runs: 14 events)
  in batches of ``--batch`` events per transaction (target >= 10,000/s)
- catch-up: events/s projecting that log into every view from scratch (target >= 20,000/s)
- per-step overhead: slope between a 5- and a 50-step linear pipeline of trivial
  steps, cache disabled (target < 10 ms)
- writers: pipeline steps/s and appended events/s with 1, 2 and 4 writer processes
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

SYNCHRONOUS_COMMIT = ""
"""``--synchronous-commit off``: the operator's trade (last commits may be lost on a crash)."""


def _database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"lineagelog_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        if SYNCHRONOUS_COMMIT:
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = {SYNCHRONOUS_COMMIT}')
    return name, urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def _drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run_aggregates(steps: int = 3) -> list:
    """One completed run with ``steps`` succeeded step runs: 2 + 4*steps events."""
    from lineagelog.domain.run import PipelineRun
    from lineagelog.domain.step_run import StepRun
    from lineagelog.domain.values import CacheOutcome

    run = PipelineRun.start(
        pipeline="bench", run_name=uuid.uuid4().hex, parameters={"n": 1}, dag={}, environment={}
    )
    aggregates: list = [run]
    for i in range(steps):
        step = StepRun.start(
            run_id=run.id,
            pipeline="bench",
            invocation_id=f"s{i}",
            step_name="s",
            source_ref="bench:s",
            code_hash="0" * 64,
            parameters={"i": i},
            inputs={},
        )
        step.decide_cache(
            cache_key=uuid.uuid4().hex * 2,
            outcome=CacheOutcome.MISS,
            reason="no earlier execution",
            ingredients={},
        )
        step.succeed(0.001)
        aggregates.append(step)
    run.complete()
    return aggregates


def _append(database_url: str, events: int, batch: int) -> tuple[int, float]:
    """Append about ``events`` events in batches; return (events, seconds spent in save)."""
    from lineagelog.adapters.event_store import EventStore

    store = EventStore(database_url)
    done, spent = 0, 0.0
    try:
        while done < events:
            pending: list = []
            count = 0
            while count < batch:
                aggregates = _run_aggregates()
                pending.extend(aggregates)
                count += sum(len(a.pending_events) for a in aggregates)
            started = time.perf_counter()
            store.save(*pending)
            spent += time.perf_counter() - started
            done += count
    finally:
        store.close()
    return done, spent


def bench_append_and_catch_up(admin_url: str, events: int, batch: int) -> tuple[float, float]:
    from lineagelog.api.context import close_contexts, open_context

    name, url = _database(admin_url)
    try:
        done, spent = _append(url, events, batch)
        with tempfile.TemporaryDirectory() as tmp:
            context = open_context(url, tmp)
            started = time.perf_counter()
            projected = context.projector.catch_up()
            catch_up = time.perf_counter() - started
            close_contexts()
        return done / spent, projected / catch_up
    finally:
        _drop(admin_url, name)


def bench_step_overhead(admin_url: str) -> float:
    from bench_step_overhead import make_chain

    from lineagelog.api.context import close_contexts

    name, url = _database(admin_url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            short, long = make_chain(5, "chain5"), make_chain(50, "chain50")
            short.run(database_url=url, artifact_store=tmp, enable_cache=False)  # warm up
            times = {}
            for length, chain in ((5, short), (50, long)):
                started = time.perf_counter()
                chain.run(database_url=url, artifact_store=tmp, enable_cache=False)
                times[length] = time.perf_counter() - started
            close_contexts()
        return (times[50] - times[5]) / 45
    finally:
        _drop(admin_url, name)


def _writer(args: tuple[str, str, int, multiprocessing.synchronize.Barrier]) -> tuple[int, float]:
    url, store, runs, barrier = args
    from bench_step_overhead import make_chain

    chain = make_chain(5, "writers")
    chain.run(database_url=url, artifact_store=store, enable_cache=False)  # warm up
    barrier.wait()
    started = time.perf_counter()
    for _ in range(runs):
        chain.run(database_url=url, artifact_store=store, enable_cache=False)
    return runs * 5, time.perf_counter() - started


def _append_writer(args: tuple[str, int, int, multiprocessing.synchronize.Barrier]) -> int:
    url, events, batch, barrier = args
    from lineagelog.adapters.event_store import EventStore

    EventStore(url).close()  # connect once before the clock starts
    barrier.wait()
    return _append(url, events, batch)[0]


def bench_writers(
    admin_url: str, writers: int, runs: int, events: int, batch: int
) -> tuple[float, float]:
    """Return (pipeline steps/s, appended events/s) with ``writers`` processes at once."""
    ctx = multiprocessing.get_context("spawn")
    name, url = _database(admin_url)
    try:
        from lineagelog.api.context import close_contexts, open_context

        with tempfile.TemporaryDirectory() as tmp:
            open_context(url, tmp)
            close_contexts()
            with ctx.Manager() as manager:
                barrier = manager.Barrier(writers + 1)
                with ctx.Pool(writers) as pool:
                    result = pool.map_async(_writer, [(url, tmp, runs, barrier)] * writers)
                    barrier.wait()
                    started = time.perf_counter()
                    steps = sum(s for s, _ in result.get())
                    steps_rate = steps / (time.perf_counter() - started)
                barrier = manager.Barrier(writers + 1)
                with ctx.Pool(writers) as pool:
                    result = pool.map_async(
                        _append_writer, [(url, events, batch, barrier)] * writers
                    )
                    barrier.wait()
                    started = time.perf_counter()
                    appended = sum(result.get())
                    append_rate = appended / (time.perf_counter() - started)
        return steps_rate, append_rate
    finally:
        _drop(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=10, help="pipeline runs per writer")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--synchronous-commit", choices=["on", "off"], default="")
    parser.add_argument("--skip-writers", action="store_true")
    args = parser.parse_args()
    global SYNCHRONOUS_COMMIT
    SYNCHRONOUS_COMMIT = args.synchronous_commit

    appends, catch_ups, overheads = [], [], []
    for _ in range(args.repeats):
        append_rate, catch_up_rate = bench_append_and_catch_up(
            args.admin_url, args.events, args.batch
        )
        appends.append(append_rate)
        catch_ups.append(catch_up_rate)
        overheads.append(bench_step_overhead(args.admin_url))
    append, catch_up = statistics.median(appends), statistics.median(catch_ups)
    overhead = statistics.median(overheads) * 1000
    print(f"append ({args.batch}-event batches): {append:>10,.0f} events/s (target >= 10,000)")
    print(f"projection catch-up:         {catch_up:>10,.0f} events/s (target >= 20,000)")
    print(f"per-step overhead (5 vs 50): {overhead:>10.2f} ms       (target < 10)")
    for writers in () if args.skip_writers else (1, 2, 4):
        samples = [
            bench_writers(args.admin_url, writers, args.runs, args.events // 4, args.batch)
            for _ in range(args.repeats)
        ]
        steps = statistics.median(s for s, _ in samples)
        events = statistics.median(e for _, e in samples)
        print(
            f"{writers} writer process(es):        {steps:>10,.0f} pipeline steps/s, "
            f"{events:>10,.0f} appended events/s"
        )


if __name__ == "__main__":
    main()
