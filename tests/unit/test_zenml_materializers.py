"""ZenML's materializer contract, fileio, and the built-ins ZenML users expect.

Each test writes its materializer the way ZenML's documentation does
("Handle custom data types", "Visualize artifacts"), with only the imports
changed to ``lineagelog.api``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from pathlib import Path
from typing import Any, ClassVar

import pytest
from parts import require_module

from lineagelog.adapters.fsspec_store import FsspecArtifactStore
from lineagelog.adapters.materializers import load_artifact, materializer_for, save_artifact
from lineagelog.api import (
    ArtifactType,
    BaseMaterializer,
    BuiltInContainerMaterializer,
    CSVString,
    DataclassMaterializer,
    HTMLString,
    JSONString,
    MarkdownString,
    MaterializerError,
    NoMaterializerError,
    UntrustedTypeError,
    UUIDMaterializer,
    VisualizationType,
    fileio,
    materializer_registry,
)

# -- the classes of ZenML's documentation, at module level so loading finds them --


class MyObj:
    def __init__(self, name: str) -> None:
        self.name = name


class MyMaterializer(BaseMaterializer):
    """ZenML's documented custom materializer, with an ``__init__(self, uri)`` override."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (MyObj,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.data_path = os.path.join(self.uri, "data.txt")

    def load(self, data_type: type[Any]) -> MyObj:
        with fileio.open(self.data_path, "r") as f:
            return MyObj(name=f.read())

    def save(self, my_obj: MyObj) -> None:
        with fileio.open(self.data_path, "w") as f:
            f.write(my_obj.name)


class FacetsComparison:
    def __init__(self, html: str) -> None:
        self.html = html


class FacetsMaterializer(BaseMaterializer):
    """A visualization-only materializer: no save(), no load()."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (FacetsComparison,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA_ANALYSIS

    def save_visualizations(self, data: FacetsComparison) -> dict[str, VisualizationType]:
        visualization_path = os.path.join(self.uri, "visualization.html")
        with fileio.open(visualization_path, "w") as f:
            f.write(data.html)
        return {visualization_path: VisualizationType.HTML}


class Note:
    def __init__(self, text: str) -> None:
        self.text = text


class NoteMaterializer(BaseMaterializer):
    """The newer ZenML signature: ``__init__(self, uri, artifact_store=None)``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Note,)

    def __init__(self, uri: str, artifact_store: Any = None) -> None:
        super().__init__(uri, artifact_store)
        self.note_path = os.path.join(self.uri, "note.txt")

    def save(self, data: Note) -> None:
        with self.artifact_store.open(self.note_path, "w") as f:
            f.write(data.text)

    def load(self, data_type: type[Any]) -> Note:
        with self.artifact_store.open(self.note_path, "r") as f:
            return Note(f.read())


@dataclasses.dataclass
class Point:
    x: int
    y: float


@dataclasses.dataclass
class Segment:
    start: Point
    end: Point
    label: str = "segment"
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Frozen:
    values: list[int]


def roundtrip(value: Any, store: Any, name: str = "value") -> tuple[Any, Any]:
    saved = save_artifact(
        value,
        uri=store.version_uri(name, uuid.uuid4()),
        store=store,
        materializer_cls=materializer_for(type(value)),
    )
    loaded = load_artifact(
        uri=saved.uri,
        store=store,
        materializer_source=saved.materializer,
        data_type_source=saved.data_type,
        expected_content_hash=saved.content_hash,
    )
    return saved, loaded


# -- Bug 4: the BaseMaterializer contract ---------------------------------------


def test_a_materializer_overriding_init_with_only_the_uri_saves_and_loads(store: Any) -> None:
    saved, loaded = roundtrip(MyObj("hello"), store)

    assert saved.materializer.endswith(":MyMaterializer")
    assert isinstance(loaded, MyObj)
    assert loaded.name == "hello"


def test_a_materializer_with_zenmls_optional_artifact_store_argument_gets_the_store(
    store: Any,
) -> None:
    saved, loaded = roundtrip(Note("remember"), store)

    assert loaded.text == "remember"
    assert store.read_text(store.join(saved.uri, "note.txt")) == "remember"


