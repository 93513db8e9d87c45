"""Through the public API, on real stores: what the log, a view or the store says runs no code.

An edited view cell and a forged event name the data type; a step deletes the
path it was given; a Path artifact's bytes and its ``path.json`` are changed in
a local folder and in S3 (the moto server).
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import Annotated

import pytest
from forgery import save_forged_output
from sqlalchemy import update

from lineagelog.adapters.fsspec_store import FsspecArtifactStore
from lineagelog.adapters.materializers import load_artifact, materializer_for, save_artifact
from lineagelog.api import Client, pipeline, step
from lineagelog.api.context import open_context
from lineagelog.domain.errors import IntegrityError, MaterializerError, UntrustedTypeError
from lineagelog.projections import schema as t


@step
def make_command(command: str = "") -> Annotated[str, "command"]:
    return command


@pipeline
def commanding(command: str = "") -> None:
    make_command(command=command)


@step
def make_dataset(root: str = "") -> Annotated[Path, "dataset"]:
    folder = Path(root) / "dataset"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "a.csv").write_text("x\n1\n")
    return folder


@step
def use_and_delete(dataset: Path) -> Annotated[int, "rows"]:
    rows = len((dataset / "train" / "a.csv").read_text().splitlines())
    shutil.rmtree(dataset)  # a step cleaning up what it takes for its temporary input
    return rows


@pipeline
def consuming(root: str = "") -> None:
    use_and_delete(make_dataset(root=root))


def test_an_edited_view_cell_naming_os_system_runs_no_command_on_load(sqlite_stores, tmp_path):
    marker = tmp_path / "ran.marker"
    commanding(command=f"touch {marker}")
    client = Client()
    with client.context.engine.begin() as conn:
        conn.execute(
            update(t.artifact_versions)
            .where(t.artifact_versions.c.name == "command")
            .values(data_type="os:system")
        )

    # The type comes from the recording event, not the edited view cell.
    loaded = client.get_artifact_version("command").load()

    assert loaded == f"touch {marker}"
    assert not marker.exists()


def test_a_forged_event_naming_an_unimported_materializer_imports_nothing(
    sqlite_stores, tmp_path, monkeypatch
):
    db, artifacts = sqlite_stores
    module = f"lineagelog_probe_{uuid.uuid4().hex}"
    marker = tmp_path / "imported.marker"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / f"{module}.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    context = open_context(db, artifacts)
    uri = context.artifacts.version_uri("forged", uuid.uuid4())
    saver = materializer_for(list)
    saved = save_artifact([1], uri=uri, store=context.artifacts, materializer_cls=saver)
    save_forged_output(
        context.events,
        name="forged",
        uri=uri,
        materializer=f"{module}:Anything",
        data_type="subprocess:Popen",
        content_hash=saved.content_hash,
        size=saved.size,
    )

    with pytest.raises(UntrustedTypeError, match=f"'{module}:Anything'"):
        Client(db, artifacts).get_artifact_version("forged").load(verify=True)

    assert module not in sys.modules
    assert not marker.exists()


def test_a_step_deleting_its_path_input_leaves_the_stored_version_intact(sqlite_stores, tmp_path):
    (tmp_path / "work").mkdir()

    consuming(root=str(tmp_path / "work"))

    client = Client()
    assert client.get_artifact_version("rows").load() == 2
    loaded = client.get_artifact_version("dataset").load(verify=True)
    try:
        assert (loaded / "train" / "a.csv").read_text() == "x\n1\n"
    finally:
        shutil.rmtree(loaded.parent)


def test_a_path_artifact_with_changed_bytes_is_refused_before_anything_is_materialized(
    sqlite_stores, tmp_path, temp_folder
):
    (tmp_path / "work").mkdir()
    consuming(root=str(tmp_path / "work"))
    shutil.rmtree(temp_folder)
    temp_folder.mkdir()
    version = Client().get_artifact_version("dataset")
    stored = Path(version.uri.removeprefix("file://")) / "data" / "dataset" / "train" / "a.csv"
    stored.write_text("x\n666\n")

    with pytest.raises(IntegrityError, match="lineagelog audit"):
        version.load()  # the caller did not ask to verify

    assert list(temp_folder.iterdir()) == []


def test_a_path_json_on_s3_naming_a_file_outside_the_temporary_folder_writes_nothing(
    s3_store, tmp_path, temp_folder
):
    store = FsspecArtifactStore(s3_store)
    source = tmp_path / "report.txt"
    source.write_text("ok")
    uri = store.version_uri("report", uuid.uuid4())
    saved = save_artifact(source, uri=uri, store=store, materializer_cls=materializer_for(Path))
    # A bucket writer edits path.json and plants the file, then re-hashes the log's record too.
    store.write_text(f"{uri}/path.json", json.dumps({"kind": "file", "name": "../escaped"}))
    store.write_text(f"{uri}/escaped", "planted")  # where data/../escaped points
    rehashed, _ = store.content_hash(uri)

    with pytest.raises(MaterializerError, match=r"'\.\./escaped'"):
        load_artifact(
            uri=uri,
            store=store,
            materializer_source=saved.materializer,
            data_type_source=saved.data_type,
            expected_content_hash=rehashed,
        )

    assert list(temp_folder.iterdir()) == []
    assert not (temp_folder / "escaped").exists()
