"""Per-step overhead of a trivial step, and import / first-pipeline costs.

Overhead is the slope between a 5-step and a 50-step linear pipeline in a warm
process (so fixed per-run costs cancel out), on a cache miss and on a hit.
A fixed pure-Python reference loop is timed too, so figures from machines (or
moments) of different speed can be compared: divide by it.

    python benchmarks/bench_step_overhead.py [--repeats 7] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

IMPORT_SNIPPET = (
    "import time; t=time.perf_counter(); import lineagelog.api; print(time.perf_counter()-t)"
)
ONE_STEP = """
from lineagelog.api import pipeline, step, configure
configure(home={home!r})
@step
def one(x: int = 1) -> int:
    return x + 1
@pipeline
def single() -> None:
    one()
single()
"""


def make_chain(length: int, name: str):
    from lineagelog.api import pipeline, step

    @step
    def inc(x: int) -> int:
        return x + 1

    @step
    def start(seed: int = 0) -> int:
        return seed

    @pipeline(name=name)
    def chain(seed: int = 0) -> None:
        value = start(seed=seed)
        for _ in range(length - 1):
            value = inc(value)

    return chain


def new_seed() -> int:
    """A seed no chain has run with: every step of a chain run with it is a cache miss.

    The 5- and the 50-step chain need one each: with one seed for both, the long
    chain's first five steps are hits of the short one's, and the slope comes out
    lower than a miss costs.
    """
    return uuid.uuid4().int % 10**9


def timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def reference_loop() -> float:
    """Seconds for a fixed pure-Python loop (10**6 multiply-adds), the machine's yardstick."""
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i
    elapsed = time.perf_counter() - started
    assert total == 333332833333500000
    return elapsed


def lease_cost(repeats: int, outputs: int = 200) -> list[float]:
    """Seconds to take and drop one write lease (each written output does), in the bench's store."""
    from lineagelog.adapters.write_leases import write_lease
    from lineagelog.api import Client

    store = Client().context.artifacts
    costs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(outputs):
            with write_lease(store, uuid.uuid4(), "bench"):
                pass
        costs.append((time.perf_counter() - started) / outputs)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--artifact-store", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LINEAGELOG_HOME": home}
        imports = [
            float(
                subprocess.run(
                    [sys.executable, "-c", IMPORT_SNIPPET],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                ).stdout
            )
            for _ in range(args.repeats)
        ]
        processes = []
        for i in range(args.repeats):
            script = ONE_STEP.format(home=str(Path(home) / f"p{i}"))
            processes.append(
                timed(subprocess.run, [sys.executable, "-c", script], env=env, check=True)
            )

        from lineagelog.api import configure

        configure(
            database_url=args.database_url or f"sqlite:///{Path(home) / 'bench.db'}",
            artifact_store=args.artifact_store or str(Path(home) / "artifacts"),
        )
        short, long_ = make_chain(5, "chain5"), make_chain(50, "chain50")
        short(seed=-1), long_(seed=-1)  # warm up: imports, tables, code hashes
        miss, hit = [], []
        for _ in range(args.repeats):
            seeds = new_seed(), new_seed()
            t5, t50 = timed(short, seed=seeds[0]), timed(long_, seed=seeds[1])
            miss.append((t50 - t5) / 45)
            t5, t50 = timed(short, seed=seeds[0]), timed(long_, seed=seeds[1])
            hit.append((t50 - t5) / 45)
        reference = [reference_loop() for _ in range(args.repeats)]
        leases = lease_cost(args.repeats)

    print(f"import lineagelog.api:            median {statistics.median(imports) * 1000:7.1f} ms")
    print(f"python -c, 1-step pipeline:       median {statistics.median(processes) * 1000:7.1f} ms")
    print(f"per-step overhead, cache miss:    median {statistics.median(miss) * 1000:7.2f} ms")
    print(f"per-step overhead, cache hit:     median {statistics.median(hit) * 1000:7.2f} ms")
    print(f"pure-Python reference loop:       median {statistics.median(reference) * 1000:7.2f} ms")
    print(f"write lease per output (in miss): median {statistics.median(leases) * 1000:7.2f} ms")
    print(f"(repeats: {args.repeats}; database: {args.database_url or 'embedded SQLite'})")


if __name__ == "__main__":
    main()
