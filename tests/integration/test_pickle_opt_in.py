"""Pickle only when the user opts in: per step to write, per call or globally to load."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Annotated

import pytest

from lineagelog.api import (
    Client,
    NoMaterializerError,
    PickleMaterializer,
    RunFailedError,
    UnsafeLoadError,
    allow_pickle,
    pipeline,
    step,
)


class Model:
    """A class no built-in materializer knows."""

    def __init__(self, weight: float) -> None:
        self.weight = weight


@step(output_materializers=PickleMaterializer)
def train(weight: float = 0.5) -> Annotated[Model, "model"]:
    return Model(weight)


@step(enable_cache=False)
def predict(model: Model) -> Annotated[float, "prediction"]:
    return model.weight * 10


@pipeline
def modelling(weight: float = 0.5) -> None:
    predict(train(weight=weight))


@step
def train_without_opt_in() -> Annotated[Model, "unpicklable"]:
    return Model(1.0)


@pipeline
def not_opted_in() -> None:
    train_without_opt_in()


@pytest.fixture
def pickle_globally_allowed() -> Iterator[None]:
    allow_pickle(True)
    yield
    allow_pickle(False)


def test_a_step_that_opts_in_hands_its_pickled_output_to_the_next_step(
    sqlite_stores: tuple[str, str],
) -> None:
    modelling(weight=0.5)

    prediction = Client().get_artifact_version("prediction")

    assert prediction.load() == 5.0
    model = Client().get_artifact_version("model")
    assert model.materializer.endswith("pickle:PickleMaterializer")
    assert model.metadata["python_version"] == ".".join(map(str, sys.version_info[:3]))


def test_loading_a_pickle_needs_an_opt_in_per_call(sqlite_stores: tuple[str, str]) -> None:
    modelling(weight=0.5)
    model = Client().get_artifact_version("model")

    with pytest.raises(UnsafeLoadError, match="allow_pickle=True"):
        model.load()
    assert model.load(allow_pickle=True).weight == 0.5


def test_loading_a_pickle_can_be_allowed_for_the_whole_process(
    sqlite_stores: tuple[str, str], pickle_globally_allowed: None
) -> None:
    modelling(weight=0.25)

    assert Client().get_artifact_version("model").load().weight == 0.25


def test_pickle_is_never_chosen_without_an_opt_in(sqlite_stores: tuple[str, str]) -> None:
    with pytest.raises(RunFailedError) as failure:
        not_opted_in()

    assert isinstance(failure.value.__cause__, NoMaterializerError)
    assert "Model" in str(failure.value)


def test_a_cached_pickle_changed_since_it_was_recorded_is_recomputed_never_unpickled(
    sqlite_stores: tuple[str, str],
) -> None:
    modelling(weight=0.5)
    client = Client()
    model = client.get_artifact_version("model")
    pickled = next(f for f in client.context.artifacts.walk_files(model.uri) if f.endswith(".pkl"))
    client.context.artifacts.write_bytes(pickled, b"tampered")

    run = modelling(weight=0.5)  # b"tampered" would fail to unpickle: predict got fresh bytes

    assert run.steps["train"].cache_outcome == "miss"
    assert "no longer matches its recorded bytes" in (run.steps["train"].cache_reason or "")
    assert run.steps["predict"].outputs["prediction"].load() == 5.0
