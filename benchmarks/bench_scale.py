"""A year of history: database size and lineage query time from 10k to 1M step runs.

Grows one generated history (``bench_lineage.HistoryGenerator``: real aggregates,
hash-chained events, appended in large batches through ``EventStore.save``) on the
embedded SQLite default to each size of ``--sizes``, brings the views up to date,
and reports at each size:

- bytes per step run of the log (the events table and its index) and of the views
  (every ``lineagelog_`` table and index), from SQLite's ``dbstat`` (pages in use,
  so free space inside pages counts), and the largest tables and indexes;
- upstream and downstream lineage query latency (p50 and p99 over sampled
  artifacts whose answer has fewer than 100 nodes; each the median of
  ``--repeats`` runs) and ``as_of`` (upstream, as of a position halfway between
  the artifact's creation and the end of the log);
- with ``--plans``, SQLite's query plan of each lineage statement.

The time of a fixed pure-Python reference loop is printed beside the numbers.

    python benchmarks/bench_scale.py --sizes 10000,100000
    python benchmarks/bench_scale.py --sizes 10000,100000,1000000   # about 6.5 M events

Run with the ``lineagelog`` package importable (``pip install -e .`` or
``PYTHONPATH`` pointing at a folder that holds it).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_step_overhead import reference_loop
from generated_history import add_history_options, history_generator, remove_sqlite
from sqlalchemy import create_engine, func, select

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.view_engine import sqlite_bulk_writes, sqlite_write_locking
from lineagelog.projections import schema as t
from lineagelog.projections.lineage_queries import LineageQueries
from lineagelog.projections.lineage_walk import walk_statements
from lineagelog.projections.projector import Projector


def sizes_by_object(path: Path) -> dict[str, int]:
    """Bytes of the pages each table and index of the SQLite file ``path`` uses (dbstat)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, SUM(pgsize) - SUM(unused) FROM dbstat GROUP BY name"
        ).fetchall()
    return {name: int(used) for name, used in rows}


def owner(path: Path) -> dict[str, str]:
    """The table each index of ``path`` belongs to (a table to itself)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, tbl_name FROM sqlite_schema").fetchall()
    return {name: table for name, table in rows}


def report_size(path: Path, steps: int, top: int) -> None:
    used = sizes_by_object(path)
    tables = owner(path)
    log = sum(b for name, b in used.items() if tables.get(name, name) == "stored_events")
    views = sum(b for name, b in used.items() if tables.get(name, name).startswith(t.PREFIX))
    other = sum(used.values()) - log - views
    file_bytes = sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )
    print(
        f"size per step run: log {log / steps:,.0f} B + views {views / steps:,.0f} B "
        f"= {(log + views) / steps:,.0f} B (other {other / steps:,.0f} B; "
        f"file {file_bytes / steps:,.0f} B incl. free pages)"
    )
    per_table: dict[str, int] = defaultdict(int)
    for name, b in used.items():
        per_table[tables.get(name, name)] += b
    ranked = sorted(used.items(), key=lambda item: -item[1])[:top]
    for name, b in ranked:
        table = tables.get(name, name)
        kind = "table" if table == name else f"index of {table}"
        print(f"    {b / steps:7,.0f} B/step  {name}  ({kind})")


def _time(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def measure_queries(engine: Any, args: argparse.Namespace) -> None:
    lineage = LineageQueries(engine)
    rng = random.Random(args.seed + 1)
    av = t.artifact_versions
    with engine.connect() as conn:
        end = conn.scalar(select(func.max(t.timeline.c.position))) or 0
        count = conn.scalar(select(func.count()).select_from(av)) or 0
        candidates = [
            (row.id, row.position)
            for offset in sorted(rng.sample(range(count), min(count, args.samples)))
            for row in conn.execute(select(av.c.id, av.c.position).limit(1).offset(offset))
        ]
    results: dict[str, list[float]] = {}
    for direction in ("upstream", "downstream"):
        small = [(a, p) for a, p in candidates if len(lineage.lineage(a, direction).nodes) < 100]
        results[direction] = [
            _time(lambda a=a, d=direction: lineage.lineage(a, d), args.repeats) for a, _ in small
        ]
        if direction == "upstream":
            results["upstream as_of"] = [
                _time(
                    lambda a=a, p=p: lineage.lineage(a, "upstream", as_of=(p + end) // 2),
                    args.repeats,
                )
                for a, p in small
            ]
    for label, values in results.items():
        if not values:
            print(f"{label:<16} no sampled artifact has an answer under 100 nodes")
            continue
        print(
            f"{label:<16} p50 {statistics.median(values) * 1000:6.2f} ms   "
            f"p99 {_pct(values, 0.99) * 1000:6.2f} ms   ({len(values)} artifacts, "
            f"median of {args.repeats})"
        )


def print_plans(path: Path, engine: Any) -> None:
    """SQLite's plan of each lineage statement (upstream, downstream, as_of)."""
    with engine.connect() as conn:
        root = conn.scalar(select(t.artifact_versions.c.id).limit(1))
    raw = sqlite3.connect(path)
    for direction, dated in (("upstream", False), ("downstream", False), ("upstream", True)):
        for statement in walk_statements(direction, False, dated):
            bound = statement.params(root=root, depth=None, as_of=10**12)
            sql = str(bound.compile(engine, compile_kwargs={"literal_binds": True}))
            plan = raw.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            print(f"-- {direction}{' as_of' if dated else ''}")
            for row in plan:
                print("   ", row[-1])
    raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_history_options(parser, steps=0)
    parser.add_argument("--sizes", default="10000,100000", help="step runs at each report")
    parser.add_argument("--database", default="/tmp/lineagelog-bench/scale.db")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--top", type=int, default=12, help="largest tables and indexes shown")
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--plans", action="store_true", help="print the query plans")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    reference = [reference_loop() for _ in range(5)]
    print(f"pure-Python reference loop: median {statistics.median(reference) * 1000:.2f} ms")
    path = Path(args.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_sqlite(path)
    store = EventStore(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    sqlite_write_locking(engine)
    projector = Projector(engine, store, page_size=args.page_size, bulk_writes=sqlite_bulk_writes)
    projector.create_tables()
    generator = history_generator()(store, args)
    for steps in sizes:
        started = time.perf_counter()
        before = generator.events
        generator.grow(steps, progress=False)
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        projected = projector.catch_up()
        took = time.perf_counter() - started
        print(
            f"\n== {generator.steps:,} step runs, {generator.events:,} events, "
            f"{generator.artifacts:,} artifact versions ==\n"
            f"appended {generator.events - before:,} events in {wrote:.1f}s "
            f"({(generator.events - before) / wrote:,.0f}/s); projected {projected:,} in "
            f"{took:.1f}s ({projected / max(took, 1e-9):,.0f}/s)"
        )
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        report_size(path, generator.steps, args.top)
        if args.samples:
            measure_queries(engine, args)
        if args.plans:
            print_plans(path, engine)
    reference = [reference_loop() for _ in range(5)]
    print(f"\npure-Python reference loop: median {statistics.median(reference) * 1000:.2f} ms")
    engine.dispose()
    store.close()


if __name__ == "__main__":
    main()
