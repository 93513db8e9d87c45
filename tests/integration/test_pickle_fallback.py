"""Types without a materializer: a clear refusal, or the explicit project-wide pickle fallback.

Off by default. Turned on with ``configure(pickle_fallback=True)`` or
``LINEAGELOG_PICKLE_FALLBACK=1``, it behaves as ZenML's cloudpickle fallback
(a warning once per type, the Python version recorded) and the artifact's
event names the fallback; loading the pickle still needs ``allow_pickle``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from cli import run_python
from log_checks import event_counts

from lineagelog.api import (
    Client,
    ConfigurationError,
    NoMaterializerError,
    RunFailedError,
    UnsafeLoadError,
    UntrustedTypeError,
    configure,
    materializer_registry,
    pipeline,
    step,
)
from lineagelog.domain.step_run import StepRun

FALLBACK = "lineagelog.adapters.materializers.pickle:PickleFallbackMaterializer"


class Model:
    """A class no materializer knows."""

    def __init__(self, weight: float) -> None:
        self.weight = weight


class Warned:
    """Another such class, used only by the warning test (warnings are once per process)."""

    def __init__(self, weight: float) -> None:
        self.weight = weight


@step
def train(weight: float = 0.5) -> Annotated[Model, "model"]:
    return Model(weight)


@step(enable_cache=False)
def predict(model: Model) -> Annotated[float, "prediction"]:
    return model.weight * 10


@pipeline
def modelling(weight: float = 0.5) -> None:
    predict(train(weight=weight))


@step
def train_ensemble() -> Annotated[list[Model], "ensemble"]:
    return [Model(0.1), Model(0.2)]


@pipeline
def ensembling() -> None:
    train_ensemble()


@step
def make_warned(weight: float) -> Annotated[Warned, "warned"]:
    return Warned(weight)


@pipeline
def twice() -> None:
    make_warned(weight=1.0)
    make_warned(weight=2.0)


@pytest.fixture
def fallback_on(sqlite_stores: tuple[str, str]) -> Iterator[None]:
    database_url, artifact_store = sqlite_stores
    configure(database_url=database_url, artifact_store=artifact_store, pickle_fallback=True)
    yield
    configure(database_url=database_url, artifact_store=artifact_store)


def written(name: str) -> list[Any]:
    """The ArtifactWritten events of ``name``, as the log holds them."""
    return [
        recorded.event
        for recorded in Client().context.events.iter_all()
        if isinstance(recorded.event, StepRun.ArtifactWritten) and recorded.event.name == name
    ]


def test_without_the_fallback_the_error_names_the_type_and_both_ways_out(
    sqlite_stores: tuple[str, str],
) -> None:
    with pytest.raises(RunFailedError) as failure:
        modelling()

    error = failure.value.__cause__
    assert isinstance(error, NoMaterializerError)
    assert f"'{__name__}:Model'" in str(error)
    assert "subclass lineagelog's BaseMaterializer with ASSOCIATED_TYPES = (Model,)" in str(error)
    assert "configure(pickle_fallback=True)" in str(error)
    assert "LINEAGELOG_PICKLE_FALLBACK=1" in str(error)
    assert written("model") == []


def test_with_the_fallback_a_step_output_is_pickled_and_the_log_says_so(fallback_on: None) -> None:
    run = modelling(weight=0.5)

    assert run.steps["predict"].outputs["prediction"].load() == 5.0
    (event,) = written("model")
    assert event.materializer == FALLBACK
    assert event.metadata["pickle_fallback"] is True
    assert event.metadata["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert Client().get_artifact_version("model").materializer == FALLBACK


def test_loading_a_fallback_pickle_still_needs_the_load_time_opt_in(fallback_on: None) -> None:
    modelling(weight=0.25)
    model = Client().get_artifact_version("model")

    with pytest.raises(UnsafeLoadError, match="allow_pickle=True"):
        model.load()
    assert model.load(allow_pickle=True).weight == 0.25


def test_the_fallback_warns_once_per_type(fallback_on: None) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        twice()
        twice()

    about_warned = [w for w in caught if f"'{__name__}:Warned'" in str(w.message)]
    assert len(about_warned) == 1
    assert "load(allow_pickle=True)" in str(about_warned[0].message)
    assert [e.materializer for e in written("warned")] == [FALLBACK] * 2


def test_a_list_holding_a_type_without_a_materializer_is_pickled_whole(fallback_on: None) -> None:
    ensembling()

    ensemble = Client().get_artifact_version("ensemble")

    assert ensemble.materializer == FALLBACK
    assert [m.weight for m in ensemble.load(allow_pickle=True)] == [0.1, 0.2]


def test_the_environment_variable_turns_the_fallback_on(
    sqlite_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAGELOG_PICKLE_FALLBACK", "1")

    modelling(weight=0.75)

    assert Client().get_artifact_version("model").load(allow_pickle=True).weight == 0.75
    assert materializer_registry[Model].__name__ == "PickleFallbackMaterializer"


def test_configure_false_overrides_the_environment(
    sqlite_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url, artifact_store = sqlite_stores
    monkeypatch.setenv("LINEAGELOG_PICKLE_FALLBACK", "1")
    configure(database_url=database_url, artifact_store=artifact_store, pickle_fallback=False)

    with pytest.raises(RunFailedError):
        modelling()
    with pytest.raises(NoMaterializerError):
        materializer_registry[Model]


def test_an_unreadable_environment_setting_is_refused_naming_it(
    sqlite_stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINEAGELOG_PICKLE_FALLBACK", "sometimes")

    with pytest.raises(ConfigurationError, match="LINEAGELOG_PICKLE_FALLBACK='sometimes'"):
        modelling()

    assert event_counts(Client().context) == {}  # refused before the run was recorded


def test_configure_refuses_a_setting_that_is_not_a_bool() -> None:
    with pytest.raises(ConfigurationError, match="pickle_fallback='yes'"):
        configure(pickle_fallback="yes")  # type: ignore[arg-type]


def test_client_save_artifact_uses_the_fallback_too(fallback_on: None) -> None:
    Client().save_artifact(Model(3.0), "saved_model")

    saved = Client().get_artifact_version("saved_model")

    assert saved.materializer == FALLBACK
    assert saved.load(allow_pickle=True).weight == 3.0


HELPERS = """
class Thing:
    def __init__(self, size):
        self.size = size
"""

SCRIPT = """
from typing import Annotated

from helpers import Thing
from lineagelog.api import pipeline, step


@step
def make() -> Annotated[Thing, "thing"]:
    return Thing(7)


@pipeline
def things():
    make()


if __name__ == "__main__":
    things()
"""


def test_a_pickle_of_a_class_this_process_cannot_import_is_not_blamed_on_damaged_bytes(
    tmp_path: Path, sqlite_stores: tuple[str, str]
) -> None:
    (tmp_path / "helpers.py").write_text(HELPERS)
    (tmp_path / "make_things.py").write_text(SCRIPT)
    ran = run_python(
        "make_things.py",
        stores=sqlite_stores,
        cwd=tmp_path,
        settings={"LINEAGELOG_PICKLE_FALLBACK": "1"},
    )
    assert ran.returncode == 0, ran.stderr
    assert "'helpers:Thing'" in ran.stderr  # the fallback's warning
    thing = Client().get_artifact_version("thing")

    with pytest.raises(UntrustedTypeError) as refused:
        thing.load(allow_pickle=True)

    assert "cannot find (No module named 'helpers')" in str(refused.value)
    assert "damaged" not in str(refused.value)
