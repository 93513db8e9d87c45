"""The canonical encoding of one event (what every event hash and cache key costs).

Encodes a typical ``ArtifactWritten`` payload and a step's cache ingredients
many times and prints the median per encoding, beside a fixed pure-Python
reference loop (divide by it to compare machines or days).

    python benchmarks/bench_canonical.py [--repeats 7] [--number 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

from lineagelog.domain.cache import CacheIngredients
from lineagelog.domain.canonical import canonical_bytes

EVENT = {
    "__type__": "lineagelog.domain.step_run:StepRun.ArtifactWritten",
    "originator_id": str(uuid.UUID(int=1)),
    "originator_version": 3,
    "timestamp": "2026-12-01T05:00:00+00:00",
    "name": "numbers",
    "version": 1,
    "uri": "file:///tmp/project/artifacts/numbers/0f9c",
    "materializer": "lineagelog.adapters.materializers.builtin:BuiltInMaterializer",
    "data_type": "builtins:list",
    "content_hash": "a" * 64,
    "size": 123,
    "metadata": {"length": 5, "storage_size": 123},
    "visualizations": [{"type": "json", "uri": "file:///tmp/project/v.json"}],
    "output_name": "numbers",
    "previous_hash": "b" * 64,
}
INGREDIENTS = CacheIngredients(
    "c" * 64,
    {"lr": 0.1, "layers": (64, 32), "name": "run", "when": None},
    {"data": "d" * 64},
    {"output": "lineagelog.adapters.materializers.builtin:BuiltInMaterializer"},
    "file:///tmp/project/artifacts",
)


def per_call_us(fn: object, number: int) -> float:
    """Microseconds per call of ``fn`` over ``number`` calls."""
    started = time.perf_counter()
    for _ in range(number):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - started) / number * 1e6


def reference_loop() -> float:
    """Seconds for a fixed pure-Python loop (10**6 multiply-adds), the machine's yardstick."""
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i
    elapsed = time.perf_counter() - started
    assert total == 333332833333500000
    return elapsed


def main() -> None:
    """Print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    event = [per_call_us(lambda: canonical_bytes(EVENT), args.number) for _ in range(args.repeats)]
    key = [per_call_us(lambda: INGREDIENTS.key, args.number) for _ in range(args.repeats)]
    reference = [reference_loop() for _ in range(args.repeats)]
    print(f"canonical encoding of one event:  median {statistics.median(event):7.2f} us")
    print(f"cache key of one step:            median {statistics.median(key):7.2f} us")
    print(f"pure-Python reference loop:       median {statistics.median(reference) * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