def test_a_visualization_only_materializer_saves_its_visualization_and_no_data(
    store: Any,
) -> None:
    saved = save_artifact(
        FacetsComparison("<p>stats</p>"),
        uri=store.version_uri("facets", uuid.uuid4()),
        store=store,
        materializer_cls=materializer_for(FacetsComparison),
    )

    assert [v["type"] for v in saved.visualizations] == ["html"]
    assert saved.visualizations[0]["uri"].startswith(store.root)
    assert store.read_text(saved.visualizations[0]["uri"]) == "<p>stats</p>"
    assert [f.rsplit("/", 1)[-1] for f in store.walk_files(saved.uri)] == ["visualization.html"]


def test_loading_from_a_materializer_without_load_says_what_to_implement(store: Any) -> None:
    saved = save_artifact(
        FacetsComparison("<p/>"),
        uri=store.version_uri("facets", uuid.uuid4()),
        store=store,
        materializer_cls=FacetsMaterializer,
    )

    with pytest.raises(MaterializerError, match=r"FacetsMaterializer.*implement load\(self"):
        load_artifact(
            uri=saved.uri,
            store=store,
            materializer_source=saved.materializer,
            data_type_source=saved.data_type,
        )


def test_a_materializer_made_with_only_a_uri_reads_and_writes_there(tmp_path: Path) -> None:
    folder = tmp_path / "standalone"
    folder.mkdir()

    MyMaterializer(uri=str(folder)).save(MyObj("alone"))

    assert (folder / "data.txt").read_text() == "alone"
    assert MyMaterializer(uri=str(folder)).load(MyObj).name == "alone"
    assert MyMaterializer(str(folder)).artifact_store.read_text(str(folder / "data.txt")) == "alone"


def test_a_local_store_gives_the_materializer_a_plain_path_as_zenml_does(tmp_path: Path) -> None:
    store = FsspecArtifactStore(str(tmp_path / "store"))
    seen: list[str] = []

    class SeeUri(BaseMaterializer):
        ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (FacetsComparison,)
        SKIP_REGISTRATION: ClassVar[bool] = True

        def save(self, data: Any) -> None:
            seen.append(self.uri)
            with open(os.path.join(self.uri, "plain.txt"), "w") as f:  # the builtin open
                f.write(data.html)

    saved = save_artifact(
        FacetsComparison("x"),
        uri=store.version_uri("plain", uuid.uuid4()),
        store=store,
        materializer_cls=SeeUri,
    )

    assert seen == [str(tmp_path / "store" / "plain" / saved.uri.rsplit("/", 1)[-1])]
    assert store.read_text(store.join(saved.uri, "plain.txt")) == "x"


def test_a_uri_that_is_not_a_string_is_refused_naming_it() -> None:
    with pytest.raises(MaterializerError, match=r"uri=None"):
        MyMaterializer(None)  # type: ignore[arg-type]


def test_zenmls_type_checks_name_the_types_a_materializer_handles() -> None:
    materializer = MyMaterializer("/tmp/unused")

    assert MyMaterializer.can_handle_type(MyObj)
    assert not MyMaterializer.can_load_type(Note)
    with pytest.raises(TypeError, match=r"MyMaterializer cannot read or write.*'MyObj'"):
        materializer.validate_type_compatibility(Note)


def test_extract_full_metadata_adds_the_storage_size(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("12345")

    metadata = MyMaterializer(str(tmp_path)).extract_full_metadata(MyObj("12345"))

    assert metadata == {"storage_size": 5}


def test_the_temporary_directory_is_removed_at_exit() -> None:
    with MyMaterializer("/tmp/unused").get_temporary_directory(delete_at_exit=True) as folder:
        Path(folder, "model.bin").write_bytes(b"x")
        assert os.path.isdir(folder)

    assert not os.path.exists(folder)


# -- materializer_registry -----------------------------------------------------


def test_the_registry_answers_by_class_and_its_subclasses() -> None:
    class Special(MyObj):
        pass

    assert materializer_registry[MyObj] is MyMaterializer
    assert materializer_registry[Special] is MyMaterializer
    assert materializer_registry.is_registered(Special)
    assert materializer_registry.materializer_types[MyObj] is MyMaterializer
    assert materializer_registry[uuid.UUID] is UUIDMaterializer


def test_register_materializer_type_keeps_an_existing_registration() -> None:
    class Other(BaseMaterializer):
        ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (FacetsComparison,)
        SKIP_REGISTRATION: ClassVar[bool] = True

    materializer_registry.register_materializer_type(MyObj, Other)

    assert materializer_registry[MyObj] is MyMaterializer


def test_register_and_overwrite_type_replaces_the_registration() -> None:
    class Gadget:
        pass

    class First(BaseMaterializer):
        ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Gadget,)

    class Second(BaseMaterializer):
        ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Gadget,)
        SKIP_REGISTRATION: ClassVar[bool] = True

    materializer_registry.register_and_overwrite_type(Gadget, Second)

    assert materializer_registry[Gadget] is Second
    assert First is not Second


