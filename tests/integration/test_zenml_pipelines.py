"""Pipelines and steps used the way ZenML's documentation uses them, on a SQLite file."""

from __future__ import annotations

from typing import Annotated, Tuple  # noqa: UP035  (ZenML's documentation writes Tuple)

from lineagelog.api import Client, pipeline, step


@step
def tuple_producer() -> Tuple[int, int]:  # noqa: UP006
    pair = (3, 4)
    return pair


@step
def tuple_consumer(pair: tuple[int, int]) -> int:
    return pair[0] * pair[1]


@step
def split_numbers() -> Tuple[Annotated[int, "low"], Annotated[int, "high"]]:  # noqa: UP006
    return 1, 9


def test_a_tuple_variable_is_stored_as_one_artifact_and_passed_whole(sqlite_stores):
    @pipeline
    def tuple_pipeline() -> None:
        tuple_consumer(tuple_producer())

    run = tuple_pipeline()

    produced = run.steps["tuple_producer"].outputs
    assert list(produced) == ["output"]
    assert tuple(produced["output"].load()) == (3, 4)
    assert run.steps["tuple_consumer"].outputs["output"].load() == 12


def test_a_literal_tuple_return_stores_each_named_output(sqlite_stores):
    @pipeline
    def split_pipeline() -> None:
        split_numbers()

    run = split_pipeline()

    outputs = run.steps["split_numbers"].outputs
    assert {name: v.load() for name, v in outputs.items()} == {"high": 9, "low": 1}
    assert Client().get_artifact_version("low").load() == 1
