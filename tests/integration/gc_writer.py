"""The child side of the gc-versus-writer tests: one pipeline run, paused or killed mid-write.

``python gc_writer.py DB STORE pause SIGNALS`` runs ``paused_write`` once. Its
output is saved by ``PausingMaterializer``, which writes its file, creates
``SIGNALS/writing`` and waits (at most two minutes) for ``SIGNALS/go``: the bytes
are in the store and no event points to them yet, as in any write in progress.

``python gc_writer.py DB STORE reuse SIGNALS`` records ``raw:1`` and ``raw:2``, then
runs ``reuse_then_pause``: its ``load`` is a cache hit reusing ``raw:1`` and its
next step pauses like ``pause`` while writing, so the run is still running.

``python gc_writer.py DB STORE kill`` runs ``plain_write`` with the
``artifact.written`` checkpoint armed: the process SIGKILLs itself after writing
the output's bytes and before recording them, leaving orphan bytes behind.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any, ClassVar

from lineagelog.adapters.materializers.builtins import BuiltInContainerMaterializer
from lineagelog.api import pipeline, step
from lineagelog.projections.faults import arm

_signals = Path()
_MAX_PAUSE_S = 120.0


class PausingMaterializer(BuiltInContainerMaterializer):
    """Writes ``data.json``, then waits for the test's go-ahead before the write completes."""

    SKIP_REGISTRATION: ClassVar[bool] = True

    def save(self, data: Any) -> None:
        """Write the data, say so, and wait for ``SIGNALS/go``."""
        super().save(data)
        (_signals / "writing").touch()
        deadline = time.monotonic() + _MAX_PAUSE_S
        while not (_signals / "go").exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {_signals / 'go'} after {_MAX_PAUSE_S}s")
            time.sleep(0.01)


@step(output_materializers=PausingMaterializer, enable_cache=False)
def slow_output() -> Annotated[dict[str, int], "slow"]:
    return {"answer": 42}


@pipeline
def paused_write() -> None:
    slow_output()


@step
def load(n: int) -> Annotated[list[int], "raw"]:
    return list(range(n))


@step(output_materializers=PausingMaterializer, enable_cache=False)
def summarize(raw: list[int]) -> Annotated[dict[str, int], "summary"]:
    return {"total": sum(raw)}


@pipeline
def loading(n: int) -> None:
    load(n=n)


@pipeline
def reuse_then_pause(n: int) -> None:
    summarize(load(n=n))


@step(enable_cache=False)
def plain_output() -> Annotated[dict[str, int], "plain"]:
    return {"answer": 42}


@pipeline
def plain_write() -> None:
    plain_output()


def main() -> None:
    """Run the job named on the command line."""
    global _signals
    db, store, mode, *rest = sys.argv[1:]
    if mode == "pause":
        _signals = Path(rest[0])
        paused_write.run(database_url=db, artifact_store=store)
    elif mode == "reuse":
        _signals = Path(rest[0])
        loading.run(n=1, database_url=db, artifact_store=store)
        loading.run(n=2, database_url=db, artifact_store=store)
        reuse_then_pause.run(n=1, database_url=db, artifact_store=store)
    elif mode == "kill":
        arm("artifact.written")
        plain_write.run(database_url=db, artifact_store=store)
    else:
        raise SystemExit(f"unknown mode {mode!r}; use pause, reuse or kill")


if __name__ == "__main__":
    main()
