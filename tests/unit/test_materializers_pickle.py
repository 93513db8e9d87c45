"""Pickle: never chosen automatically, never loaded without opting in."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from parts import require_module

from lineagelog.adapters.materializers import (
    PickleMaterializer,
    allow_pickle,
    load_artifact,
    pickle_allowed,
    pickle_permission,
    save_artifact,
)
from lineagelog.domain.errors import UnsafeLoadError

require_module("cloudpickle", "pickle")


class Model:
    def __init__(self, weights: list[float]) -> None:
        self.weights = weights


@pytest.fixture
def store(memory_store):
    return memory_store


@pytest.fixture(autouse=True)
def pickle_forbidden_globally():
    allow_pickle(False)
    yield
    allow_pickle(False)


@pytest.fixture
def pickled(store):
    uri = store.version_uri("model", uuid.uuid4())
    return save_artifact(
        Model([0.5, 1.5]), uri=uri, store=store, materializer_cls=PickleMaterializer
    )


def load(store, saved, **kwargs):
    return load_artifact(
        uri=saved.uri,
        store=store,
        materializer_source=saved.materializer,
        data_type_source=saved.data_type,
        **kwargs,
    )


def test_loading_a_pickle_is_refused_without_opting_in(store, pickled):
    with pytest.raises(UnsafeLoadError) as caught:
        load(store, pickled)

    message = str(caught.value)
    assert pickled.uri in message
    assert "allow_pickle=True" in message and "pickle_permission" in message


def test_loading_a_pickle_works_when_the_call_opts_in(store, pickled):
    model = load(store, pickled, allow_pickle=True)

    assert type(model) is Model and model.weights == [0.5, 1.5]


def test_loading_a_pickle_works_inside_a_permission_block_only(store, pickled):
    with pickle_permission(True):
        model = load(store, pickled)

    assert model.weights == [0.5, 1.5]
    assert not pickle_allowed()
    with pytest.raises(UnsafeLoadError):
        load(store, pickled)


def test_the_global_switch_allows_loading_and_a_block_can_forbid_it_again(store, pickled):
    allow_pickle(True)

    assert load(store, pickled).weights == [0.5, 1.5]
    with pickle_permission(False), pytest.raises(UnsafeLoadError):
        load(store, pickled)


def test_the_global_switch_reaches_other_threads_but_a_block_does_not(store, pickled):
    seen: dict[str, bool] = {}

    def check(key):
        seen[key] = pickle_allowed()

    with pickle_permission(True):
        thread = threading.Thread(target=check, args=("block",))
        thread.start()
        thread.join(timeout=10)
    allow_pickle(True)
    thread = threading.Thread(target=check, args=("global",))
    thread.start()
    thread.join(timeout=10)

    assert seen == {"block": False, "global": True}


def test_a_pickle_records_the_python_version_that_wrote_it(store, pickled):
    info = json.loads(store.read_text(f"{pickled.uri}/pickle.json"))

    assert info["python_version"] == pickled.metadata["python_version"]
    assert info["python_version"].count(".") == 2


def test_loading_under_another_python_minor_version_warns(store, pickled):
    info_path = f"{pickled.uri}/pickle.json"
    info = json.loads(store.read_text(info_path))
    store.write_text(info_path, json.dumps({**info, "python_version": "3.2.0"}))

    with pytest.warns(RuntimeWarning, match=r"Python 3\.2\.0"):
        model = load(store, pickled, allow_pickle=True)

    assert model.weights == [0.5, 1.5]


def test_a_pickle_of_a_type_that_cannot_be_imported_still_loads(store):
    class LocalModel:
        def __init__(self) -> None:
            self.name = "local"

    uri = store.version_uri("local", uuid.uuid4())
    saved = save_artifact(LocalModel(), uri=uri, store=store, materializer_cls=PickleMaterializer)

    model = load(store, saved, allow_pickle=True)

    assert model.name == "local"
