"""Registering data inside the artifact store (ZenML's pattern), or a folder holding it.

The first test is ZenML's "register existing data" example with only the
imports changed (the store's local folder stands for ``artifact_store.path``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from artifact_history import check_history

from lineagelog.api import ArtifactSourceError, Client, register_artifact, save_artifact


def _store_folder() -> str:
    store = Client().context.artifacts
    local = store.local_path(store.root)
    assert local is not None
    return local


def test_a_folder_written_under_the_store_is_registered_where_it_lies(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    prefix = _store_folder()
    test_file_name = "test_file.txt"
    preexisting_folder = os.path.join(prefix, "my_folder_artifact")
    preexisting_file = os.path.join(preexisting_folder, test_file_name)
    os.makedirs(preexisting_folder)
    with open(preexisting_file, "w") as f:
        f.write("test")

    register_artifact(folder_or_file_uri=preexisting_folder, name="my_folder_artifact")
    save_artifact([1, 2], name="my_folder_artifact")  # its version folder lies inside the data

    temp_artifact_folder_path = (
        Client().get_artifact_version("my_folder_artifact", version=1).load()
    )
    assert sorted(p.name for p in Path(temp_artifact_folder_path).iterdir()) == [test_file_name]
    assert (Path(temp_artifact_folder_path) / test_file_name).read_text() == "test"
    registered = Client().get_artifact_version("my_folder_artifact", 1)
    assert registered.uri.endswith("/my_folder_artifact")
    assert sorted(os.listdir(preexisting_folder))[-1] == test_file_name  # nothing copied in
    assert len(os.listdir(preexisting_folder)) == 2  # the data and version 2's folder
    check_history(Client(), tmp_path)


def test_deleting_data_registered_in_place_keeps_the_other_versions_bytes(
    sqlite_stores: tuple[str, str],
) -> None:
    folder = Path(_store_folder()) / "table"
    folder.mkdir(parents=True)
    (folder / "rows.csv").write_text("a\n1\n")
    register_artifact(str(folder), "table")
    second = save_artifact({"b": 2}, "table")

    Client().delete_artifact_version("table", 1)

    assert not (folder / "rows.csv").exists()
    assert Client().get_artifact_version("table", 2).load() == {"b": 2}
    assert Client().context.artifacts.exists(second.uri)
    assert Client().audit().ok


def test_data_inside_another_versions_folder_is_copied_so_deleting_that_version_keeps_it(
    sqlite_stores: tuple[str, str],
) -> None:
    original = save_artifact([1, 2, 3], "numbers")
    local = Client().context.artifacts.local_path(original.uri)
    assert local is not None

    stored_bytes = Path(local, "data.json").read_bytes()
    copy = register_artifact(os.path.join(local, "data.json"), "numbers_file")
    Client().delete_artifact_version("numbers", 1)

    assert copy.uri != original.uri and not copy.uri.startswith(original.uri)
    assert Path(copy.load()).read_bytes() == stored_bytes
    assert Client().audit().ok


@pytest.mark.parametrize("level", ["store", "parent"])
def test_a_folder_holding_the_store_is_refused_and_records_nothing(
    sqlite_stores: tuple[str, str], level: str
) -> None:
    store = Path(_store_folder())
    store.mkdir(parents=True, exist_ok=True)
    source = store if level == "store" else store.parent

    with pytest.raises(ArtifactSourceError, match="holds the artifact store"):
        register_artifact(str(source), "everything")
    with pytest.raises(ArtifactSourceError, match="holds the artifact store"):
        Client().save_artifact(source, "everything")

    assert Client().list_artifact_versions() == []


def test_on_s3_data_under_the_store_is_referenced_and_the_store_refused(
    s3_store: str, tmp_path: Path
) -> None:
    client = Client(f"sqlite:///{tmp_path / 'lineage.db'}", s3_store)
    store = client.context.artifacts
    store.write_text(f"{s3_store}/raw/part-0.csv", "a,b\n1,2\n")

    registered = client.register_artifact(f"{s3_store}/raw", "raw")

    assert registered.uri == f"{s3_store}/raw"
    assert (Path(registered.load(verify=True)) / "part-0.csv").read_text() == "a,b\n1,2\n"
    with pytest.raises(ArtifactSourceError, match="holds the artifact store"):
        client.register_artifact(s3_store, "everything")
    with pytest.raises(ArtifactSourceError, match="holds the artifact store"):
        client.register_artifact(s3_store.rsplit("/", 1)[0], "everything")
    assert [v.name for v in client.list_artifact_versions()] == ["raw"]
    assert client.audit().ok
