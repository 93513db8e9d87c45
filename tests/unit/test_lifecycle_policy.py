"""The retention policy as pure functions: prune plans and gc plans."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

import lineagelog.domain.lifecycle as lifecycle_module
from lineagelog.domain.lifecycle import (
    InvalidRetentionError,
    PruneDecision,
    StoredFolder,
    VersionFacts,
    VersionUse,
    WriteLease,
    judge_lease,
    plan_gc,
    plan_prune,
    versions_in_use,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def v(name: str, version: int, *tags: str, deleted: bool = False) -> VersionFacts:
    return VersionFacts(f"{name}{version}", name, version, tuple(tags), deleted)


def actions(plan: list[PruneDecision]) -> dict[str, str]:
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


def test_doctests_of_the_lifecycle_module_run() -> None:
    result = doctest.testmod(lifecycle_module, optionflags=doctest.ELLIPSIS)

    assert result.attempted > 0
    assert result.failed == 0


def use(
    version_id: str,
    kind: Literal["reused", "consumed"],
    seconds_ago: float,
    *,
    running: bool = False,
) -> VersionUse:
    return VersionUse(
        version_id, kind, "train", "nightly", NOW - timedelta(seconds=seconds_ago), running
    )


def test_a_version_reused_within_the_window_is_in_use_and_one_reused_before_it_is_not() -> None:
    uses = [use("a1", "reused", 59), use("a2", "reused", 61)]

    in_use = versions_in_use(uses, now=NOW, reuse_window_s=60)

    assert list(in_use) == ["a1"]
    assert in_use["a1"].startswith("reused by a cache hit of step 'train' in run 'nightly' 59s ago")


def test_a_running_run_keeps_what_it_consumed_or_reused_however_long_ago() -> None:
    uses = [use("a1", "consumed", 86400, running=True), use("a2", "reused", 86400, running=True)]

    in_use = versions_in_use(uses, now=NOW, reuse_window_s=60)

    assert in_use == {
        "a1": "consumed by step 'train' of run 'nightly', which is still running "
        "(if it crashed, `lineagelog recover` ends it)",
        "a2": "reused by step 'train' of run 'nightly', which is still running "
        "(if it crashed, `lineagelog recover` ends it)",
    }


def test_a_consumption_by_an_ended_run_does_not_keep_a_version_in_use() -> None:
    assert versions_in_use([use("a1", "consumed", 1)], now=NOW, reuse_window_s=3600) == {}


@pytest.mark.parametrize("window", [-1, float("nan"), float("inf"), True, "60"])
def test_a_reuse_window_that_is_not_seconds_of_zero_or_more_is_refused(window: object) -> None:
    with pytest.raises(InvalidRetentionError, match="reuse_window="):
        versions_in_use([], now=NOW, reuse_window_s=window)  # type: ignore[arg-type]


def test_prune_keeps_a_version_in_use_even_when_forced_and_protects_its_sources() -> None:
    versions = [v("raw", 1), v("raw", 2), v("model", 1), v("model", 2)]
    in_use = {"model1": "reused by a cache hit of step 'fit' in run 'r' 5s ago"}

    plan = plan_prune(versions, {"model1": {"raw1"}}, keep=1, force=True, in_use=in_use)
    spared = plan_prune(versions, {"model1": {"raw1"}}, keep=1, in_use=in_use)

    assert actions(plan) == {
        "raw:1": "delete",
        "raw:2": "keep",
        "model:1": "keep",
        "model:2": "keep",
    }
    assert actions(spared)["raw:1"] == "keep"
    model1 = next(d for d in plan if d.version.label == "model:1")
    assert model1.reason == "in use: reused by a cache hit of step 'fit' in run 'r' 5s ago"


def lease(version_id: str, *, alive: bool | None, age: float | None = 5.0) -> WriteLease:
    host = None if alive is None and age is None else ("here" if alive is not None else "there")
    return WriteLease(f"s/.lineagelog/leases/{version_id}.json", version_id, host, 42, age, alive)


def test_gc_keeps_a_folder_under_a_live_lease_whatever_the_grace_period() -> None:
    folders = [StoredFolder("s/a/writing", 7200.0), StoredFolder("s/a/crashed", 7200.0)]
    leases = [lease("writing", alive=True), lease("crashed", alive=False)]

    plan = plan_gc(folders, [], {}, min_age_s=0, leases=leases)

    assert [(d.uri, d.action) for d in plan] == [
        ("s/a/crashed", "remove"),
        ("s/a/writing", "keep"),
        ("s/.lineagelog/leases/crashed.json", "remove"),
    ]
    assert "its write lease is stale: pid 42 on this host" in plan[0].reason
    assert (
        plan[1].reason
        == "a write is in progress under a write lease: pid 42 on this host is writing it"
    )


def test_a_lease_from_another_host_holds_until_the_bound() -> None:
    assert judge_lease(lease("x", alive=None, age=100.0), max_age_s=101)[0] is True
    assert judge_lease(lease("x", alive=None, age=102.0), max_age_s=101)[0] is False


def test_a_lease_of_unknown_age_from_another_host_holds_and_says_how_to_clear_it() -> None:
    holds, why = judge_lease(lease("x", alive=None, age=None), max_age_s=60)

    assert holds
    assert "remove 's/.lineagelog/leases/x.json' by hand" in why


def test_gc_refuses_a_lease_bound_that_is_not_seconds() -> None:
    with pytest.raises(InvalidRetentionError, match="lease_max_age=-3 seconds"):
        plan_gc([], [], {}, min_age_s=0, lease_max_age_s=-3)
