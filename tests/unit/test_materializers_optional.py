"""Materializers for numpy, pandas, pydantic and pathlib (imported lazily)."""

from __future__ import annotations

import json
import shutil
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from parts import require_module
from pydantic import BaseModel

from lineagelog.adapters.materializers import (
    load_artifact,
    materializer_for,
    save_artifact,
)
from lineagelog.adapters.materializers.png import encode_png
from lineagelog.domain.errors import MaterializerError


@pytest.fixture
def store(memory_store):
    return memory_store


def round_trip(store, value):
    uri = store.version_uri("output", uuid.uuid4())
    saved = save_artifact(
        value, uri=uri, store=store, materializer_cls=materializer_for(type(value))
    )
    loaded = load_artifact(
        uri=uri,
        store=store,
        materializer_source=saved.materializer,
        data_type_source=saved.data_type,
        expected_content_hash=saved.content_hash,
    )
    return saved, loaded


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, _, color_type = struct.unpack(">IIBB", header[:10])
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color_type]
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    pixels = b"".join(raw[row * stride + 1 : (row + 1) * stride] for row in range(height))
    return width, height, channels, pixels


def test_png_writer_output_decodes_to_the_same_pixels():
    pixels = bytes(range(2 * 3 * 3))

    width, height, channels, decoded = decode_png(encode_png(pixels, 3, 2, 3))

    assert (width, height, channels, decoded) == (3, 2, 3, pixels)


# -- numpy ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda np: np.arange(12, dtype=np.float32).reshape(3, 4),
        lambda np: np.array([1, 2, 3], dtype=np.int64),
        lambda np: np.array([[True, False]]),
        lambda np: np.array(["a", "héllo"]),
        lambda np: np.array([np.nan, np.inf, -0.0]),
        lambda np: np.zeros((2, 3, 4), dtype=np.uint8),
        lambda np: np.array(3.5),
    ],
    ids=["float32-2d", "int64-1d", "bool", "unicode", "nan-inf", "uint8-3d", "0d"],
)
def test_numpy_arrays_load_back_with_the_same_dtype_shape_and_values(store, make):
    np = require_module("numpy", "numpy")
    array = make(np)

    saved, loaded = round_trip(store, array)

    assert type(loaded) is np.ndarray
    assert loaded.dtype == array.dtype and loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)
    assert saved.metadata["shape"] == list(array.shape)
    assert saved.metadata["dtype"] == str(array.dtype)
    assert saved.metadata["storage_size"] == saved.size


def test_a_2d_array_gets_an_image_visualization_of_its_shape(store):
    np = require_module("numpy", "numpy")
    array = np.array([[0, 255], [128, 64], [1, 2]], dtype=np.uint8)

    saved, _ = round_trip(store, array)

    [visualization] = saved.visualizations
    width, height, channels, pixels = decode_png(store.read_bytes(visualization["uri"]))
    assert visualization["type"] == "image"
    assert (width, height, channels) == (2, 3, 1)
    assert pixels == array.tobytes()


def test_a_1d_array_gets_a_histogram_visualization(store):
    np = require_module("numpy", "numpy")

    saved, _ = round_trip(store, np.random.default_rng(0).normal(size=500))

    [visualization] = saved.visualizations
    assert visualization["uri"].endswith("visualizations/histogram.png")
    width, height, _, _ = decode_png(store.read_bytes(visualization["uri"]))
    assert (width, height) == (400, 200)


def test_an_object_array_is_refused_rather_than_pickled(store):
    np = require_module("numpy", "numpy")
    array = np.array([object()], dtype=object)
    uri = store.version_uri("objects", uuid.uuid4())

    with pytest.raises(MaterializerError, match="without pickle"):
        save_artifact(array, uri=uri, store=store, materializer_cls=materializer_for(np.ndarray))


# -- pandas --------------------------------------------------------------------------


