"""Pipelines the Dask tests run: importable by the worker processes (they import steps by name).

The README's pipeline is here as the README writes it; the others are shaped for
one behaviour each (independent sleepers, a failing branch, a step a test kills).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Annotated

from lineagelog.api import (
    get_step_context,
    log_metadata,
    pipeline,
    save_artifact,
    step,
)


@step
def load(n: int = 5) -> Annotated[list[int], "numbers"]:
    return list(range(n))


@step
def split(numbers: list[int]) -> tuple[Annotated[list[int], "evens"], Annotated[list[int], "odds"]]:
    return [x for x in numbers if x % 2 == 0], [x for x in numbers if x % 2]


@step(enable_cache=False)
def total(values: list[int]) -> int:
    return sum(values)


@pipeline
def numbers(n: int = 5):
    evens, odds = split(load(n=n))
    total(evens)
    total(odds)  # second invocation of the same step: invocation id "total_2"


@step(enable_cache=False)
def sleeper(index: int, seconds: float = 0.5) -> int:
    time.sleep(seconds)
    return index


@pipeline
def fan_out(width: int = 8, seconds: float = 0.5):
    for index in range(width):
        sleeper(index=index, seconds=seconds)


@step
def quick(value: int = 3) -> int:
    return value * 2


@pipeline
def busy_beside_a_cached_step(width: int = 4, seconds: float = 2.0):
    for index in range(width):  # called first: they take every worker
        sleeper(index=index, seconds=seconds)
    quick(value=3)  # cached after the first run: served while the workers are busy


@step
def fails(reason: str = "bad input") -> int:
    raise ValueError(reason)


@step
def slow(seconds: float = 1.0) -> int:
    time.sleep(seconds)
    return 7


@step
def after(value: int) -> int:
    return value + 1


@pipeline
def failing_branch(seconds: float = 1.0):
    after(fails())
    after(slow(seconds=seconds))


@step(enable_cache=False)
def killable(marker_folder: str) -> Annotated[int, "survivor"]:
    """The first attempt says where it runs and waits to be killed; a retry returns at once."""
    folder = Path(marker_folder)
    first = not (folder / "started").exists()
    (folder / "started").write_text(str(os.getpid()))
    if first:
        time.sleep(120)  # the test kills this worker long before
    return os.getpid()


@pipeline
def kill_me(marker_folder: str):
    killable(marker_folder=marker_folder)


@step(enable_cache=False)
def dies_at_once(marker_folder: str) -> Annotated[int, "survivor"]:
    """The first attempt SIGKILLs its own worker at its first line; a retry returns at once."""
    marker = Path(marker_folder) / "killed"
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid()


@pipeline
def kill_at_once(marker_folder: str):
    dies_at_once(marker_folder=marker_folder)


@step
def uses_the_context(numbers: list[int]) -> Annotated[int, "count"]:
    context = get_step_context()
    context.add_output_metadata({"seen_by": context.pipeline_run.name})
    log_metadata({"step_run_id": str(context.step_run.id)})
    log_metadata({"items": len(numbers)}, infer_artifact=True)
    return len(numbers)


@pipeline
def context_pipeline(n: int = 4):
    uses_the_context(load(n=n))


@step
def saves_inside() -> int:
    save_artifact([1, 2], name="saved_inside")
    return 1


@pipeline
def save_inside_pipeline():
    saves_inside()
