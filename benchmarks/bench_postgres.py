"""PostgreSQL throughput: batched appends, projection catch-up, per-step overhead, writers.

    python benchmarks/bench_postgres.py [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
        [--events 20000] [--batch 500] [--repeats 3] [--synchronous-commit off]
        [--measure append,overhead,writers] [--writers 1,2,4] [--runs 10] [--skip-writers]

Each measurement runs in a throwaway database (``lineagelog_bench_<random>``)
that is dropped afterwards. Figures are medians over ``--repeats``; the time of
a fixed pure-Python loop is printed before and after, as the machine's yardstick.

- append: events/s appending realistic runs (a run of 3 step runs: 14 events)
  in batches of ``--batch`` events per transaction (target >= 10,000/s)
- catch-up: events/s projecting that log into every view from scratch (target >= 20,000/s)
- per-step overhead: slope between a 5- and a 50-step linear pipeline of trivial
  steps, cache disabled (target < 10 ms)
- writers: pipeline steps/s and appended events/s with N writer processes
  (``--writers``) on one database, and where the time goes: each writer's
  wall time split into its appends (the table lock's wait, the commit), its
  run-end seals, and its own CPU; and what the server's sessions were doing
  (sampled from ``pg_stat_activity``: waiting on a lock, on the WAL, running,
  or idle waiting for the client)
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import statistics
import sys
import tempfile
import threading
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


def bench_step_overhead(admin_url: str) -> tuple[float, float]:
    """Return the per-step overhead: (wall seconds, this process's CPU seconds).

    The CPU figure leaves out the waits (the server, the disk, other processes on a
    busy machine), so it moves less with the machine's load than the wall figure.
    """
    from bench_step_overhead import make_chain

    from lineagelog.api.context import close_contexts

    name, url = _database(admin_url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            short, long = make_chain(5, "chain5"), make_chain(50, "chain50")
            short.run(database_url=url, artifact_store=tmp, enable_cache=False)  # warm up
            times, cpu = {}, {}
            for length, chain in ((5, short), (50, long)):
                started, cpu_started = time.perf_counter(), time.process_time()
                chain.run(database_url=url, artifact_store=tmp, enable_cache=False)
                times[length] = time.perf_counter() - started
                cpu[length] = time.process_time() - cpu_started
            close_contexts()
        return (times[50] - times[5]) / 45, (cpu[50] - cpu[5]) / 45
    finally:
        _drop(admin_url, name)


class _Timed:
    """Seconds spent inside the wrapped callables of this process (appends, seals)."""

    def __init__(self) -> None:
        self.spent: collections.Counter[str] = collections.Counter()

    def wrap(self, owner: object, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] += time.perf_counter() - started

        setattr(owner, name, timed)


def _writer(args: tuple[str, str, int, multiprocessing.synchronize.Barrier]) -> dict[str, float]:
    url, store, runs, barrier = args
    from bench_step_overhead import make_chain

    from lineagelog.adapters import sealing
    from lineagelog.adapters.event_store import EventStore

    timed = _Timed()
    timed.wrap(EventStore, "save", "append")
    # (an older lineagelog, measured for comparison, sealed every run's end with seal_log)
    timed.wrap(
        sealing, "seal_after_run" if hasattr(sealing, "seal_after_run") else "seal_log", "seal"
    )
    chain = make_chain(5, "writers")
    chain.run(database_url=url, artifact_store=store, enable_cache=False)  # warm up
    barrier.wait()
    timed.spent.clear()
    cpu, started = time.process_time(), time.perf_counter()
    for _ in range(runs):
        chain.run(database_url=url, artifact_store=store, enable_cache=False)
    wall = time.perf_counter() - started
    return {"steps": runs * 5, "wall": wall, "cpu": time.process_time() - cpu, **timed.spent}


def _append_writer(args: tuple[str, int, int, multiprocessing.synchronize.Barrier]) -> int:
    url, events, batch, barrier = args
    from lineagelog.adapters.event_store import EventStore

    EventStore(url).close()  # connect once before the clock starts
    barrier.wait()
    return _append(url, events, batch)[0]


class _ServerSampler:
    """What the benchmark database's sessions do, sampled from ``pg_stat_activity``."""

    def __init__(self, admin_url: str, database: str, interval: float = 0.005) -> None:
        self.admin_url, self.database, self.interval = admin_url, database, interval
        self.counts: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _ServerSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        query = (
            "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.wait(self.interval):
                for state, kind, event in conn.execute(query, (self.database,)):
                    self.counts[_session_state(state, kind, event)] += 1


def _session_state(state: str | None, kind: str | None, event: str | None) -> str:
    if state == "active":
        if kind == "Lock":
            return f"lock wait ({event})"
        if kind in ("IO", "LWLock") and event and event.startswith("WAL"):
            return "WAL write/flush (commit)"
        return "running" if kind is None else f"{kind} ({event})"
    if state in ("idle in transaction", "idle in transaction (aborted)"):
        return "in transaction, waiting for the client"
    return "idle (client working or connection spare)"


def bench_writers(
    admin_url: str, writers: int, runs: int, events: int, batch: int
) -> tuple[float, float, dict[str, float], collections.Counter[str]]:
    """Return (pipeline steps/s, appended events/s, the writers' time split, server samples)."""
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
                    with _ServerSampler(admin_url, name) as sampler:
                        started = time.perf_counter()
                        splits = result.get()
                        steps_rate = sum(s["steps"] for s in splits) / (
                            time.perf_counter() - started
                        )
                barrier = manager.Barrier(writers + 1)
                with ctx.Pool(writers) as pool:
                    appended_result = pool.map_async(
                        _append_writer, [(url, events, batch, barrier)] * writers
                    )
                    barrier.wait()
                    started = time.perf_counter()
                    appended = sum(appended_result.get())
                    append_rate = appended / (time.perf_counter() - started)
        wall = sum(s["wall"] for s in splits)
        split = {
            key: sum(s.get(key, 0.0) for s in splits) / wall for key in ("append", "seal", "cpu")
        }
        return steps_rate, append_rate, split, sampler.counts
    finally:
        _drop(admin_url, name)


def _reference() -> float:
    from bench_step_overhead import reference_loop

    return statistics.median(reference_loop() for _ in range(5)) * 1000


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
    parser.add_argument(
        "--measure",
        default="append,overhead,writers",
        help="comma-separated: append (and catch-up), overhead, writers",
    )
    parser.add_argument("--writers", default="1,2,4", help="comma-separated writer process counts")
    parser.add_argument("--skip-writers", action="store_true", help="same as leaving out writers")
    args = parser.parse_args()
    global SYNCHRONOUS_COMMIT
    SYNCHRONOUS_COMMIT = args.synchronous_commit
    measure = {m.strip() for m in args.measure.split(",") if m.strip()}
    unknown = measure - {"append", "overhead", "writers"}
    if unknown:
        parser.error(f"--measure {sorted(unknown)}: use append, overhead and/or writers")
    if args.skip_writers:
        measure.discard("writers")
    try:
        writer_counts = [int(w) for w in args.writers.split(",") if w.strip()]
    except ValueError:
        parser.error(f"--writers {args.writers!r}: give process counts like 1,2,4")
    if any(w < 1 for w in writer_counts):
        parser.error(f"--writers {args.writers!r}: every count must be at least 1")

    print(f"reference loop (before): {_reference():.1f} ms")
    appends, catch_ups, overheads = [], [], []
    for _ in range(args.repeats):
        if "append" in measure:
            append_rate, catch_up_rate = bench_append_and_catch_up(
                args.admin_url, args.events, args.batch
            )
            appends.append(append_rate)
            catch_ups.append(catch_up_rate)
        if "overhead" in measure:
            overheads.append(bench_step_overhead(args.admin_url))
    if appends:
        append, catch_up = statistics.median(appends), statistics.median(catch_ups)
        print(f"append ({args.batch}-event batches): {append:>10,.0f} events/s (target >= 10,000)")
        print(f"projection catch-up:         {catch_up:>10,.0f} events/s (target >= 20,000)")
    if overheads:
        overhead = statistics.median(o for o, _ in overheads) * 1000
        samples = ", ".join(f"{o * 1000:.2f}" for o, _ in overheads)
        print(f"per-step overhead (5 vs 50): {overhead:>10.2f} ms       (target < 3; {samples})")
        cpu = statistics.median(c for _, c in overheads) * 1000
        samples = ", ".join(f"{c * 1000:.2f}" for _, c in overheads)
        print(f"  of which this process's CPU: {cpu:>8.2f} ms       ({samples})")
    for writers in writer_counts if "writers" in measure else ():
        results = [
            bench_writers(args.admin_url, writers, args.runs, args.events // 4, args.batch)
            for _ in range(args.repeats)
        ]
        steps = statistics.median(r[0] for r in results)
        events = statistics.median(r[1] for r in results)
        print(
            f"{writers} writer process(es):        {steps:>10,.0f} pipeline steps/s, "
            f"{events:>10,.0f} appended events/s"
        )
        split = {k: statistics.median(r[2][k] for r in results) for k in ("append", "seal", "cpu")}
        print(
            f"    writers' wall time: {split['append']:.0%} in appends (lock wait + commit), "
            f"{split['seal']:.0%} in run-end seals, own CPU {split['cpu']:.0%} of it"
        )
        server: collections.Counter[str] = collections.Counter()
        for r in results:
            server.update(r[3])
        total = sum(server.values()) or 1
        shares = ", ".join(f"{state} {n / total:.0%}" for state, n in server.most_common())
        print(f"    server sessions: {shares}")
    print(f"reference loop (after): {_reference():.1f} ms")


if __name__ == "__main__":
    main()
