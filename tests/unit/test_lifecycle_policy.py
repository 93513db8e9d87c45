"""The retention policy as pure functions: prune plans and gc plans."""

from __future__ import annotations

import pytest

from lineagelog.domain.lifecycle import (
    InvalidRetentionError,
    StoredFolder,
    VersionFacts,
    plan_gc,
    plan_prune,
)


def v(name: str, version: int, *tags: str, deleted: bool = False) -> VersionFacts:
    return VersionFacts(f"{name}{version}", name, version, tuple(tags), deleted)


def actions(plan: list) -> dict[str, str]:
    return {d.version.label: d.action for d in plan}


def test_prune_keeps_the_newest_n_per_name_and_deletes_the_rest() -> None:
    plan = plan_prune([v("a", 1), v("a", 2), v("a", 3), v("b", 1)], {}, keep=2)

    assert actions(plan) == {"a:1": "delete", "a:2": "keep", "a:3": "keep", "b:1": "keep"}


def test_prune_protects_everything_upstream_of_a_kept_version_through_chains() -> None:
    versions = [
        v("raw", 1),
        v("raw", 2),
        v("clean", 1),
        v("clean", 2),
        v("model", 1, "prod"),
        v("model", 2),
    ]
    derived = {"clean1": {"raw1"}, "model1": {"clean1"}, "clean2": {"raw2"}, "model2": {"clean2"}}

    plan = plan_prune(versions, derived, keep=1)

    assert actions(plan) == {
        "clean:1": "keep",
        "clean:2": "keep",
        "model:1": "keep",
        "model:2": "keep",
        "raw:1": "keep",
        "raw:2": "keep",
    }
    reasons = {d.version.label: d.reason for d in plan}
    assert reasons["raw:1"].startswith("model:1 (kept) was derived from it")


def test_forced_prune_deletes_upstream_versions_but_still_keeps_tagged_ones() -> None:
    versions = [v("raw", 1), v("raw", 2), v("model", 1, "prod"), v("model", 2)]

    plan = plan_prune(versions, {"model1": {"raw1"}, "model2": {"raw2"}}, keep=1, force=True)

    assert actions(plan) == {
        "model:1": "keep",
        "model:2": "keep",
        "raw:1": "delete",
        "raw:2": "keep",
    }


def test_deleted_versions_are_not_counted_or_listed() -> None:
    plan = plan_prune([v("a", 1), v("a", 2), v("a", 3, deleted=True)], {}, keep=1)

    assert actions(plan) == {"a:1": "delete", "a:2": "keep"}


@pytest.mark.parametrize("keep", [0, -1, True, 1.5])
def test_prune_refuses_a_keep_that_is_not_a_positive_whole_number(keep: object) -> None:
    with pytest.raises(InvalidRetentionError, match="keep="):
        plan_prune([], {}, keep=keep)  # type: ignore[arg-type]


def test_gc_removes_orphans_and_tombstoned_bytes_and_spares_young_orphans() -> None:
    folders = [
        StoredFolder("s/a/live", 5.0),
        StoredFolder("s/a/old", 7200.0),
        StoredFolder("s/a/new", 10.0),
        StoredFolder("s/a/gone", 1.0),
        StoredFolder("s/a/unknown-age", None),
    ]

    plan = plan_gc(folders, ["s/a/live"], {"s/a/gone": "a:3"}, min_age_s=3600)

    assert [(d.uri, d.action) for d in plan] == [
        ("s/a/gone", "remove"),
        ("s/a/new", "keep"),
        ("s/a/old", "remove"),
        ("s/a/unknown-age", "keep"),
    ]


def test_gc_with_no_grace_period_removes_orphans_of_unknown_age() -> None:
    plan = plan_gc([StoredFolder("s/a/x", None)], [], {}, min_age_s=0)

    assert [(d.uri, d.action) for d in plan] == [("s/a/x", "remove")]


def test_gc_refuses_a_negative_grace_period() -> None:
    with pytest.raises(InvalidRetentionError, match="negative"):
        plan_gc([], [], {}, min_age_s=-1)
