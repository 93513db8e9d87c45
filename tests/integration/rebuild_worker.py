"""The child side of the online rebuild tests: rebuilds the views online, maybe until killed.

    python rebuild_worker.py DATABASE_URL ARTIFACT_STORE POINT AFTER REPEATS

Arms the checkpoint ``POINT`` (``-`` for none) with ``AFTER`` (the process
SIGKILLs itself the AFTER-th time it passes it), then runs ``REPEATS`` online
rebuilds of every view, printing ``rebuilt EVENTS`` after each.
"""

from __future__ import annotations

import sys

from lineagelog.api.context import open_context
from lineagelog.projections.faults import arm


def main() -> None:
    """Rebuild online as the arguments say."""
    database_url, artifact_store, point, after, repeats = sys.argv[1:6]
    if point != "-":
        arm(point, int(after))
    context = open_context(database_url, artifact_store)
    for _ in range(int(repeats)):
        count, _ = context.projector.rebuild(online=True)
        print(f"rebuilt {count}", flush=True)


if __name__ == "__main__":
    main()
