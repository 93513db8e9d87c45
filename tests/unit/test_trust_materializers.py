"""Loading never runs code chosen by data: names and files read back are untrusted.

The materializer and data type of an artifact come from the log or a view;
``path.json`` comes from the store. Each test plays an attacker who controls
one of them (and, where it matters, recomputes the content hash so that the
log agrees with the tampered bytes) and checks that nothing ran and nothing
was written.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from lineagelog.adapters.materializers import (
    BaseMaterializer,
    load_artifact,
    materializer_for,
    save_artifact,
)
from lineagelog.domain.errors import IntegrityError, MaterializerError, UntrustedTypeError

BUILTINS = "lineagelog.adapters.materializers.builtins"


class TrustedModel(BaseModel):
    """A model defined by the test module, so legitimately imported."""

    x: int


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """A module on sys.path, not imported, whose import leaves a marker file."""
    name = f"lineagelog_probe_{uuid.uuid4().hex}"
    marker = tmp_path / "imported.marker"
    (tmp_path / "probe_src").mkdir()
    (tmp_path / "probe_src" / f"{name}.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).touch()\n"
        "from lineagelog.adapters.materializers import BaseMaterializer\n"
        "class Thing(dict):\n"
        "    pass\n"
        "class ThingMaterializer(BaseMaterializer):\n"
        "    ASSOCIATED_TYPES = (Thing,)\n"
        "    SKIP_REGISTRATION = True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "probe_src"))
    yield name, marker
    sys.modules.pop(name, None)


def save(store, value, materializer_cls=None):
    uri = store.version_uri("output", uuid.uuid4())
    cls = materializer_cls or materializer_for(type(value))
    return save_artifact(value, uri=uri, store=store, materializer_cls=cls)


def load(store, saved, *, materializer=None, data_type=None, content_hash=None, **kwargs):
    return load_artifact(
        uri=saved.uri,
        store=store,
        materializer_source=materializer or saved.materializer,
        data_type_source=data_type or saved.data_type,
        expected_content_hash=content_hash or saved.content_hash,
        **kwargs,
    )


# -- recorded data types and materializers ------------------------------------------


@pytest.mark.parametrize(
    ("data_type", "command"),
    [
        ("os:system", "touch {marker}"),
        ("subprocess:Popen", ["touch", "{marker}"]),
        ("builtins:eval", "__import__('pathlib').Path({marker!r}).touch()"),
    ],
)
def test_a_recorded_data_type_naming_a_command_runs_nothing_on_load(
    local_store, tmp_path, data_type, command
):
    marker = tmp_path / "ran.marker"
    value = (
        [part.format(marker=str(marker)) for part in command]
        if isinstance(command, list)
        else command.format(marker=str(marker))
    )
    saved = save(local_store, value)

    with pytest.raises(UntrustedTypeError) as refused:
        load(local_store, saved, data_type=data_type)

    assert not marker.exists()
    assert repr(data_type) in str(refused.value)
    assert "register a materializer" in str(refused.value)


@pytest.mark.parametrize("materializer", ["os:system", "subprocess:Popen", "builtins:eval"])
def test_a_recorded_materializer_naming_a_function_or_class_of_the_stdlib_is_refused(
    memory_store, materializer
):
    saved = save(memory_store, "echo hello")

    with pytest.raises(UntrustedTypeError) as refused:
        load(memory_store, saved, materializer=materializer)

    assert repr(materializer) in str(refused.value)
    assert "import the module that defines it" in str(refused.value)


def test_a_recorded_data_type_in_a_module_not_yet_imported_is_not_imported(memory_store, probe):
    name, marker = probe
    saved = save(memory_store, {"a": 1})

    with pytest.raises(UntrustedTypeError, match="import the module that defines it") as refused:
        load(memory_store, saved, data_type=f"{name}:Thing")

    assert name not in sys.modules
    assert not marker.exists()
    assert f"'{name}:Thing'" in str(refused.value)


def test_a_data_type_loads_once_the_user_imported_its_module(memory_store, probe):
    name, _ = probe
    saved = save(memory_store, {"a": 1})
    __import__(name)

    loaded = load(memory_store, saved, data_type=f"{name}:Thing")

    assert type(loaded).__qualname__ == "Thing"
    assert type(loaded).__module__ == name
    assert loaded == {"a": 1}


def test_a_recorded_materializer_in_a_module_not_yet_imported_is_not_imported(memory_store, probe):
    name, marker = probe
    saved = save(memory_store, {"a": 1})

    with pytest.raises(UntrustedTypeError, match="import the module that defines it"):
        load(memory_store, saved, materializer=f"{name}:ThingMaterializer")

    assert name not in sys.modules
    assert not marker.exists()


def test_an_imported_class_outside_the_materializers_types_is_refused(memory_store):
    saved = save(memory_store, [1, 2])

    with pytest.raises(UntrustedTypeError, match="not a subclass of a type"):
        load(memory_store, saved, data_type="pathlib:Path")


def test_a_pydantic_model_named_in_model_json_is_never_imported(memory_store, probe):
    name, marker = probe
    saved = save(memory_store, TrustedModel(x=1))
    memory_store.write_text(f"{saved.uri}/model.json", json.dumps({"model": f"{name}:Thing"}))
    rehashed, _ = memory_store.content_hash(saved.uri)

    with pytest.raises(UntrustedTypeError, match="import the module that defines it"):
        load(memory_store, saved, content_hash=rehashed)

    assert name not in sys.modules
    assert not marker.exists()


# -- the Path materializer's files --------------------------------------------------


def _tamper_path_json(store, saved, info):
    store.write_text(f"{saved.uri}/path.json", json.dumps(info))
    for name in [info.get("name"), *info.get("folders", [])]:
        # The attacker also places bytes where the name points inside the store.
        if isinstance(name, str) and name != ".." and info["kind"] == "file":
            store.write_text(store.join(saved.uri, "data", name), "planted")
    rehashed, _ = store.content_hash(saved.uri)
    return rehashed


@pytest.mark.parametrize("escape", ["../escaped", "../../escaped", "ABSOLUTE", "a/b", ".."])
def test_a_path_json_file_name_leading_out_of_the_temporary_folder_writes_nothing(
    memory_store, tmp_path, temp_folder, escape
):
    source = tmp_path / "report.txt"
    source.write_text("ok")
    saved = save(memory_store, source)
    name = str(tmp_path / "absolute-target") if escape == "ABSOLUTE" else escape
    rehashed = _tamper_path_json(memory_store, saved, {"kind": "file", "name": name})

    with pytest.raises(MaterializerError, match=r"path\.json") as refused:
        load(memory_store, saved, content_hash=rehashed)

    assert repr(name) in str(refused.value)
    assert list(temp_folder.iterdir()) == []
    assert not (tmp_path / "absolute-target").exists()
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("folder", ["../../outside-folder", "/absolute-folder", "ok/../../x"])
def test_a_path_json_folder_leading_out_of_the_temporary_folder_writes_nothing(
    memory_store, tmp_path, temp_folder, folder
):
    source = tmp_path / "dataset"
    (source / "train").mkdir(parents=True)
    (source / "train" / "a.csv").write_text("x\n1\n")
    saved = save(memory_store, source)
    info = {"kind": "directory", "name": "dataset", "folders": ["train", folder]}
    rehashed = _tamper_path_json(memory_store, saved, info)

    with pytest.raises(MaterializerError, match=r"path\.json"):
        load(memory_store, saved, content_hash=rehashed)

    assert list(temp_folder.iterdir()) == []
    assert list(tmp_path.glob("**/outside-folder")) == []


def test_a_tampered_path_artifact_is_refused_before_anything_is_materialized(
    memory_store, tmp_path, temp_folder
):
    source = tmp_path / "report.txt"
    source.write_text("ok")
    saved = save(memory_store, source)
    memory_store.write_text(f"{saved.uri}/data/report.txt", "changed")

    with pytest.raises(IntegrityError, match=saved.content_hash):
        load(memory_store, saved, verify=False)

    assert list(temp_folder.iterdir()) == []


def test_a_path_artifact_is_not_loaded_without_its_recorded_hash(memory_store, tmp_path):
    source = tmp_path / "report.txt"
    source.write_text("ok")
    saved = save(memory_store, source)

    with pytest.raises(MaterializerError, match="expected_content_hash"):
        load_artifact(
            uri=saved.uri,
            store=memory_store,
            materializer_source=saved.materializer,
            data_type_source=saved.data_type,
        )


class Note:
    """A value whose materializer writes a local file when loading."""

    def __init__(self, text: str) -> None:
        self.text = text


class LocalNoteMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Note,)
    VERIFY_BEFORE_LOAD: ClassVar[bool] = True

    def save(self, data: Any) -> None:
        self.artifact_store.write_text(self.path("note.txt"), data.text)

    def load(self, data_type: type) -> Any:
        return data_type(self.artifact_store.read_text(self.path("note.txt")))


def test_a_user_materializer_that_opts_in_is_verified_even_when_the_caller_did_not_ask(
    memory_store,
):
    saved = save(memory_store, Note("hello"))
    memory_store.write_text(f"{saved.uri}/note.txt", "changed")

    with pytest.raises(IntegrityError):
        load(memory_store, saved, verify=False)


def test_a_materializer_that_did_not_opt_in_loads_unverified_when_asked(memory_store):
    saved = save(memory_store, "hello")
    memory_store.write_text(f"{saved.uri}/data.json", json.dumps("changed"))

    loaded = load(memory_store, saved, verify=False)

    assert loaded == "changed"


def test_a_loaded_path_is_a_copy_whose_deletion_leaves_the_stored_version_intact(
    local_store, tmp_path
):
    source = tmp_path / "dataset"
    (source / "train").mkdir(parents=True)
    (source / "train" / "a.csv").write_text("x\n1\n")
    saved = save(local_store, source)

    loaded = load(local_store, saved)
    (loaded / "train" / "a.csv").unlink()
    (loaded / "train").rmdir()

    again = load(local_store, saved)
    assert (again / "train" / "a.csv").read_text() == "x\n1\n"
    assert local_store.content_hash(saved.uri)[0] == saved.content_hash
