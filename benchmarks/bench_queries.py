"""Query latency on the views: ``get_run`` of a 50-step run, list_runs, artifact lookups.

    python benchmarks/bench_queries.py [--runs 200] [--repeats 200]
    python benchmarks/bench_lineage.py --steps 100000 --database /tmp/big.db
    python benchmarks/bench_queries.py --history /tmp/big.db

Builds ``--runs`` runs of a 50-step pipeline on an embedded SQLite file first:
an empty one, or a copy of ``--history`` (a log with its views, as
``bench_lineage.py`` leaves it), so the queries run against a large history.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_step_overhead import make_chain


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
    parser.add_argument("--history", type=Path, help="a SQLite history to add the runs to")
    args = parser.parse_args()

    from lineagelog.api import Client, configure

    with tempfile.TemporaryDirectory() as home:
        if args.history is not None:
            shutil.copyfile(args.history, Path(home) / "lineage.db")
        configure(home=home)
        chain = make_chain(50, "chain50")
        last = None
        for seed in range(args.runs):
            last = chain(seed=seed)
        assert last is not None
        client = Client()
        queries = client.context.queries
        run_id = str(last.id)
        print(
            f"history: {client.context.events.max_position()} events, "
            f"the last {args.runs} runs of 50 steps"
        )
        name = next(iter(last.steps["start"].outputs.values())).name
        middle = client.context.events.max_position() // 2
        measures = [
            ("get_run (views, 50 steps)", lambda: queries.get_run(run_id)),
            ("Client.get_run (with artifacts)", lambda: client.get_run(run_id)),
            ("list_runs(limit=20, with steps)", lambda: queries.list_runs(limit=20)),
            ("get_artifact_version (latest)", lambda: queries.get_artifact_version(name)),
            ("list_runs as_of mid-history", lambda: queries.list_runs(limit=20, as_of=middle)),
        ]
        for label, query in measures:
            print(f"{label + ':':<34} median {median_ms(query, args.repeats):7.2f} ms")
        configure()


if __name__ == "__main__":
    main()
