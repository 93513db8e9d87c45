"""The child side of the trust tests: runs one pipeline, stopping itself at a checkpoint.

Usage: python trust_worker.py DATABASE_URL ARTIFACT_STORE PIPELINE CHECKPOINT

The checkpoint is armed with ``stop=True``: the process SIGSTOPs itself there
the first time, the test acts (deletes a version, edits bytes) and sends SIGCONT.
The outcome is printed as one JSON line: the run's step outcomes, or the
failure and the type and message of its cause.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from trust_pipelines import PIPELINES

from lineagelog.domain.errors import RunFailedError
from lineagelog.projections.faults import arm


def main(database_url: str, artifact_store: str, pipeline: str, point: str) -> None:
    """Run ``pipeline`` once with ``point`` armed to stop; print what happened."""
    arm(point, stop=True)
    try:
        run = PIPELINES[pipeline].run(database_url=database_url, artifact_store=artifact_store)
    except RunFailedError as e:
        cause = e.__cause__
        print(
            json.dumps(
                {
                    "status": "failed",
                    "run_id": str(e.run_id),
                    "cause": type(cause).__name__,
                    "message": str(cause),
                }
            )
        )
        return
    steps = {
        name: {"outcome": s.cache_outcome, "reason": s.cache_reason}
        for name, s in run.steps.items()
    }
    print(json.dumps({"status": run.status, "run_id": str(run.id), "steps": steps}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
