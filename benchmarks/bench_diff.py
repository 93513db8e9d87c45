"""Comparison latency: ``diff_runs`` of two 50-step runs, root causes over 1,000 upstream nodes.

    python benchmarks/bench_diff.py [--repeats 50]

Builds, on an embedded SQLite file, two runs of a 50-step chain that differ in
their first parameter (so every step differs), and two runs of a 500-step chain
(each final version has 1,000 upstream nodes: 500 step runs, 500 versions).
Measures the median of ``Client.diff_runs`` (target < 50 ms) and of
``Client.diff_artifacts(..., compare_values=False)`` on the two final versions
(target < 100 ms; no artifact bytes are read), next to the fixed pure-Python
reference loop of ``bench_step_overhead`` so machines can be compared. The
median of the process's CPU time is printed beside the wall-clock median: on
a machine shared with other work, it is the figure that does not count the
time spent waiting for a core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import median_ms
from bench_step_overhead import make_chain, reference_loop


def median_cpu_ms(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.process_time()
        fn()
        samples.append(time.process_time() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="cProfile one diff_artifacts")
    args = parser.parse_args()

    from lineagelog.api import Client, configure

    with tempfile.TemporaryDirectory() as home:
        configure(home=home)
        short = make_chain(50, "chain50").with_options(enable_cache=False)
        run_a, run_b = short(seed=0), short(seed=1)
        # No cache: each run executes every step, so the two histories are 1,000 nodes each.
        long = make_chain(500, "chain500").with_options(enable_cache=False)
        deep_a, deep_b = long(seed=0), long(seed=1)
        client = Client()
        last = "inc_499"  # the final step of both runs
        version_a = next(iter(deep_a.steps[last].outputs.values())).id
        version_b = next(iter(deep_b.steps[last].outputs.values())).id
        compared = client.diff_artifacts(version_a, version_b, compare_values=False)
        nodes = len(client.lineage(version_a).nodes)
        print(f"history: {client.context.events.max_position()} events; {nodes} nodes upstream")
        print(f"root causes found: {[c.description for c in compared.root_causes][:3]}")
        if args.profile:
            import cProfile

            cProfile.runctx(
                "client.diff_artifacts(version_a, version_b, compare_values=False)",
                globals(),
                locals(),
                sort="cumulative",
            )
        measures = [
            ("diff_runs (50 steps each)", lambda: client.diff_runs(run_a.id, run_b.id)),
            (
                "diff_artifacts (1,000 upstream nodes)",
                lambda: client.diff_artifacts(version_a, version_b, compare_values=False),
            ),
        ]
        for label, query in measures:
            wall, cpu = median_ms(query, args.repeats), median_cpu_ms(query, args.repeats)
            print(f"{label + ':':<40} median {wall:7.2f} ms (CPU {cpu:7.2f} ms)")
        reference = [reference_loop() for _ in range(5)]
        label = "pure-Python reference loop:"
        print(f"{label:<40} median {statistics.median(reference) * 1000:7.2f} ms")
        configure()


if __name__ == "__main__":
    main()
