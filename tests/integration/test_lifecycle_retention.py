"""gc removes bytes no event points to; prune removes old untagged versions, sparing lineage."""

from __future__ import annotations

import uuid

import pytest
from scaling_pipeline import load, scaling

from lineagelog.api import Client, pipeline
from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.lifecycle import InvalidRetentionError
from lineagelog.domain.names import artifact_name_id


@pipeline
def loading(n: int = 3) -> None:
    load(n=n)


def _orphan(client: Client, name: str = "raw") -> str:
    """Bytes as a crash between writing them and recording their event leaves them."""
    store = client.context.artifacts
    uri = store.version_uri(name, uuid.uuid4())
    store.write_text(uri + "/data.json", "[1, 2]")
    return uri


def _live_files(client: Client) -> list[str]:
    store = client.context.artifacts
    return [
        f for v in client.list_artifact_versions() if not v.deleted for f in store.walk_files(v.uri)
    ]


def test_gc_dry_run_lists_orphan_bytes_and_removes_nothing(sqlite_stores: tuple[str, str]) -> None:
    scaling(n=3)
    client = Client()
    orphan = _orphan(client)

    report = client.gc(min_age_s=0)

    assert [(d.uri, d.action) for d in report.decisions] == [(orphan, "remove")]
    assert "no event points to it" in report.decisions[0].reason
    assert client.context.artifacts.exists(orphan)


def test_gc_apply_removes_orphans_and_leaves_every_live_version_loadable(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    client = Client()
    orphan = _orphan(client)
    live = _live_files(client)

    client.gc(apply=True, min_age_s=0)

    assert not client.context.artifacts.exists(orphan)
    assert all(client.context.artifacts.exists(f) for f in live)
    assert client.get_artifact_version("scaled").load() == [0, 2, 4]


def test_gc_spares_young_orphans_a_writer_may_still_record(sqlite_stores: tuple[str, str]) -> None:
    scaling(n=3)
    client = Client()
    orphan = _orphan(client)

    report = client.gc(apply=True)  # default grace period: one hour

    assert [(d.uri, d.action) for d in report.decisions] == [(orphan, "keep")]
    assert "write may be in progress" in report.decisions[0].reason
    assert client.context.artifacts.exists(orphan)


def test_gc_removes_bytes_of_a_version_tombstoned_before_a_crash(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)
    client = Client()
    raw = client.get_artifact_version("raw", 1)
    name = client.context.events.get(artifact_name_id("raw"))
    assert isinstance(name, ArtifactName)
    name.delete_version(1, raw.uri, "crashed before the bytes went")
    client.context.events.save(name)  # the tombstone, and then the process died

    report = client.gc(apply=True, min_age_s=3600)

    assert [(d.uri, d.action) for d in report.decisions] == [(raw.uri, "remove")]
    assert "raw:1, which was deleted" in report.decisions[0].reason
    assert not client.context.artifacts.exists(raw.uri)


def test_prune_dry_run_lists_what_would_go_and_why_without_deleting(
    sqlite_stores: tuple[str, str],
) -> None:
    for n in (1, 2, 3):
        loading(n=n)
    client = Client()

    report = client.prune(keep=1)

    assert report.deleted == ["raw:1", "raw:2"]
    assert "older than the newest 1 version(s) of 'raw' and untagged" in report.decisions[0].reason
    assert not any(v.deleted for v in client.list_artifact_versions("raw"))


def test_prune_apply_keeps_the_newest_and_tagged_versions(sqlite_stores: tuple[str, str]) -> None:
    for n in (1, 2, 3, 4):
        loading(n=n)
    client = Client()
    client.tag_artifact("raw", 1, "baseline")

    client.prune(keep=2, apply=True)

    versions = {v.version: v.deleted for v in client.list_artifact_versions("raw")}
    assert versions == {"1": False, "2": True, "3": False, "4": False}
    assert client.get_artifact_version("raw", 1).load() == [0]
    deleted = client.get_artifact_version("raw", 2)
    assert not client.context.artifacts.exists(deleted.uri)


def test_prune_spares_what_a_kept_version_was_derived_from_unless_forced(
    sqlite_stores: tuple[str, str],
) -> None:
    scaling(n=3)  # raw:1 -> scaled:1
    client = Client()
    client.tag_artifact("scaled", 1, "prod")
    loading(n=4)  # raw:2, from which nothing kept was derived

    spared = client.prune(keep=1)
    forced = client.prune(keep=1, force=True, apply=True)

    assert spared.deleted == []
    raw1 = next(d for d in spared.decisions if d.version.label == "raw:1")
    assert (raw1.action, raw1.reason) == (
        "keep",
        "scaled:1 (kept) was derived from it; --force deletes it anyway",
    )
    assert forced.deleted == ["raw:1"]
    assert client.get_artifact_version("raw", 1).deleted
    assert client.get_artifact_version("scaled", 1).load() == [0, 2, 4]


def test_prune_of_one_name_leaves_other_names_alone(sqlite_stores: tuple[str, str]) -> None:
    for n in (1, 2):
        scaling(n=n)
    client = Client()

    report = client.prune(keep=1, name="scaled", apply=True)

    assert report.deleted == ["scaled:1"]
    assert [v.deleted for v in client.list_artifact_versions("raw")] == [False, False]


def test_prune_refuses_to_keep_fewer_than_one_version(sqlite_stores: tuple[str, str]) -> None:
    loading(n=1)

    with pytest.raises(InvalidRetentionError, match="keep=0 must be a whole number of at least 1"):
        Client().prune(keep=0)