def test_the_registry_names_an_unknown_type_and_the_ways_out() -> None:
    class Unknown:
        pass

    assert not materializer_registry.is_registered(Unknown)
    with pytest.raises(NoMaterializerError, match=r"Unknown.*BaseMaterializer.*pickle"):
        materializer_registry[Unknown]


def test_a_string_key_is_refused_with_what_to_pass() -> None:
    with pytest.raises(NoMaterializerError, match=r"'MyObj'.*pass the class itself"):
        materializer_registry["MyObj"]  # type: ignore[index]


# -- dataclasses -----------------------------------------------------------------


def test_a_dataclass_is_saved_as_the_json_of_its_fields(store: Any) -> None:
    saved, loaded = roundtrip(Point(1, 2.5), store)

    assert loaded == Point(1, 2.5)
    assert saved.materializer.endswith(":DataclassMaterializer")
    stored = json.loads(store.read_text(store.join(saved.uri, "data.json")))
    assert stored == {"x": 1, "y": 2.5}
    assert saved.metadata["fields"] == ["x", "y"]


def test_nested_and_frozen_dataclasses_load_back_equal(store: Any) -> None:
    segment = Segment(Point(0, 0.0), Point(3, 4.0), tags=("a", "b"))

    _, loaded = roundtrip(segment, store)
    _, frozen = roundtrip(Frozen([1, 2]), store)

    assert loaded == segment
    assert isinstance(loaded.end, Point)
    assert loaded.tags == ("a", "b")
    assert frozen == Frozen([1, 2])


def test_a_dataclass_field_json_cannot_hold_is_named_when_saving(store: Any) -> None:
    with pytest.raises(
        NoMaterializerError, match=r"^Point\.x is of type .*MyObj.*ASSOCIATED_TYPES = \(Point,\)"
    ):
        roundtrip(Point(MyObj("no"), 1.0), store)  # type: ignore[arg-type]


def test_a_recorded_class_that_is_not_a_dataclass_is_not_rebuilt(store: Any) -> None:
    saved, _ = roundtrip(Point(1, 2.0), store)

    with pytest.raises(UntrustedTypeError, match=r"os:system"):
        load_artifact(
            uri=saved.uri,
            store=store,
            materializer_source=saved.materializer,
            data_type_source="os:system",
        )
    with pytest.raises(UntrustedTypeError, match=r"subprocess:Popen"):
        load_artifact(
            uri=saved.uri,
            store=store,
            materializer_source=saved.materializer,
            data_type_source="subprocess:Popen",
        )


def test_a_dataclass_whose_module_is_not_imported_is_not_imported(store: Any) -> None:
    saved, _ = roundtrip(Point(1, 2.0), store)

    with pytest.raises(UntrustedTypeError, match=r"never imports"):
        load_artifact(
            uri=saved.uri,
            store=store,
            materializer_source=saved.materializer,
            data_type_source="lineagelog_not_imported_module:Point",
        )


def test_the_dataclass_materializer_handles_dataclasses_only() -> None:
    assert DataclassMaterializer.can_handle_type(Point)
    assert not DataclassMaterializer.can_handle_type(MyObj)
    assert materializer_registry[Segment] is DataclassMaterializer


# -- UUID, structured strings ----------------------------------------------------


def test_a_uuid_loads_back_as_the_same_uuid(store: Any) -> None:
    value = uuid.uuid4()

    saved, loaded = roundtrip(value, store)

    assert loaded == value
    assert isinstance(loaded, uuid.UUID)
    assert saved.metadata["string_representation"] == str(value)


