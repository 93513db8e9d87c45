"""The README's example pipeline: load numbers, split them, total each half."""

from __future__ import annotations

from typing import Annotated

from lineagelog.api import pipeline, step


@step
def load(n: int = 5) -> Annotated[list[int], "numbers"]:
    return list(range(n))


@step
def split(
    numbers: list[int],
) -> tuple[Annotated[list[int], "evens"], Annotated[list[int], "odds"]]:
    return [x for x in numbers if x % 2 == 0], [x for x in numbers if x % 2]


@step(enable_cache=False)
def total(values: list[int]) -> int:
    return sum(values)


@pipeline
def numbers(n: int = 5) -> None:
    evens, odds = split(load(n=n))
    total(evens)
    total(odds)  # second invocation of the same step: invocation id "total_2"
