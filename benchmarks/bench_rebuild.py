"""Projection throughput: full rebuild and incremental catch-up in pages.

Copies a SQLite history (made by ``bench_lineage.py``) to a scratch file for
each repeat and measures, in events per second of wall time and of CPU time
(``process_time``, steadier on a loaded machine; this process only: a rebuild of
more than 100,000 events has a worker process decode ahead, whose CPU is not
counted, so compare wall times with ``--no-decode-ahead`` on a quiet machine):

- ``Projector.rebuild()`` of every view (target >= 80,000 events/s);
- ``Projector.catch_up(until=...)`` from empty views, ``--catch-up-page``
  events at a time (how a follower or the runner keeps up).

    python benchmarks/bench_lineage.py --steps 10000 --database /tmp/small.db
    python benchmarks/bench_rebuild.py /tmp/small.db --repeats 3

Run with the ``lineagelog`` package importable (``pip install -e .`` or
``PYTHONPATH`` pointing at a folder that holds it).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench_step_overhead import reference_loop
from sqlalchemy import create_engine

from lineagelog.adapters import decode_pool
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.view_engine import sqlite_bulk_writes, sqlite_write_locking
from lineagelog.projections import schema as t
from lineagelog.projections.projector import Projector


def _projector(path: Path, page_size: int) -> tuple[Projector, EventStore]:
    events = EventStore(f"sqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    sqlite_write_locking(engine)
    projector = Projector(engine, events, page_size=page_size, bulk_writes=sqlite_bulk_writes)
    projector.create_tables()
    return projector, events


def _rebuild(path: Path, page_size: int) -> tuple[int, float, float]:
    projector, events = _projector(path, page_size)
    cpu = time.process_time()
    count, wall = projector.rebuild()
    cpu = time.process_time() - cpu
    events.close()
    projector.engine.dispose()
    return count, wall, cpu


def _catch_up(path: Path, page_size: int, chunk: int) -> tuple[int, float, float]:
    projector, events = _projector(path, page_size)
    with projector.engine.begin() as conn:  # empty every view, as a new follower sees them
        for tables in t.VIEW_TABLES.values():
            for table in reversed(tables):
                conn.execute(table.delete())
        conn.execute(t.tracking.update().values(position=0))
    end = events.max_position()
    count = 0
    cpu, wall = time.process_time(), time.perf_counter()
    position = 0
    while position < end:
        position = min(end, position + chunk)
        count += projector.catch_up(until=position)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    events.close()
    projector.engine.dispose()
    return count, wall, cpu


def main() -> None:
    """Measure and print the median rates over ``--repeats`` fresh copies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a SQLite history (bench_lineage.py)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--catch-up-page", type=int, default=200)
    parser.add_argument("--rebuild-only", action="store_true", help="skip the catch-up")
    parser.add_argument(
        "--no-decode-ahead",
        action="store_true",
        help="decode every page in this process (no worker decoding ahead), to compare",
    )
    args = parser.parse_args()
    if args.no_decode_ahead:
        decode_pool.DECODE_AHEAD_ABOVE = 2**63
    scratch = Path(tempfile.mkdtemp(prefix="bench-rebuild-"))
    try:
        measures = [("rebuild", lambda p: _rebuild(p, args.page_size))]
        if not args.rebuild_only:
            measures.append(
                (
                    f"catch-up by {args.catch_up_page}",
                    lambda p: _catch_up(p, args.page_size, args.catch_up_page),
                )
            )
        for name, run in measures:
            walls, cpus, count, references = [], [], 0, []
            for i in range(args.repeats):
                references.append(reference_loop())  # the machine's speed beside each repeat
                copy = scratch / f"{i}.db"
                shutil.copyfile(args.database, copy)
                count, wall, cpu = run(copy)
                walls.append(count / wall)
                cpus.append(count / cpu)
                copy.unlink()
            print(
                f"{name}: {count} events, median {statistics.median(walls):,.0f} events/s wall, "
                f"{statistics.median(cpus):,.0f} events/s CPU ({args.repeats} repeats); "
                f"pure-Python reference loop median {statistics.median(references) * 1000:.1f} ms"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
