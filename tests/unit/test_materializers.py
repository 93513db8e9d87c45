"""Built-in materializers, the registry, and save_artifact / load_artifact."""

from __future__ import annotations

import enum
import importlib
import json
import math
import subprocess
import sys
import typing
import uuid
from collections import namedtuple
from pathlib import Path

import pytest

from lineagelog.adapters.fsspec_store import FsspecArtifactStore
from lineagelog.adapters.materializers import (
    ArtifactType,
    BaseMaterializer,
    VisualizationType,
    load_artifact,
    materializer_for,
    materializer_source,
    resolve_data_type,
    resolve_materializer,
    save_artifact,
    type_source,
)
from lineagelog.adapters.materializers import registry as registry_module
from lineagelog.adapters.materializers.builtins import (
    BuiltInContainerMaterializer,
    BuiltInMaterializer,
    BytesMaterializer,
)
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    MaterializerError,
    NoMaterializerError,
    StorageError,
)


@pytest.fixture
def isolated_registry():
    """Let a test register materializers; restore the registry afterwards."""
    saved = dict(registry_module._REGISTRY)
    yield
    registry_module._REGISTRY.clear()
    registry_module._REGISTRY.update(saved)


def new_uri(store, name="output"):
    return store.version_uri(name, uuid.uuid4())


def round_trip(store, value, materializer_cls=None):
    uri = new_uri(store)
    saved = save_artifact(
        value,
        uri=uri,
        store=store,
        materializer_cls=materializer_cls or materializer_for(type(value)),
    )
    loaded = load_artifact(
        uri=uri,
        store=store,
        materializer_source=saved.materializer,
        data_type_source=saved.data_type,
    )
    return saved, loaded


def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


