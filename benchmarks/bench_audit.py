"""Audit, seal, export, import and replay throughput on a large history.

Generates a history with the lineage benchmark's generator (real aggregates,
hash-chained events, saved in large batches to a SQLite file), seals it, then
measures (median of ``--repeats``):

- ``audit_log`` without artifacts: events verified per second (target >= 50,000/s);
- ``export_events`` to a JSON Lines file and ``import_events`` of that file
  into an empty SQLite file: events per second each (target >= 30,000/s);
- a full first seal, and an incremental seal after one more run's events;
- ``replay`` (every view rebuilt from the raw log into a scratch database).

    python benchmarks/bench_audit.py --steps 10000          # ~65,000 events
    python benchmarks/bench_audit.py                         # ~400,000 events

Run with the ``lineagelog`` package importable (``PYTHONPATH`` pointing at a
folder that holds it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generated_history import add_history_options, history_generator, remove_sqlite

from lineagelog.adapters.audit import audit_log
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import export_events, import_events
from lineagelog.adapters.sealing import seal_log
from lineagelog.domain.run import PipelineRun


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _median(label: str, events: int, repeats: int, fn: Callable[[], Any]) -> float:
    """Print the median wall time and rate, and the rate per CPU-second (all processes).

    On a machine shared with other work the wall rate understates what the code
    does; events per CPU-second times the idle cores bounds what it would do alone.
    """
    times, cpus = [], []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), _cpu()
        fn()
        times.append(time.perf_counter() - started)
        cpus.append(_cpu() - cpu)
    took, cpu_took = statistics.median(times), statistics.median(cpus)
    print(
        f"{label:<34} {took:8.2f}s  {events / took:>10,.0f} events/s  "
        f"({events / cpu_took:,.0f} events per CPU-second; median of {repeats})"
    )
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_history_options(parser)
    parser.add_argument("--folder", default="/tmp/lineagelog-bench-audit")
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-replay", action="store_true", help="skip the replay measurement")
    args = parser.parse_args()

    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    source_path = folder / "lineage.db"
    if not args.reuse:
        remove_sqlite(source_path)
    store = EventStore(f"sqlite:///{source_path}")
    if store.max_position() == 0:
        print(f"generating {args.steps:,} step runs into {source_path}")
        generator = history_generator()(store, args)
        started = time.perf_counter()
        generator.run(progress=False)
        took = time.perf_counter() - started
        print(
            f"wrote {generator.events:,} events in {took:.1f}s ({generator.events / took:,.0f}/s)"
        )
        started = time.perf_counter()
        seal = seal_log(store)
        took = time.perf_counter() - started
        print(
            f"{'first seal (full scan)':<34} {took:8.2f}s  "
            f"{seal.event_count / took:>10,.0f} events/s"
        )
    events = store.max_position()
    print(f"log: {events:,} events; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")

    run = PipelineRun.start(pipeline="p", run_name="r", parameters={}, dag={}, environment={})
    run.complete()
    store.save(run)
    started = time.perf_counter()
    seal_log(store)
    print(f"{'incremental seal after one run':<34} {(time.perf_counter() - started) * 1000:8.1f}ms")
    events = store.max_position()

    reports: list[Any] = []
    _median("audit (no artifacts)", events, args.repeats, lambda: reports.append(audit_log(store)))
    report = reports[-1]
    assert report.ok, report.problems[:3]

    exported = folder / "events.jsonl"

    def export() -> None:
        with exported.open("w", encoding="utf-8") as out:
            export_events(store, out)

    _median("export", events, args.repeats, export)
    print(f"  file: {exported.stat().st_size / 2**20:,.0f} MiB")

    target_path = folder / "imported.db"

    def import_() -> None:
        remove_sqlite(target_path)
        target = EventStore(f"sqlite:///{target_path}")
        try:
            with exported.open(encoding="utf-8") as source:
                import_events(target, source)
        finally:
            target.close()

    _median("import (into an empty SQLite file)", events, args.repeats, import_)
    imported = EventStore(f"sqlite:///{target_path}")
    assert audit_log(imported).digest == report.digest, "imported history digests differently"
    imported.close()

    if not args.no_replay:
        from lineagelog.api.audit import replay_context
        from lineagelog.api.config import resolve_settings
        from lineagelog.api.context import build_context

        context = build_context(resolve_settings(f"sqlite:///{source_path}", str(folder / "art")))

        def replay() -> None:
            replay_context(context, events).close()

        _median("replay (all views, scratch db)", events, 1, replay)

        from lineagelog.adapters.view_audit import audit_views

        context.catch_up()
        found: list[Any] = []
        _median(
            "views audit (rebuild + compare)",
            events,
            1,
            lambda: found.append(audit_views(context.events, context.engine)),
        )
        assert not found[-1].problems, found[-1].problems[:3]
        context.close()
    store.close()


if __name__ == "__main__":
    main()
