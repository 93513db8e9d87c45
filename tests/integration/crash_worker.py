"""The child side of the crash-safety tests: runs pipelines (or an import) until killed.

``crash_worker.py`` is a zygote: it imports lineagelog once, then reads one job
per line on stdin (``DB STORE SEED POINTS AFTER [IMPORT_FILE]``) and forks a
fresh process per job, so each killed process costs milliseconds, not an
interpreter start. For each job it prints ``pid PID`` when the child starts
and ``exit CODE`` when it is gone (``-9``: killed by SIGKILL).

A child arms ``POINTS`` (comma-separated, ``-`` for none) with ``AFTER``: it
SIGKILLs itself the AFTER-th time it passes one of them. It runs pipelines in a
seeded loop, or, given IMPORT_FILE, imports that event file into DB.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import contextlib

from crash_pipelines import crashy

from lineagelog.adapters.export import import_events
from lineagelog.api import Client
from lineagelog.domain.errors import RunFailedError
from lineagelog.projections.faults import arm


def work(db: str, store: str, seed: int, points: str, after: int, import_file: str | None) -> None:
    """Run pipelines in a loop (or import ``import_file``) until a checkpoint kills us."""
    if points != "-":
        arm(points, after)
    client = Client(db, store)
    if import_file is not None:
        with open(import_file) as source:
            import_events(client.context.events, source)
        return
    rng = random.Random(seed)
    for _ in range(200):
        # half the runs without cache, so every checkpoint is reached again and again;
        # the others hit the cache often (few distinct parameters)
        with contextlib.suppress(RunFailedError):
            crashy.run(
                n=rng.randint(1, 4),
                fail=rng.random() < 0.15,
                enable_cache=rng.random() < 0.5,
                database_url=db,
                artifact_store=store,
            )
        versions = client.list_artifact_versions(name="total")
        if versions and rng.random() < 0.2:
            client.tag_artifact("total", versions[-1].version, f"t{rng.randint(1, 3)}")


def warm_up() -> None:
    """Load every lazily imported module once, so forked children start at full speed."""
    import shutil
    import tempfile

    from lineagelog.api.context import close_contexts

    folder = tempfile.mkdtemp(prefix="lineagelog-warm-")
    try:
        db, store = f"sqlite:///{folder}/lineage.db", f"{folder}/artifacts"
        crashy.run(n=2, database_url=db, artifact_store=store)
        client = Client(db, store)
        client.tag_artifact("total", 1, "warm")
        client.audit(verify_artifacts=True)
        client.recover_runs(apply=False)
    finally:
        close_contexts()
        shutil.rmtree(folder, ignore_errors=True)


def serve() -> None:
    """Fork one child per job line; report its pid and how it ended."""
    warm_up()
    for line in sys.stdin:
        db, store, seed, points, after, *rest = line.split()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                work(db, store, int(seed), points, int(after), rest[0] if rest else None)
            except BaseException as e:  # report, never fall back into the zygote's loop
                print(f"child error {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                code = 1
            os._exit(code)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    serve()
