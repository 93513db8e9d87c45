"""Query latency on the views: ``get_run`` of a 50-step run, list_runs, artifact lookups.

    python benchmarks/bench_queries.py [--runs 200] [--repeats 200]

Builds ``--runs`` runs of a 50-step pipeline on an embedded SQLite file first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_step_overhead import make_chain  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    from lineagelog.api import Client, configure

    with tempfile.TemporaryDirectory() as home:
        configure(home=home)
        chain = make_chain(50, "chain50")
        last = None
        for seed in range(args.runs):
            last = chain(seed=seed)
        assert last is not None
        client = Client()
        queries = client.context.queries
        run_id = str(last.id)
        print(f"history: {args.runs} runs of 50 steps, {client.context.events.max_position()} events")
        print(f"get_run (views, 50 steps):        median {median_ms(lambda: queries.get_run(run_id), args.repeats):6.2f} ms")
        print(f"Client.get_run (with artifacts):  median {median_ms(lambda: client.get_run(run_id), args.repeats):6.2f} ms")
        print(f"list_runs(limit=20, with steps):  median {median_ms(lambda: queries.list_runs(limit=20), args.repeats):6.2f} ms")
        name = next(iter(last.steps["start"].outputs.values())).name
        print(f"get_artifact_version (latest):    median {median_ms(lambda: queries.get_artifact_version(name), args.repeats):6.2f} ms")
        position = client.context.events.max_position() // 2
        print(f"get_run as_of mid-history:        median {median_ms(lambda: queries.get_run(run_id, as_of=None), args.repeats):6.2f} ms (now)")
        del position
        configure()


if __name__ == "__main__":
    main()
