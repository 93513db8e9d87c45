"""What storing artifact URIs relative to the store costs readers: listing versions, one locate.

Every ``ArtifactVersion`` a Client returns carries its full URI, found by
``ArtifactStore.locate`` (a path check under the root, ``realpath`` on a local
disk). This saves ``--versions`` small versions of one name, then times
``Client.list_artifact_versions`` over all of them, ``locate`` alone, and the
fixed pure-Python reference loop of ``bench_step_overhead.py`` (divide by it to
compare machines or days). With an older lineagelog, the ``locate`` line is skipped.

    python benchmarks/bench_portable_uris.py [--versions 500] [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_step_overhead import reference_loop


def median_ms(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--versions", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    from lineagelog.api import Client, configure

    with tempfile.TemporaryDirectory() as home:
        configure(home=home)
        client = Client()
        for i in range(args.versions):
            client.save_artifact([i], "numbers")
        listed = client.list_artifact_versions("numbers")
        assert len(listed) == args.versions, len(listed)
        store = client.context.artifacts
        recorded = f"numbers/{listed[0].id}"
        listing = median_ms(lambda: client.list_artifact_versions("numbers"), args.repeats)
        print(f"{f'list_artifact_versions ({args.versions}):':<36}median {listing:8.2f} ms")
        if hasattr(store, "locate"):
            per_call = median_ms(
                lambda: [store.locate(recorded) for _ in range(1000)], args.repeats
            )
            print(f"{'ArtifactStore.locate (1000 calls):':<36}median {per_call:8.2f} ms")
        reference = [reference_loop() for _ in range(args.repeats)]
        loop = statistics.median(reference) * 1000
        print(f"{'pure-Python reference loop:':<36}median {loop:8.2f} ms")
        configure()


if __name__ == "__main__":
    main()
