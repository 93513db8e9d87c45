"""The two-step pipeline of the lifecycle tests: ``load`` counts its calls, ``scale`` doubles."""

from __future__ import annotations

from typing import Annotated

from lineagelog.api import pipeline, step

calls: list[int] = []
"""The ``n`` of every execution of ``load`` (a cache hit does not execute it)."""


@step
def load(n: int) -> Annotated[list[int], "raw"]:
    calls.append(n)
    return list(range(n))


@step
def scale(raw: list[int]) -> Annotated[list[int], "scaled"]:
    return [2 * x for x in raw]


@pipeline
def scaling(n: int = 3) -> None:
    scale(load(n=n))