class Color(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


Point = namedtuple("Point", ["x", "y"])


BUILTIN_VALUES = [
    0,
    -(2**70),
    10**5000,
    True,
    False,
    None,
    1.5,
    -0.0,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    'héllo ✓\n"quoted"',
    "\ud800 lone surrogate",
    b"",
    b"\x00\xff raw",
    bytearray(b"mutable"),
    [],
    [1, "two", 3.0, None, True, [4, [5]]],
    (),
    (1, (2, 3), [4]),
    {"a": 1, "b": {"c": [1, 2]}, "nan": float("nan")},
    {1: "int key", (2, 3): "tuple key", None: "none key"},
    {"__lineagelog__": "not a tag"},
    {1, 2, 3},
    {(1, 2), "a", 3.5},
    frozenset({"x", "y"}),
    set(),
    [b"bytes inside", {1.5, 2.5}, frozenset()],
    Color.RED,
    Level.HIGH,
    Point(1, 2),
]


@pytest.mark.parametrize("value", BUILTIN_VALUES, ids=lambda v: type(v).__name__)
def test_built_in_values_load_back_with_the_same_type_and_value(store, value):
    _, loaded = round_trip(store, value)

    assert same(loaded, value), (loaded, value)


@pytest.mark.parametrize(
    ("data_type", "expected"),
    [
        (int, BuiltInMaterializer),
        (bool, BuiltInMaterializer),
        (float, BuiltInMaterializer),
        (str, BuiltInMaterializer),
        (type(None), BuiltInMaterializer),
        (bytes, BytesMaterializer),
        (dict, BuiltInContainerMaterializer),
        (list, BuiltInContainerMaterializer),
        (tuple, BuiltInContainerMaterializer),
        (set, BuiltInContainerMaterializer),
        (frozenset, BuiltInContainerMaterializer),
        (list[int], BuiltInContainerMaterializer),
        (None, BuiltInMaterializer),
    ],
)
def test_materializer_for_picks_the_built_in_for_each_type(data_type, expected):
    assert materializer_for(data_type) is expected


def test_plain_values_are_stored_as_readable_json_not_pickle(memory_store):
    saved, _ = round_trip(memory_store, {"lr": 0.1, "layers": [64, 32]})

    stored = memory_store.read_text(f"{saved.uri}/data.json")

    assert json.loads(stored) == {"lr": 0.1, "layers": [64, 32]}
    assert not memory_store.glob(f"{saved.uri}/*.pkl")


def test_bytes_are_stored_raw(memory_store):
    saved, _ = round_trip(memory_store, b"\x89PNG raw")

    assert memory_store.read_bytes(f"{saved.uri}/data.bin") == b"\x89PNG raw"


def test_a_dict_holding_an_object_names_the_offending_type_and_what_to_do(memory_store):
    class Opaque:
        pass

    value = {"config": {"layers": [1, Opaque()]}}
    uri = new_uri(memory_store)

    with pytest.raises(NoMaterializerError) as caught:
        save_artifact(value, uri=uri, store=memory_store, materializer_cls=dict_materializer())

    message = str(caught.value)
    assert "Opaque" in message
    assert "['config']['layers'][1]" in message
    assert "BaseMaterializer" in message and "pickle" in message
    assert not memory_store.exists(uri)


def dict_materializer():
    return materializer_for(dict)


def test_strings_get_a_markdown_visualization(memory_store):
    saved, _ = round_trip(memory_store, "# Report\nall good")

    [visualization] = saved.visualizations

    assert visualization == {"uri": f"{saved.uri}/visualizations/preview.md", "type": "markdown"}
    assert memory_store.read_text(visualization["uri"]) == "# Report\nall good"


def test_dicts_and_lists_get_a_json_visualization(memory_store):
    saved, _ = round_trip(memory_store, {"scores": (0.5, 0.7)})

    [visualization] = saved.visualizations

    assert visualization["type"] == VisualizationType.JSON.value
    assert json.loads(memory_store.read_text(visualization["uri"])) == {"scores": [0.5, 0.7]}


def test_saved_artifact_records_hash_size_sources_and_storage_size(memory_store):
    saved, _ = round_trip(memory_store, [1, 2, 3])

    assert (saved.content_hash, saved.size) == memory_store.content_hash(saved.uri)
    assert saved.metadata["storage_size"] == saved.size
    assert saved.metadata["length"] == 3
    assert saved.data_type == "builtins:list"
    assert saved.materializer == materializer_source(BuiltInContainerMaterializer)
    assert saved.artifact_type == ArtifactType.DATA.value


def test_equal_values_give_equal_content_hashes_and_different_values_do_not(memory_store):
    first, _ = round_trip(memory_store, {"a": [1, 2], "b": {3, 4, 5}})
    second, _ = round_trip(memory_store, {"a": [1, 2], "b": {5, 4, 3}})
    third, _ = round_trip(memory_store, {"a": [1, 2], "b": {3, 4, 6}})

    assert first.content_hash == second.content_hash
    assert first.content_hash != third.content_hash


def test_the_content_hash_does_not_depend_on_the_store(tmp_path, memory_store):
    local = FsspecArtifactStore(str(tmp_path / "store"))

    in_memory, _ = round_trip(memory_store, ("same", 1))
    on_disk, _ = round_trip(local, ("same", 1))

    assert in_memory.content_hash == on_disk.content_hash


# -- the registry -------------------------------------------------------------------


class Unregistered:
    pass


def test_no_materializer_error_names_the_type_the_context_and_the_ways_out():
    with pytest.raises(NoMaterializerError) as caught:
        materializer_for(Unregistered, context="output 'model' of step 'train'")

    message = str(caught.value)
    assert "test_materializers:Unregistered" in message
    assert "output 'model' of step 'train'" in message
    assert "ASSOCIATED_TYPES = (Unregistered,)" in message
    assert "output_materializers=" in message
    assert "pickle" in message


def test_object_never_gets_pickle_automatically():
    with pytest.raises(NoMaterializerError):
        materializer_for(object)


def test_pickle_is_never_chosen_by_the_registry_but_named_as_the_opt_in():
    with pytest.raises(NoMaterializerError) as refused:
        materializer_for(Unregistered)

    assert "opt in to the project-wide pickle fallback" in str(refused.value)
    assert "output_materializers=PickleMaterializer" in str(refused.value)


def test_a_union_annotation_is_refused_with_a_clear_error():
    with pytest.raises(NoMaterializerError, match="not a class"):
        materializer_for(int | str)
    with pytest.raises(NoMaterializerError, match="not a class"):
        materializer_for(typing.Optional[int])  # noqa: UP045


def test_an_annotated_type_uses_the_materializer_of_the_annotated_class():
    assert materializer_for(typing.Annotated[list[int], "features"]) is BuiltInContainerMaterializer


class Shape:
    def __init__(self, sides: int) -> None:
        self.sides = sides


class Square(Shape):
    pass


class ShapeMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = (Shape,)
    ASSOCIATED_ARTIFACT_TYPE = ArtifactType.DATA
    SKIP_REGISTRATION = True  # registered by the tests that use it

    def save(self, data):
        self.artifact_store.write_text(self.path("sides.txt"), str(data.sides))

    def load(self, data_type):
        return data_type(int(self.artifact_store.read_text(self.path("sides.txt"))))


def test_a_subclass_of_a_registered_type_uses_its_materializer_through_the_mro(
    isolated_registry, memory_store
):
    registry_module.register_materializer(ShapeMaterializer)

    chosen = materializer_for(Square)
    _, loaded = round_trip(memory_store, Square(4))

    assert chosen is ShapeMaterializer
    assert type(loaded) is Square and loaded.sides == 4


def test_defining_a_subclass_registers_it_and_the_most_specific_type_wins(isolated_registry):
    registry_module.register_materializer(ShapeMaterializer)

    class SquareMaterializer(ShapeMaterializer):
        ASSOCIATED_TYPES = (Square,)

    assert materializer_for(Square) is SquareMaterializer
    assert materializer_for(Shape) is ShapeMaterializer


def test_a_later_registration_for_the_same_type_replaces_the_earlier(isolated_registry):
    class First(ShapeMaterializer):
        SKIP_REGISTRATION = False

    class Second(ShapeMaterializer):
        SKIP_REGISTRATION = False

    assert materializer_for(Shape) is Second
    assert First.ASSOCIATED_TYPES == Second.ASSOCIATED_TYPES


def test_a_user_materializer_can_replace_a_built_in(isolated_registry, memory_store):
    class UpperStr(BaseMaterializer):
        ASSOCIATED_TYPES = (str,)

        def save(self, data):
            self.artifact_store.write_text(self.path("upper.txt"), data.upper())

        def load(self, data_type):
            return self.artifact_store.read_text(self.path("upper.txt"))

    uri = new_uri(memory_store)
    save_artifact("shout", uri=uri, store=memory_store, materializer_cls=materializer_for(str))

    assert materializer_for(str) is UpperStr
    assert memory_store.read_text(f"{uri}/upper.txt") == "SHOUT"


def test_a_built_in_never_replaces_a_user_materializer_registered_first(isolated_registry):
    class MyPathMaterializer(BaseMaterializer):
        ASSOCIATED_TYPES = (Path,)

    from lineagelog.adapters.materializers import path  # noqa: F401  (registers the built-in)

    assert materializer_for(type(Path("/tmp"))) is MyPathMaterializer


def test_bad_associated_types_are_refused_when_the_class_is_defined():
    with pytest.raises(MaterializerError, match="ASSOCIATED_TYPES"):

        class Broken(BaseMaterializer):
            ASSOCIATED_TYPES = (int, "str")
            SKIP_REGISTRATION = True


def test_sources_round_trip_through_their_import_paths():
    assert type_source(int) == "builtins:int"
    assert resolve_materializer(materializer_source(BytesMaterializer)) is BytesMaterializer
    assert resolve_data_type("builtins:bytes", BytesMaterializer) is bytes
    assert resolve_data_type(type_source(type(None)), BuiltInMaterializer) is type(None)


def test_import_trusted_explains_what_could_not_be_imported():
    with pytest.raises(MaterializerError, match="no_such_module_xyz"):
        registry_module.import_trusted("no_such_module_xyz:Thing")
    with pytest.raises(MaterializerError, match="NoSuchName"):
        registry_module.import_trusted("builtins:NoSuchName")
    with pytest.raises(MaterializerError, match="inside a function"):
        registry_module.import_trusted("mymodule:make.<locals>.Local")
    assert registry_module.import_trusted(
        "lineagelog.adapters.materializers.builtins.BytesMaterializer"
    ) is (BytesMaterializer)


def test_importing_the_package_imports_no_heavy_optional_library():
    code = (
        "import sys, lineagelog.adapters.materializers as m; "
        "print(sorted(n for n in ('numpy', 'pandas', 'pyarrow', 'pydantic', 'fsspec', "
        "'cloudpickle') if n in sys.modules))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "[]"


# -- save_artifact / load_artifact ------------------------------------------------------


def test_save_artifact_refuses_a_value_its_materializer_does_not_handle(memory_store):
    with pytest.raises(MaterializerError, match="not a list"):
        save_artifact(
            [1], uri=new_uri(memory_store), store=memory_store, materializer_cls=BytesMaterializer
        )


def test_save_artifact_refuses_a_folder_that_already_holds_files(memory_store):
    saved, _ = round_trip(memory_store, 1)

    with pytest.raises(StorageError, match="already holds files"):
        save_artifact(2, uri=saved.uri, store=memory_store, materializer_cls=BuiltInMaterializer)

    assert memory_store.read_text(f"{saved.uri}/data.json") == "1"


def test_a_failing_materializer_raises_materializer_error_and_leaves_no_files(
    isolated_registry, memory_store
):
    class Exploding(BaseMaterializer):
        SKIP_REGISTRATION = True

        def save(self, data):
            self.artifact_store.write_bytes(self.path("partial.bin"), b"half")
            raise RuntimeError("disk on fire")

    uri = new_uri(memory_store)

    with pytest.raises(MaterializerError, match="disk on fire") as caught:
        save_artifact(1, uri=uri, store=memory_store, materializer_cls=Exploding)

    assert isinstance(caught.value.__cause__, RuntimeError)
    assert not memory_store.exists(uri)


def test_metadata_that_is_not_json_is_refused(memory_store):
    class BadMetadata(BuiltInMaterializer):
        SKIP_REGISTRATION = True

        def extract_metadata(self, data):
            return {"when": object()}

    with pytest.raises(MaterializerError, match="not JSON"):
        save_artifact(
            1, uri=new_uri(memory_store), store=memory_store, materializer_cls=BadMetadata
        )


def test_loading_a_deleted_artifact_raises_artifact_not_found(memory_store):
    saved, _ = round_trip(memory_store, 1)
    memory_store.rmtree(saved.uri)

    with pytest.raises(ArtifactNotFoundError, match=saved.uri):
        load_artifact(
            uri=saved.uri,
            store=memory_store,
            materializer_source=saved.materializer,
            data_type_source=saved.data_type,
        )


def test_loading_with_an_expected_hash_detects_tampering(memory_store):
    saved, _ = round_trip(memory_store, [1, 2, 3])
    memory_store.write_text(f"{saved.uri}/data.json", "[1, 2, 4]")

    with pytest.raises(IntegrityError, match=saved.content_hash):
        load_artifact(
            uri=saved.uri,
            store=memory_store,
            materializer_source=saved.materializer,
            data_type_source=saved.data_type,
            expected_content_hash=saved.content_hash,
        )


@pytest.mark.parametrize(
    "module",
    [
        "lineagelog.adapters.artifact_store",
        "lineagelog.adapters.materializers",
        "lineagelog.adapters.materializers.base",
        "lineagelog.adapters.materializers.builtins",
        "lineagelog.adapters.materializers.io",
        "lineagelog.adapters.materializers.jsonvalues",
        "lineagelog.adapters.materializers.pickle",
        "lineagelog.adapters.materializers.registry",
    ],
)
def test_public_modules_export_an_all_of_existing_unique_names(module):
    imported = importlib.import_module(module)

    # The order is ruff's (RUF022: constants, classes, functions), checked by ruff.
    assert len(set(imported.__all__)) == len(imported.__all__)
    assert [name for name in imported.__all__ if not hasattr(imported, name)] == []
