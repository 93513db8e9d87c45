"""Pipelines of the trust tests, importable by the test process and its worker alike.

Both processes must compute the same code hashes and cache keys, so the steps
live in one module that both import.
"""

from __future__ import annotations

from typing import Annotated

from lineagelog.api import PickleMaterializer, pipeline, step


@step
def produce(n: int = 3) -> Annotated[list[int], "numbers"]:
    return list(range(1, n + 1))


@step(enable_cache=False)
def consume(numbers: list[int]) -> Annotated[int, "total"]:
    return sum(numbers)


@pipeline
def summing(n: int = 3) -> None:
    consume(produce(n=n))


@step
def make(n: int) -> Annotated[list[int], "made"]:
    return list(range(n))


@pipeline
def small(n: int = 3) -> None:
    make(n=n)


class Weights:
    """A value only the pickle materializer takes."""

    def __init__(self, scale: float) -> None:
        self.scale = scale


@step(output_materializers=PickleMaterializer)
def fit(scale: float = 2.0) -> Annotated[Weights, "weights"]:
    return Weights(scale)


@step(enable_cache=False)
def apply_weights(weights: Weights) -> Annotated[float, "scaled"]:
    return weights.scale * 10


@pipeline
def weighting(scale: float = 2.0) -> None:
    apply_weights(fit(scale=scale))


PIPELINES = {"summing": summing, "weighting": weighting}