def test_a_dataframe_loads_back_with_its_index_and_dtypes(store):
    pd = require_module("pandas", "pandas")
    require_module("pyarrow", "pandas")
    frame = pd.DataFrame(
        {
            "int": [1, 2, 3],
            "float": [0.5, float("nan"), 2.5],
            "text": ["a", "b", "c"],
            "category": pd.Categorical(["x", "y", "x"]),
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]).tz_localize("UTC"),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "flag": [True, False, True],
        },
        index=pd.Index(["r1", "r2", "r3"], name="row"),
    )

    saved, loaded = round_trip(store, frame)

    pd.testing.assert_frame_equal(loaded, frame)
    assert saved.metadata["rows"] == 3
    assert saved.metadata["columns"] == list(frame.columns)
    assert saved.metadata["dtypes"]["nullable"] == "Int64"
    kinds = sorted(v["type"] for v in saved.visualizations)
    assert kinds == ["csv", "html"]


def test_a_series_loads_back_with_its_name_and_index(store):
    pd = require_module("pandas", "pandas")
    require_module("pyarrow", "pandas")
    series = pd.Series([1.5, 2.5], index=pd.RangeIndex(10, 12), name="loss")

    _, loaded = round_trip(store, series)

    pd.testing.assert_series_equal(loaded, series)


def test_a_dataframe_holding_python_objects_gives_a_clear_error(store):
    pd = require_module("pandas", "pandas")
    require_module("pyarrow", "pandas")
    frame = pd.DataFrame({"opaque": [object()]})
    uri = store.version_uri("frame", uuid.uuid4())

    with pytest.raises(MaterializerError, match="Arrow-compatible dtypes"):
        save_artifact(frame, uri=uri, store=store, materializer_cls=materializer_for(pd.DataFrame))


# -- pydantic ------------------------------------------------------------------------


class Layer(BaseModel):
    units: int
    activation: str = "relu"


class TrainingConfig(BaseModel):
    lr: float
    layers: list[Layer]
    tags: tuple[str, ...] = ()


def test_a_pydantic_model_loads_back_as_the_same_class(store):
    config = TrainingConfig(
        lr=0.01, layers=[Layer(units=64), Layer(units=1, activation="id")], tags=("a",)
    )

    saved, loaded = round_trip(store, config)

    assert type(loaded) is TrainingConfig
    assert loaded == config
    assert saved.metadata["schema_name"] == "TrainingConfig"
    assert json.loads(store.read_text(f"{saved.uri}/data.json"))["lr"] == 0.01


# -- pathlib -------------------------------------------------------------------------


def test_a_file_path_is_copied_into_the_store_and_downloaded_on_load(store, tmp_path):
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01weights")

    _, loaded = round_trip(store, source)

    try:
        assert isinstance(loaded, Path) and loaded.name == "weights.bin"
        assert loaded.read_bytes() == b"\x00\x01weights"
        assert loaded != source
    finally:
        shutil.rmtree(loaded.parent)


def test_a_folder_path_keeps_its_tree_including_empty_folders(store, tmp_path):
    source = tmp_path / "dataset"
    (source / "train").mkdir(parents=True)
    (source / "empty").mkdir()
    (source / "train" / "a.csv").write_text("x\n1\n")
    (source / "README").write_text("data")

    _, loaded = round_trip(store, source)

    try:
        files = sorted(p.relative_to(loaded).as_posix() for p in loaded.rglob("*"))
        assert files == ["README", "empty", "train", "train/a.csv"]
        assert (loaded / "train" / "a.csv").read_text() == "x\n1\n"
    finally:
        shutil.rmtree(loaded.parent)


def test_on_a_local_store_a_path_loads_as_a_temporary_copy_outside_the_store(local_store, tmp_path):
    source = tmp_path / "report.txt"
    source.write_text("ok")

    saved, loaded = round_trip(local_store, source)

    try:
        assert loaded.read_text() == "ok"
        assert not str(loaded).startswith(saved.uri.removeprefix("file://"))
    finally:
        shutil.rmtree(loaded.parent)


def test_a_missing_path_gives_a_clear_error(store, tmp_path):
    uri = store.version_uri("missing", uuid.uuid4())

    with pytest.raises(MaterializerError, match="neither a file nor a folder"):
        save_artifact(
            tmp_path / "nope", uri=uri, store=store, materializer_cls=materializer_for(Path)
        )
