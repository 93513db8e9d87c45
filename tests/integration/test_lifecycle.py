"""Tags, registering existing data and deleting versions: events, catalog, lineage, cache."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from parts import require_module
from scaling_pipeline import calls, scaling

from lineagelog.api import Client
from lineagelog.api.context import open_context
from lineagelog.domain.artifact_name import DeletedVersionError
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    InvalidArtifactNameError,
    NoMaterializerError,
)


def _event_types(client: Client) -> list[str]:
    return [type(r.event).__name__ for r in client.context.events.iter_all()]


def _event(client: Client, type_name: str) -> Any:
    return next(
        r.event for r in client.context.events.iter_all() if type(r.event).__name__ == type_name
    )


def test_tags_are_events_and_filter_versions_now_and_as_of_before_the_untag(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    scaling(n=4)
    client = Client()

    client.tag_artifact("raw", 1, "baseline")
    tagged_at = client.context.events.max_position()
    client.untag_artifact("raw", 1, "baseline")
    client.tag_artifact("raw", 2, "baseline")

    assert [v.version for v in client.list_artifact_versions(tag="baseline")] == ["2"]
    past = client.as_of(tagged_at)
    assert [v.version for v in past.list_artifact_versions(tag="baseline")] == ["1"]
    assert _event_types(client).count("VersionTagged") == 2
    assert _event_types(client).count("VersionUntagged") == 1


def test_registering_a_local_folder_copies_it_in_with_its_hash_and_no_producer(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "dataset"
    (source / "part").mkdir(parents=True)
    (source / "part" / "rows.csv").write_text("a,b\n1,2\n")
    client = Client()

    registered = client.register_artifact(source, "dataset", tags=["external"])
    source.joinpath("part", "rows.csv").write_text("changed after registering\n")

    assert (registered.name, registered.version, registered.tags) == ("dataset", "1", ("external",))
    assert registered.producer_step_run_id is None
    assert registered.metadata["source"] == str(source)
    loaded = registered.load()
    assert (Path(loaded) / "part" / "rows.csv").read_text() == "a,b\n1,2\n"
    recomputed, _ = client.context.artifacts.content_hash(registered.uri)
    assert recomputed == registered.content_hash
    assert _event(client, "ExternalVersionRegistered").content_hash == registered.content_hash
    graph = client.lineage("dataset:1")
    assert graph.nodes[str(registered.id)].attributes["producer_step_run_id"] is None


def test_registering_a_file_already_in_the_store_gives_the_next_version(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    client = Client()
    raw = client.get_artifact_version("raw")
    inside = client.context.artifacts.walk_files(raw.uri)[0]

    registered = client.register_artifact(inside, "raw")

    assert registered.version == "2"
    assert Path(registered.load()).read_bytes() == client.context.artifacts.read_bytes(inside)


def test_registering_a_missing_path_names_it(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    with pytest.raises(LookupError, match=r"nothing to register at .*missing"):
        Client().register_artifact(tmp_path / "missing", "dataset")


def test_a_python_value_saved_outside_a_pipeline_loads_back_and_is_in_the_lineage(
    sqlite_stores: tuple[str, str],
) -> None:
    np = require_module("numpy", "numpy")
    client = Client()

    labels = client.save_artifact({"cat": 0, "dog": 1}, "labels", tags=["v1-schema"])
    weights = client.save_artifact(np.arange(6.0).reshape(2, 3), "weights")
    again = client.save_artifact({"cat": 0, "dog": 1, "bird": 2}, "labels")

    assert (labels.name, labels.version, labels.tags) == ("labels", "1", ("v1-schema",))
    assert again.version == "2" and again.content_hash != labels.content_hash
    assert labels.producer_step_run_id is None
    assert labels.metadata["source"] == "a Python dict saved by save_artifact"
    assert client.get_artifact_version("labels", 1).load() == {"cat": 0, "dog": 1}
    assert np.array_equal(weights.load(verify=True), np.arange(6.0).reshape(2, 3))
    assert "numpy" in weights.materializer.lower()
    assert str(labels.id) in client.lineage("labels:1").nodes
    assert client.audit().ok


def test_a_value_no_materializer_takes_is_refused_and_records_nothing(
    sqlite_stores: tuple[str, str],
) -> None:
    client = Client()

    with pytest.raises(NoMaterializerError, match="object"):
        client.save_artifact(object(), "opaque")
    with pytest.raises(InvalidArtifactNameError):
        client.save_artifact([1, 2], "../escape")

    assert client.list_artifact_versions() == []
    assert client.context.events.max_position() == 0
    store = client.context.artifacts
    assert not store.exists(store.root) or store.walk_files(store.root) == []


def test_deleting_a_version_records_a_tombstone_removes_bytes_and_keeps_the_lineage_node(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    client = Client()
    raw = client.get_artifact_version("raw", 1)

    deleted = client.delete_artifact_version("raw", 1, reason="wrong data")

    assert deleted.deleted
    assert not client.context.artifacts.exists(raw.uri)
    tombstone = _event(client, "VersionDeleted")
    assert (tombstone.version, tombstone.reason, tombstone.uri) == (
        1,
        "wrong data",
        f"raw/{raw.id}",
    )
    node = client.lineage("scaled:1").nodes[str(raw.id)]
    assert node.attributes["deleted"] is True
    assert [v.deleted for v in client.list_artifact_versions("raw")] == [True]
    with pytest.raises(DeletedVersionError, match="raw:1 is deleted"):
        client.tag_artifact("raw", 1, "prod")


def test_a_deleted_output_is_never_served_from_the_cache(sqlite_stores: tuple[str, str]) -> None:
    calls.clear()
    scaling(n=5)
    Client().delete_artifact_version("raw", 1)

    run = scaling(n=5)

    assert calls == [5, 5]
    assert run.steps["load"].cache_outcome == "miss"
    assert Client().get_artifact_version("raw").version == "2"


def test_deleting_twice_records_one_tombstone_and_removes_bytes_a_crash_left(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    client = Client()
    raw = client.get_artifact_version("raw", 1)
    client.delete_artifact_version("raw", 1, reason="wrong data")
    client.context.artifacts.write_text(raw.uri + "/data.json", "[0, 1, 2]")  # as after a crash

    with pytest.raises(
        DeletedVersionError, match=r"raw:1 is already deleted at .* \('wrong data'\); nothing was"
    ):
        client.delete_artifact_version("raw", 1)

    assert _event_types(client).count("VersionDeleted") == 1
    assert not client.context.artifacts.exists(raw.uri)


def test_a_deleted_version_says_when_and_why_when_loaded_and_shown(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    client = Client()
    read_before = client.get_artifact_version("raw", 1)

    client.delete_artifact_version("raw", 1, reason="wrong data")

    deleted = client.get_artifact_version("raw", 1)
    tombstone = _event(client, "VersionDeleted")
    when = tombstone.timestamp.isoformat(timespec="seconds")
    assert (deleted.deleted_at, deleted.deleted_reason) == (tombstone.timestamp, "wrong data")
    assert repr(deleted).endswith(f", deleted at {when} ('wrong data'))")
    for version in (deleted, read_before):  # also a version read before the delete
        with pytest.raises(
            ArtifactNotFoundError,
            match=rf"raw:1 .* was deleted at {re.escape(when)} \('wrong data'\)",
        ):
            version.load()
    assert "deleted" not in repr(client.get_artifact_version("scaled", 1))


def test_a_version_read_as_of_before_its_deletion_is_live_and_rebuilds_the_same(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    client = Client()
    before = client.context.events.max_position()
    client.delete_artifact_version("raw", 1, reason="wrong data")
    now = client.get_artifact_version("raw", 1)

    open_context().projector.rebuild()

    past = Client().as_of(before).get_artifact_version("raw", 1)
    assert (past.deleted, past.deleted_at, past.deleted_reason, past.deletion) == (
        False,
        None,
        None,
        None,
    )
    rebuilt = Client().get_artifact_version("raw", 1)
    assert (rebuilt.deleted_at, rebuilt.deleted_reason) == (now.deleted_at, "wrong data")


def test_a_client_reading_the_past_refuses_to_change_the_present(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    past = Client().as_of(1)

    with pytest.raises(Exception, match="cannot tag through a client reading as of position 1"):
        past.tag_artifact("raw", 1, "prod")


def test_views_rebuilt_from_the_log_show_the_same_lifecycle(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    scaling(n=3)
    (tmp_path / "f.txt").write_text("x")
    client = Client()
    client.register_artifact(tmp_path / "f.txt", "raw", tags=["ext"])
    client.delete_artifact_version("raw", 1)
    before = [
        (v.version, v.tags, v.deleted, v.content_hash) for v in client.list_artifact_versions("raw")
    ]

    open_context().projector.rebuild()

    after = [
        (v.version, v.tags, v.deleted, v.content_hash)
        for v in Client().list_artifact_versions("raw")
    ]
    assert after == before == [("1", (), True, before[0][3]), ("2", ("ext",), False, before[1][3])]


def test_the_audit_checks_registered_bytes_and_accepts_deleted_versions_without_bytes(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    scaling(n=3)
    (tmp_path / "f.txt").write_text("x")
    client = Client()
    registered = client.register_artifact(tmp_path / "f.txt", "labels")
    client.delete_artifact_version("raw", 1)
    assert client.audit().ok

    stored = client.context.artifacts.walk_files(registered.uri)[0]
    client.context.artifacts.write_text(stored, "changed")
    report = client.audit()

    assert not report.ok
    assert [p.kind for p in report.problems] == ["artifact-modified"]
    assert "labels:1" in report.problems[0].message