@pytest.mark.parametrize(
    ("value", "filename", "kind"),
    [
        (CSVString("a,b\n1,2\n"), "output.csv", "csv"),
        (HTMLString("<h1>Report</h1>"), "output.html", "html"),
        (MarkdownString("# Title"), "output.md", "markdown"),
        (JSONString('{"a": 1}'), "output.json", "json"),
    ],
)
def test_a_structured_string_saves_its_text_as_its_visualization(
    store: Any, value: str, filename: str, kind: str
) -> None:
    saved, loaded = roundtrip(value, store)

    assert loaded == value
    assert type(loaded) is type(value)
    assert [v["type"] for v in saved.visualizations] == [kind]
    assert saved.visualizations[0]["uri"].endswith("/" + filename)
    assert store.read_text(saved.visualizations[0]["uri"]) == value
    assert saved.artifact_type == "DataAnalysisArtifact"


# -- containers of types with a materializer --------------------------------------


def test_a_list_of_custom_objects_saves_each_element_with_its_materializer(store: Any) -> None:
    saved, loaded = roundtrip([MyObj("a"), MyObj("b")], store)

    assert [item.name for item in loaded] == ["a", "b"]
    assert store.read_text(store.join(saved.uri, "1", "data.txt")) == "b"
    assert saved.visualizations == []


def test_a_dict_and_a_tuple_of_mixed_elements_load_back_with_their_types(store: Any) -> None:
    value = {"point": Point(1, 2.0), "id": uuid.UUID(int=7), 3: [1, 2]}

    _, loaded = roundtrip(value, store)
    _, pair = roundtrip((Point(0, 1.0), "text"), store)

    assert loaded == value
    assert pair == (Point(0, 1.0), "text")


def test_a_container_of_json_values_is_still_one_json_file(store: Any) -> None:
    saved, loaded = roundtrip([1, "two", None], store)

    assert loaded == [1, "two", None]
    assert [f.rsplit("/", 1)[-1] for f in store.walk_files(saved.uri)] == [
        "data.json",
        "data.json",
    ]


def test_an_element_without_a_materializer_is_named(store: Any) -> None:
    class Opaque:
        pass

    with pytest.raises(NoMaterializerError, match=r"value\[1\]\['k'\]\[0\] is of type .*Opaque"):
        roundtrip([MyObj("a"), {"k": [Opaque()]}], store)


