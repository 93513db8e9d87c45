"""What the compact event encoding costs: the same log, compact and plain, read side by side.

Generates a history (``--steps`` step runs, compact rows as lineagelog writes them),
copies it with every row rewritten in the plain encoding (whole topic, JSON payload:
what lineagelog wrote before schema 4, and what an import writes), then times, alternating
between the two files so both see the same machine:

- the audit of the log (``audit_log``, every event hashed from its stored row);
- reading the log for a rebuild (``read_for_projection``: rows decoded into records);
- the export;
- encoding the events for an append (``to_stored_event``), compact against plain.

It prints medians, the log's bytes per event in each encoding, and a fixed pure-Python
reference loop's time.

    python benchmarks/bench_event_encoding.py --steps 5000
"""

from __future__ import annotations

import argparse
import io
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_step_overhead import reference_loop
from eventsourcing.persistence import Mapper
from generated_history import add_history_options, history_generator, remove_sqlite

from lineagelog.adapters.audit import audit_log
from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import export_events
from lineagelog.adapters.stored_events import stored_row


def _plain_copy(source: Path, target: Path) -> None:
    remove_sqlite(target)
    shutil.copyfile(source, target)
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        rows = conn.execute("SELECT rowid, topic, state FROM stored_events").fetchall()
        conn.execute("BEGIN")
        conn.executemany(
            "UPDATE stored_events SET topic=?, state=? WHERE rowid=?",
            [(*stored_row(topic, state), rowid) for rowid, topic, state in rows],
        )
        conn.execute("COMMIT")
        conn.execute("VACUUM")
    finally:
        conn.close()


def _log_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        used = conn.execute(
            "SELECT SUM(pgsize) - SUM(unused) FROM dbstat "
            "WHERE name IN ('stored_events', 'sqlite_autoindex_stored_events_1')"
        ).fetchone()[0]
    return int(used)


def _read_all(store: EventStore) -> None:
    after, end = 0, store.max_position()
    while after < end:
        page = store.read_for_projection(after, 5000)
        after = page[-1].position


def _export(store: EventStore) -> None:
    export_events(store, io.StringIO())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_history_options(parser, steps=5000)
    parser.add_argument("--folder", default="/tmp/lineagelog-bench-encoding")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    compact_path, plain_path = folder / "compact.db", folder / "plain.db"
    remove_sqlite(compact_path)
    store = EventStore(f"sqlite:///{compact_path}")
    generator = history_generator()(store, args)
    generator.run(progress=False)
    store.close()
    conn = sqlite3.connect(compact_path, isolation_level=None)
    conn.execute("VACUUM")
    conn.close()
    _plain_copy(compact_path, plain_path)
    stores = {
        "compact": EventStore(f"sqlite:///{compact_path}"),
        "plain": EventStore(f"sqlite:///{plain_path}"),
    }
    events = stores["compact"].max_position()
    print(f"{events:,} events ({generator.steps:,} step runs)")
    for name, path in (("compact", compact_path), ("plain", plain_path)):
        print(f"  log, {name:<8} {_log_bytes(path) / events:7,.0f} bytes per event")

    reference = [reference_loop()]
    measures: dict[str, Callable[[EventStore], Any]] = {
        "audit (no artifacts)": audit_log,
        "read for a rebuild": _read_all,
        "export": _export,
    }
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.repeats):
        for label, measure in measures.items():
            for name, store in stores.items():
                started = time.perf_counter()
                measure(store)
                times.setdefault((label, name), []).append(time.perf_counter() - started)
        reference.append(reference_loop())

    domain_events = [recorded.event for recorded in stores["compact"].read(0, 5000)]
    compact_mapper = stores["compact"].mapper
    plain_mapper: Mapper[Any] = Mapper(transcoder=compact_mapper.transcoder)
    for _ in range(args.repeats):
        for name, mapper in (("compact", compact_mapper), ("plain", plain_mapper)):
            started = time.perf_counter()
            for event in domain_events:
                mapper.to_stored_event(event)
            per_event = (time.perf_counter() - started) / len(domain_events)
            times.setdefault(("encode for an append (per event)", name), []).append(per_event)

    for label in [*measures, "encode for an append (per event)"]:
        compact = statistics.median(times[(label, "compact")])
        plain = statistics.median(times[(label, "plain")])
        if label.startswith("encode"):
            print(f"{label:<34} compact {compact * 1e6:6.1f} us   plain {plain * 1e6:6.1f} us")
        else:
            print(
                f"{label:<34} compact {events / compact:9,.0f} events/s   "
                f"plain {events / plain:9,.0f} events/s   ({compact / plain:.2f}x the time)"
            )
    print(f"pure-Python reference loop: median {statistics.median(reference) * 1000:.2f} ms")
    for store in stores.values():
        store.close()


if __name__ == "__main__":
    main()
