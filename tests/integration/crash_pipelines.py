"""Pipelines the crash-safety tests run in a child process and kill at named points."""

from __future__ import annotations

import json
from typing import Annotated, Any, ClassVar

from lineagelog.adapters.materializers.base import ArtifactType, BaseMaterializer
from lineagelog.api import pipeline, step
from lineagelog.projections.faults import checkpoint


class Squares(list):  # type: ignore[type-arg]
    """A list written by a materializer that can be killed half-way through a file."""


class HalvesMaterializer(BaseMaterializer):
    """Writes its JSON in two flushed halves with a crash point between them."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Squares,)
    ASSOCIATED_ARTIFACT_TYPE = ArtifactType.DATA

    def save(self, data: Any) -> None:
        text = json.dumps(list(data)).encode()
        with self.artifact_store.open(self.path("data.json"), "wb") as f:
            f.write(text[: len(text) // 2])
            f.flush()
            checkpoint("materializer.write")
            f.write(text[len(text) // 2 :])

    def load(self, data_type: type) -> Any:
        with self.artifact_store.open(self.path("data.json"), "rb") as f:
            return Squares(json.loads(f.read()))


@step
def source(n: int) -> Annotated[list[int], "source"]:
    return list(range(n))


@step(output_materializers=HalvesMaterializer)
def square(values: list[int]) -> Annotated[Squares, "squares"]:
    return Squares(v * v for v in values)


@step
def total(values: list[int], fail: bool) -> Annotated[int, "total"]:
    if fail:
        raise ValueError("asked to fail")
    return sum(values)


@pipeline
def crashy(n: int = 3, fail: bool = False) -> None:
    total(square(source(n=n)), fail=fail)


def expected_total(n: int) -> int:
    """What ``crashy(n)`` produces."""
    return sum(v * v for v in range(n))