def test_a_path_inside_a_container_is_refused_with_what_to_do(store: Any, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")

    with pytest.raises(MaterializerError, match=r"element 1 .*output of its own"):
        roundtrip([MyObj("a"), tmp_path / "f.txt"], store)


def test_an_edited_element_list_naming_foreign_code_is_not_loaded(store: Any) -> None:
    saved, _ = roundtrip([MyObj("a")], store)
    elements = store.join(saved.uri, "elements.json")
    document = json.loads(store.read_text(elements))
    document["elements"][0]["materializer"] = "os:system"
    store.write_text(elements, json.dumps(document))

    with pytest.raises(UntrustedTypeError, match=r"'os:system'"):
        load_artifact(
            uri=saved.uri,
            store=store,
            materializer_source=saved.materializer,
            data_type_source=saved.data_type,
        )


def test_an_edited_element_folder_is_refused(store: Any) -> None:
    saved, _ = roundtrip([MyObj("a")], store)
    elements = store.join(saved.uri, "elements.json")
    document = json.loads(store.read_text(elements))
    document["elements"][0]["folder"] = "../../elsewhere"
    store.write_text(elements, json.dumps(document))

    with pytest.raises(MaterializerError, match=r"element 0 in another folder"):
        load_artifact(
            uri=saved.uri,
            store=store,
            materializer_source=saved.materializer,
            data_type_source=saved.data_type,
        )


def test_the_container_materializer_is_zenmls_name() -> None:
    assert materializer_registry[list] is BuiltInContainerMaterializer


# -- numpy statistics ---------------------------------------------------------------


def test_a_numeric_array_records_zenmls_statistics(store: Any) -> None:
    np = require_module("numpy", "numpy")

    saved, _ = roundtrip(np.array([[1.0, 2.0], [3.0, np.nan]]), store)

    metadata = saved.metadata
    assert metadata["shape"] == [2, 2]
    assert metadata["dtype"] == "float64"
    assert metadata["mean"] == pytest.approx(2.0)
    assert metadata["std"] == pytest.approx(0.816496580927726)
    assert (metadata["min"], metadata["max"]) == (1.0, 3.0)


def test_a_string_array_records_no_statistics(store: Any) -> None:
    np = require_module("numpy", "numpy")

    saved, _ = roundtrip(np.array(["a", "b"]), store)

    assert "mean" not in saved.metadata
    assert saved.metadata["shape"] == [2]


# -- fileio on a local folder -------------------------------------------------------


def test_fileio_writes_reads_and_lists_a_local_folder(tmp_path: Path) -> None:
    folder = str(tmp_path / "data")

    fileio.makedirs(os.path.join(folder, "sub"))
    with fileio.open(os.path.join(folder, "a.txt"), "w") as f:
        f.write("alpha")
    fileio.copy(os.path.join(folder, "a.txt"), os.path.join(folder, "sub", "b.txt"))

    assert fileio.exists(os.path.join(folder, "a.txt"))
    assert fileio.isdir(os.path.join(folder, "sub"))
    assert fileio.listdir(folder) == ["a.txt", "sub"]
    assert fileio.listdir(folder, only_file_names=False) == [
        os.path.join(folder, "a.txt"),
        os.path.join(folder, "sub"),
    ]
    assert fileio.glob(os.path.join(folder, "*.txt")) == [os.path.join(folder, "a.txt")]
    assert list(fileio.walk(folder)) == [
        (folder, ["sub"], ["a.txt"]),
        (
            os.path.join(folder, "sub"),
            [],
            ["b.txt"],
        ),
    ]
    assert fileio.stat(os.path.join(folder, "a.txt")).st_size == 5
    assert fileio.size(folder) == 10


def test_fileio_keeps_zenmls_errors(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.txt"), str(tmp_path / "b.txt")
    Path(a).write_text("a")
    Path(b).write_text("b")

    with pytest.raises(FileExistsError, match=r"b\.txt.*overwrite=True"):
        fileio.copy(a, b)
    with pytest.raises(FileNotFoundError):
        fileio.remove(str(tmp_path / "missing"))
    with pytest.raises(TypeError, match=r"not a directory"):
        fileio.rmtree(a)
    with pytest.raises(FileExistsError):
        fileio.mkdir(str(tmp_path))
    assert fileio.listdir(str(tmp_path / "missing")) == []


def test_fileio_renames_removes_and_overwrites(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.txt"), str(tmp_path / "b.txt")
    Path(a).write_text("a")
    Path(b).write_text("b")

    fileio.copy(a, b, overwrite=True)
    fileio.rename(b, str(tmp_path / "c.txt"))
    fileio.remove(a)
    fileio.mkdir(str(tmp_path / "d"))
    fileio.rmtree(str(tmp_path / "d"))

    assert sorted(os.listdir(tmp_path)) == ["c.txt"]
    assert (tmp_path / "c.txt").read_text() == "a"


def test_fileio_copies_between_the_disk_and_another_filesystem(tmp_path: Path) -> None:
    memory = f"memory://lineagelog-fileio-{uuid.uuid4().hex}"
    local = tmp_path / "model.bin"
    local.write_bytes(b"\x00weights")

    fileio.copy(str(local), f"{memory}/model.bin")
    fileio.copy(f"{memory}/model.bin", str(tmp_path / "back.bin"))

    assert (tmp_path / "back.bin").read_bytes() == b"\x00weights"
    assert fileio.listdir(memory) == ["model.bin"]
    assert fileio.glob(f"{memory}/*.bin") == [f"{memory}/model.bin"]
    with pytest.raises(NotImplementedError, match=r"copy the file with fileio.copy"):
        fileio.rename(str(local), f"{memory}/moved.bin")
    fileio.rmtree(memory)


# -- the artifact store's ZenML names ------------------------------------------------


def test_the_store_walks_and_makes_folders_and_refuses_to_overwrite_by_copy(store: Any) -> None:
    root = store.root
    store.mkdir(f"{root}/run/empty")
    store.write_text(f"{root}/run/a.txt", "a")
    store.write_text(f"{root}/run/sub/b.txt", "b")

    walked = list(store.walk(f"{root}/run"))
    store.copyfile(f"{root}/run/a.txt", f"{root}/run/sub/b.txt", overwrite=True)

    assert [(top.rsplit("/", 1)[-1], folders, files) for top, folders, files in walked] == [
        ("run", ["empty", "sub"], ["a.txt"]),
        ("empty", [], []),
        ("sub", [], ["b.txt"]),
    ]
    assert store.read_text(f"{root}/run/sub/b.txt") == "a"
    with pytest.raises(FileExistsError, match=r"b\.txt.*overwrite=True"):
        store.copyfile(f"{root}/run/a.txt", f"{root}/run/sub/b.txt")
