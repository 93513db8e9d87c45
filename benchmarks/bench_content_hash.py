"""What hashing an artifact version's stored bytes costs, by size.

``api.content_check.HASH_UP_TO_BYTES`` is chosen from these figures: below it a
step hashes an input in full before loading it. Measured on the team's 2-core
machine while other test suites ran (load average 15): a local folder hashed
1 MiB in 1.5 ms, 64 MiB in 236 ms and 256 MiB in 829 ms (about 300 MiB/s; plain
``hashlib.sha256`` on bytes in memory did 850 to 1700 MiB/s there), and a
typical small output folder (two small JSON files) in 0.29 ms.

    python benchmarks/bench_content_hash.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024


def best_of(repeats: int, fn) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def main() -> None:
    from lineagelog.adapters.fsspec_store import FsspecArtifactStore

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        store = FsspecArtifactStore(root)
        small = Path(root, "small", "1")
        small.mkdir(parents=True)
        (small / "data.json").write_text('{"value": [1, 2, 3]}')
        (small / "metadata.json").write_text('{"kind": "list"}')
        best, median = best_of(args.repeats, lambda: store.content_hash(str(small)))
        print(
            f"small folder (two JSON files): best {best * 1000:.2f} ms, "
            f"median {median * 1000:.2f} ms"
        )
        for size_mib in (1, 64, 256):
            folder = Path(root, f"big{size_mib}", "1")
            folder.mkdir(parents=True)
            payload = os.urandom(size_mib * MIB)
            (folder / "data.bin").write_bytes(payload)
            best, median = best_of(args.repeats, lambda f=folder: store.content_hash(str(f)))
            rate = size_mib / best
            print(
                f"{size_mib:>4} MiB folder: best {best * 1000:.1f} ms, "
                f"median {median * 1000:.1f} ms ({rate:.0f} MiB/s)"
            )
            best, _ = best_of(args.repeats, lambda p=payload: hashlib.sha256(p).digest())
            print(f"{size_mib:>4} MiB in memory, plain sha256: {size_mib / best:.0f} MiB/s")


if __name__ == "__main__":
    main()
