"""Peak memory and time of ``lineagelog events export`` and ``events import`` at full size.

Generates a history with the lineage benchmark's generator (real aggregates,
hash-chained events, sealed), then runs the real command line in a new process
for each repeat and prints the medians of:

- wall time and events per second;
- the peak resident memory of the largest process (``ru_maxrss`` from
  ``wait4``: the command itself, or one of its hashing workers);
- the peak of the whole process tree's resident memory (the command and its
  workers together), sampled from ``/proc`` every 20 ms.

The target is a peak under 200 MiB whatever the size of the log.

    python benchmarks/bench_streaming.py --steps 62000              # ~400,000 events
    python benchmarks/bench_streaming.py --steps 1000000 --repeats 1  # ~6.5 million

Run with the ``lineagelog`` package importable (``pip install -e .`` or
``PYTHONPATH`` pointing at a folder that holds it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from generated_history import add_history_options, history_generator, remove_sqlite

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.sealing import seal_log

MIB = 2**20


class _SealingStore:
    """The event store as the generator sees it: sealed after every save, as runs seal at their end.

    A log sealed only once would make the checker keep a digest per event until
    that seal; the runner seals after every run, and so does this history.
    """

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def save(self, *aggregates: Any) -> list[int]:
        positions = self.store.save(*aggregates)
        seal_log(self.store)
        return positions

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and every descendant (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def measured(command: list[str]) -> tuple[float, int, int]:
    """Run ``command``; return (seconds, peak bytes of its largest process, of its tree)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_tree = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not done.is_set():
            peak_tree = max(peak_tree, _tree_rss(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    took = time.perf_counter() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    if process.returncode != 0:
        raise SystemExit(f"{command} failed: {process.stderr.read().decode()}")
    process.stderr.close()
    return took, usage.ru_maxrss * 1024, peak_tree


def reference_loop() -> float:
    """A fixed pure-Python loop: divide by it to compare machines (or moments)."""
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i % 7
    return time.perf_counter() - started


def _report(label: str, events: int, runs: list[tuple[float, int, int]]) -> None:
    took = statistics.median(r[0] for r in runs)
    largest = statistics.median(r[1] for r in runs) / MIB
    tree = statistics.median(r[2] for r in runs) / MIB
    print(
        f"{label:<8} {took:8.2f}s {events / took:>9,.0f} events/s   peak RSS: largest process "
        f"{largest:6.1f} MiB, whole tree {tree:6.1f} MiB (median of {len(runs)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_history_options(parser)
    parser.add_argument("--folder", default="/tmp/lineagelog-bench-streaming")
    parser.add_argument("--reuse", action="store_true", help="keep an existing database")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "lineage.db"
    if not args.reuse:
        remove_sqlite(source)
    store = EventStore(f"sqlite:///{source}")
    if store.max_position() == 0:
        print(f"generating {args.steps:,} step runs into {source}")
        started = time.perf_counter()
        generator = history_generator()(_SealingStore(store), args)
        generator.run(progress=False)
        seal_log(store)
        print(
            f"wrote and sealed {generator.events:,} events in {time.perf_counter() - started:.0f}s"
        )
    events = store.max_position()
    store.close()
    print(f"log: {events:,} events; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")

    cli = [sys.executable, "-m", "lineagelog.api.cli", "events"]
    exported, target = folder / "events.jsonl", folder / "imported.db"
    exports = [
        measured([*cli, "export", "-o", str(exported), "--database-url", f"sqlite:///{source}"])
        for _ in range(args.repeats)
    ]
    print(f"file: {exported.stat().st_size / MIB:,.0f} MiB")
    imports = []
    for _ in range(args.repeats):
        remove_sqlite(target)
        imports.append(
            measured([*cli, "import", str(exported), "--database-url", f"sqlite:///{target}"])
        )
    _report("export", events, exports)
    _report("import", events, imports)
    reference = statistics.median(reference_loop() for _ in range(5))
    print(f"pure-Python reference loop: median {reference * 1000:.1f} ms")


if __name__ == "__main__":
    main()
