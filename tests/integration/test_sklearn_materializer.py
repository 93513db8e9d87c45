"""scikit-learn models through real pipeline runs, stored in skops' format (never pickled).

The pipeline is ZenML's documented example (importer, svc_trainer, evaluator)
with only the imports changed, on the iris data as ZenML's iris example loads
it; the trainer builds the three kinds of
model the materializer must carry: a LogisticRegression, a Pipeline with a
StandardScaler, and a RandomForest (whose trees skops does not trust by default).
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Annotated

import pytest
from cli import run_python
from parts import require_module

require_module("sklearn", "sklearn")
require_module("skops", "sklearn")
np = require_module("numpy", "numpy")

import skops.io as sio  # noqa: E402
from sklearn.base import ClassifierMixin  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402

from lineagelog.adapters.fsspec_store import FsspecArtifactStore  # noqa: E402
from lineagelog.adapters.materializers import load_artifact, save_artifact  # noqa: E402
from lineagelog.adapters.materializers.sklearn import SklearnMaterializer  # noqa: E402
from lineagelog.api import (  # noqa: E402
    Client,
    RunFailedError,
    UntrustedTypeError,
    pipeline,
    step,
)


def build(kind: str) -> ClassifierMixin:
    if kind == "logistic":
        return LogisticRegression()
    if kind == "scaled":
        return Pipeline([("scale", StandardScaler()), ("classify", LogisticRegression())])
    return RandomForestClassifier(n_estimators=5, random_state=0)


def halve(values):
    """A function of our own: skops' format can name it, but nothing trusts it."""
    return values / 2


@step
def importer() -> tuple[
    Annotated[np.ndarray, "X_train"],
    Annotated[np.ndarray, "X_test"],
    Annotated[np.ndarray, "y_train"],
    Annotated[np.ndarray, "y_test"],
]:
    iris = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.2, shuffle=True, random_state=42
    )
    return X_train, X_test, y_train, y_test


@step
def svc_trainer(
    X_train: np.ndarray, y_train: np.ndarray, kind: str = "logistic"
) -> Annotated[ClassifierMixin, "trained_model"]:
    model = build(kind)
    model.fit(X_train, y_train)
    return model


@step
def evaluator(X_test: np.ndarray, y_test: np.ndarray, model: ClassifierMixin) -> float:
    test_acc = model.score(X_test, y_test)
    print(f"Test accuracy: {test_acc}")
    return test_acc


@pipeline
def iris_pipeline(kind: str = "logistic"):
    X_train, X_test, y_train, y_test = importer()
    model = svc_trainer(X_train=X_train, y_train=y_train, kind=kind)
    evaluator(X_test=X_test, y_test=y_test, model=model)


@step
def untrusted_trainer(X_train: np.ndarray, y_train: np.ndarray) -> Annotated[Pipeline, "custom"]:
    model = Pipeline([("halve", FunctionTransformer(halve)), ("classify", LogisticRegression())])
    return model.fit(X_train, y_train)


@pipeline
def custom_pipeline():
    X_train, _, y_train, _ = importer()
    untrusted_trainer(X_train=X_train, y_train=y_train)


def iris_test_set():
    iris = load_iris()
    _, X_test, _, y_test = train_test_split(
        iris.data, iris.target, test_size=0.2, shuffle=True, random_state=42
    )
    return X_test, y_test


@pytest.mark.parametrize(
    ("kind", "estimator"),
    [
        ("logistic", "sklearn.linear_model._logistic:LogisticRegression"),
        ("scaled", "sklearn.pipeline:Pipeline"),
        ("random_forest", "sklearn.ensemble._forest:RandomForestClassifier"),
    ],
)
def test_a_trained_model_is_stored_with_skops_and_loads_back_predicting_the_same(
    sqlite_stores: tuple[str, str], kind: str, estimator: str
) -> None:
    run = iris_pipeline(kind=kind)

    version = Client().get_artifact_version("trained_model")
    model = version.load()
    X_test, y_test = iris_test_set()
    accuracy = run.steps["evaluator"].outputs["output"].load()
    assert model.score(X_test, y_test) == accuracy > 0.8
    assert version.materializer == "lineagelog.adapters.materializers.sklearn:SklearnMaterializer"
    assert version.data_type == estimator
    assert version.artifact_type == "ModelArtifact"
    assert version.metadata["estimator"] == estimator
    files = Client().context.artifacts.walk_files(version.uri)
    assert [f.rsplit("/", 1)[-1] for f in files] == ["model.skops"]


def test_a_rerun_with_the_same_model_is_served_from_cache(sqlite_stores: tuple[str, str]) -> None:
    iris_pipeline(kind="random_forest")

    again = iris_pipeline(kind="random_forest")

    assert again.steps["svc_trainer"].cache_outcome == "hit"
    assert again.steps["evaluator"].cache_outcome == "hit"


def test_another_process_loads_the_model_without_importing_scikit_learn_itself(
    sqlite_stores: tuple[str, str],
) -> None:
    iris_pipeline(kind="scaled")
    X_test, _ = iris_test_set()
    expected = list(Client().get_artifact_version("trained_model").load().predict(X_test))

    loaded = run_python(
        "-c",
        "import json; from lineagelog.api import Client; "
        "model = Client().get_artifact_version('trained_model').load(); "
        f"print(json.dumps([int(p) for p in model.predict({X_test.tolist()!r})]))",
        stores=sqlite_stores,
    )

    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout.splitlines()[-1]) == expected


def test_a_model_holding_a_function_of_our_own_is_refused_before_anything_is_stored(
    sqlite_stores: tuple[str, str],
) -> None:
    with pytest.raises(RunFailedError) as failure:
        custom_pipeline()

    cause = failure.value.__cause__
    assert isinstance(cause, UntrustedTypeError)
    assert f"{__name__}.halve" in str(cause)
    assert "output_materializers=PickleMaterializer" in str(cause)
    assert Client().list_artifact_versions("custom") == []


def test_a_stored_model_swapped_for_one_naming_untrusted_code_is_refused_on_load(
    sqlite_stores: tuple[str, str],
) -> None:
    iris_pipeline(kind="random_forest")
    version = Client().get_artifact_version("trained_model")
    swapped = Pipeline([("halve", FunctionTransformer(halve)), ("classify", LogisticRegression())])
    store = Client().context.artifacts
    (model_file,) = store.walk_files(version.uri)
    store.write_bytes(model_file, sio.dumps(swapped))

    with pytest.raises(UntrustedTypeError) as refused:
        version.load()

    assert f"{__name__}.halve" in str(refused.value)
    assert "is refused" in str(refused.value)


def test_a_model_loads_even_when_the_module_of_its_recorded_class_is_not_imported(
    tmp_path: Path,
) -> None:
    store = FsspecArtifactStore(str(tmp_path / "store"))
    uri = store.version_uri("model", uuid.uuid4())
    X_test, y_test = iris_test_set()
    model = LogisticRegression().fit(X_test, y_test)
    saved = save_artifact(model, uri=uri, store=store, materializer_cls=SklearnMaterializer)

    loaded = load_artifact(
        uri=uri,
        store=store,
        materializer_source=saved.materializer,
        data_type_source="sklearn.never_imported:LogisticRegression",  # skops' file names it
        expected_content_hash=saved.content_hash,
    )

    assert list(loaded.predict(X_test)) == list(model.predict(X_test))
    assert "sklearn.never_imported" not in sys.modules
