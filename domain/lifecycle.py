"""Retention policy: which artifact versions ``prune`` deletes and which bytes ``gc`` removes.

Pure functions over plain facts, so the policy is tested without stores:
``plan_prune`` keeps the last N versions of each name, every tagged version,
every version in use (``versions_in_use``: reused by a cache hit within the
reuse window, or consumed or reused by a run still running) and everything a
kept version was derived from (unless forced); ``plan_gc`` says which artifact
folders no live version points to, never one a writer holds a live write lease
on (``judge_lease``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from lineagelog.domain.errors import InvalidRetentionError

__all__ = [
    "GcDecision",
    "InvalidRetentionError",
    "PruneDecision",
    "StoredFolder",
    "VersionFacts",
    "VersionUse",
    "WriteLease",
    "check_seconds",
    "judge_lease",
    "plan_gc",
    "plan_prune",
    "versions_in_use",
]


def check_seconds(value: object, what: str, meaning: str) -> float:
    """Return ``value`` as seconds if it is a finite number of 0 or more, else raise.

    Raises:
        InvalidRetentionError: naming ``what``, the bad value and what it means.

    Examples:
        >>> check_seconds(60, "reuse_window", "how long a reused version counts as in use")
        60.0
        >>> check_seconds(-1, "reuse_window", "how long a reused version counts as in use")
        Traceback (most recent call last):
        ...
        lineagelog.domain.errors.InvalidRetentionError: reuse_window=-1 seconds ...

    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidRetentionError(
            f"{what}={value!r} seconds is not a number of 0 or more; give {meaning} "
            "in seconds (e.g. 3600)"
        )
    return float(value)


@dataclass(frozen=True)
class VersionFacts:
    """What the prune policy needs to know about one artifact version."""

    id: str
    name: str
    version: int
    tags: tuple[str, ...] = ()
    deleted: bool = False
    version_name: str | None = None

    @property
    def label(self) -> str:
        """``name:version``, by the version's name (its number unless one was chosen)."""
        return f"{self.name}:{self.version_name or self.version}"


@dataclass(frozen=True)
class PruneDecision:
    """Keep or delete one version, and why (in words a user reads in a dry run)."""

    version: VersionFacts
    action: Literal["keep", "delete"]
    reason: str


@dataclass(frozen=True)
class VersionUse:
    """One step run's use of an artifact version: a cache hit reusing it, or a run consuming it."""

    version_id: str
    kind: Literal["reused", "consumed"]
    step: str  # the step's invocation id in its pipeline
    run: str  # the run's name
    at: datetime  # when the step started (consumed) or the cache decided (reused)
    run_running: bool  # the run has not ended yet


def versions_in_use(
    uses: Iterable[VersionUse], *, now: datetime, reuse_window_s: float
) -> dict[str, str]:
    """Which versions ``prune`` must treat as in use, with the reason a user reads.

    A version is in use when a run that has not ended consumed or reused it,
    or when a cache hit reused it less than ``reuse_window_s`` ago: the run of
    that hit may still be about to load it, and deleting it now would break it.

    Args:
        uses: consumptions and cache reuses of versions, from the views.
        now: the current time (timezone-aware, like ``VersionUse.at``).
        reuse_window_s: how long after a cache hit its reused versions stay in use.

    Returns:
        artifact version id -> why it is in use (the most pressing use of each).

    Raises:
        InvalidRetentionError: when ``reuse_window_s`` is not a number of 0 or more.

    Examples:
        >>> from datetime import UTC, datetime, timedelta
        >>> now = datetime(2026, 1, 1, tzinfo=UTC)
        >>> hit = VersionUse("a1", "reused", "train", "nightly", now - timedelta(seconds=90), False)
        >>> print(versions_in_use([hit], now=now, reuse_window_s=3600)["a1"])
        reused by a cache hit of step 'train' in run 'nightly' 90s ago (within the 3600s ...)
        >>> versions_in_use([hit], now=now, reuse_window_s=60)
        {}

    """
    window = check_seconds(reuse_window_s, "reuse_window", "how long a reused version stays in use")
    running: dict[str, str] = {}
    recent: dict[str, tuple[float, str]] = {}
    for use in sorted(uses, key=lambda u: (u.version_id, u.run, u.step, u.kind)):
        if use.run_running:
            running.setdefault(
                use.version_id,
                f"{use.kind} by step {use.step!r} of run {use.run!r}, which is still running "
                "(if it crashed, `lineagelog recover` ends it)",
            )
            continue
        age = max(0.0, (now - use.at).total_seconds())
        if use.kind != "reused" or age >= window:
            continue
        if use.version_id not in recent or age < recent[use.version_id][0]:
            recent[use.version_id] = (
                age,
                f"reused by a cache hit of step {use.step!r} in run {use.run!r} {age:.0f}s ago "
                f"(within the {window:.0f}s reuse window)",
            )
    return {**{v: why for v, (_, why) in recent.items()}, **running}


def plan_prune(
    versions: Iterable[VersionFacts],
    derived_from: Mapping[str, Iterable[str]],
    keep: int,
    *,
    force: bool = False,
    in_use: Mapping[str, str] | None = None,
) -> list[PruneDecision]:
    """Decide, for every live version, whether ``prune`` keeps or deletes it.

    Args:
        versions: every version (deleted ones are left out of the plan).
        derived_from: artifact version id -> ids of the versions it was
            directly computed from (the inputs of the step run that produced it).
        keep: how many of the newest live versions of each name to keep (>= 1).
        force: delete old versions even when a kept version was derived from them.
        in_use: artifact version id -> why it is in use (see ``versions_in_use``);
            these are kept whatever ``keep`` and ``force`` say.

    Returns:
        One decision per live version, ordered by name then version.

    Raises:
        InvalidRetentionError: when ``keep`` is not a positive integer.

    Examples:
        >>> a1, a2 = VersionFacts("a1", "a", 1), VersionFacts("a2", "a", 2)
        >>> m1 = VersionFacts("m1", "m", 1)
        >>> plan = plan_prune([a1, a2, m1], {"m1": ["a1"]}, keep=1)
        >>> [(d.version.label, d.action) for d in plan]
        [('a:1', 'keep'), ('a:2', 'keep'), ('m:1', 'keep')]
        >>> plan[0].reason
        'm:1 (kept) was derived from it; --force deletes it anyway'

    """
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise InvalidRetentionError(
            f"keep={keep!r} must be a whole number of at least 1 (the newest versions of "
            "each name to keep)"
        )
    live = sorted((v for v in versions if not v.deleted), key=lambda v: (v.name, v.version))
    by_name: dict[str, list[VersionFacts]] = {}
    for v in live:
        by_name.setdefault(v.name, []).append(v)
    kept_reason: dict[str, str] = {}
    for name_versions in by_name.values():
        for v in name_versions[-keep:]:
            kept_reason[v.id] = f"one of the newest {keep} version(s) of {v.name!r}"
        for v in name_versions[:-keep]:
            if v.tags:
                kept_reason[v.id] = f"tagged {', '.join(sorted(v.tags))}"
            elif in_use and v.id in in_use:
                kept_reason[v.id] = f"in use: {in_use[v.id]}"
    labels = {v.id: v.label for v in live}
    protected_by = _upstream_of(kept_reason, derived_from, labels)
    decisions = []
    for v in live:
        if v.id in kept_reason:
            decisions.append(PruneDecision(v, "keep", kept_reason[v.id]))
            continue
        older = f"older than the newest {keep} version(s) of {v.name!r} and untagged"
        kept_child = protected_by.get(v.id)
        if kept_child is None:
            decisions.append(PruneDecision(v, "delete", older))
        elif force:
            decisions.append(
                PruneDecision(
                    v, "delete", f"{older}; forced although {kept_child} (kept) was derived from it"
                )
            )
        else:
            decisions.append(
                PruneDecision(
                    v, "keep", f"{kept_child} (kept) was derived from it; --force deletes it anyway"
                )
            )
    return decisions


def _upstream_of(
    kept: Mapping[str, str], derived_from: Mapping[str, Iterable[str]], labels: Mapping[str, str]
) -> dict[str, str]:
    """Every version upstream of a kept one -> the label of a kept version derived from it."""
    protected: dict[str, str] = {}
    for kept_id in sorted(kept, key=lambda i: labels.get(i, i)):
        queue = deque([kept_id])
        seen = {kept_id}
        while queue:
            current = queue.popleft()
            for parent in derived_from.get(current, ()):
                if parent in seen:
                    continue
                seen.add(parent)
                protected.setdefault(parent, labels.get(kept_id, kept_id))
                queue.append(parent)
    return protected


@dataclass(frozen=True)
class StoredFolder:
    """An artifact version folder found in the store: ``<root>/<name>/<id>``."""

    uri: str
    age_s: float | None  # seconds since its newest file changed; None when unknown


@dataclass(frozen=True)
class WriteLease:
    """A writer's claim on the version folder it is filling, as ``gc`` finds it in the store.

    The writer takes it before making the folder and drops it once the
    version's event is recorded (or the write failed and the folder is gone).
    """

    uri: str  # where the lease itself lies
    version_id: str  # the folder it protects: ``<root>/<name>/<version_id>``
    host: str | None  # None when the lease could not be read
    pid: int | None
    age_s: float | None  # seconds since the write began; None when unknown
    process_alive: bool | None  # checked on this host only; None elsewhere or when unreadable


def judge_lease(lease: WriteLease, max_age_s: float) -> tuple[bool, str]:
    """Whether ``lease`` still protects its folder, and why (or why it is stale).

    A lease taken on this host holds exactly as long as its process lives. One
    from another host (or one that cannot be read) cannot be checked from
    here, so it holds until it is ``max_age_s`` old.

    Examples:
        >>> gone = WriteLease("s/.lineagelog/leases/1.json", "1", "h", 4242, 5.0, False)
        >>> judge_lease(gone, 86400)
        (False, 'pid 4242 on this host, which took it, is no longer running')
        >>> remote = WriteLease("s/.lineagelog/leases/2.json", "2", "h2", 7, 60.0, None)
        >>> holds, why = judge_lease(remote, 86400)
        >>> holds, why
        (True, "pid 7 on host 'h2' began writing it 60s ago (a lease from another host ...)")

    """
    who = "an unreadable write lease" if lease.host is None else f"pid {lease.pid}"
    if lease.process_alive is True:
        return True, f"pid {lease.pid} on this host is writing it"
    if lease.process_alive is False:
        return False, f"pid {lease.pid} on this host, which took it, is no longer running"
    where = "" if lease.host is None else f" on host {lease.host!r}"
    if lease.age_s is None:
        return True, (
            f"{who}{where} of unknown age protects it; if no writer is running, remove "
            f"{lease.uri!r} by hand"
        )
    age = max(0.0, lease.age_s)
    if age < max_age_s:
        return True, (
            f"{who}{where} began writing it {age:.0f}s ago (a lease from another host "
            f"holds for {max_age_s:.0f}s)"
        )
    return False, f"{who}{where} is {age:.0f}s old, older than the {max_age_s:.0f}s bound"


@dataclass(frozen=True)
class GcDecision:
    """Remove, keep or skip (never look into) one entry of the store, and why."""

    uri: str
    action: Literal["remove", "keep", "skip"]
    reason: str


def plan_gc(
    folders: Iterable[StoredFolder],
    live_uris: Iterable[str],
    deleted_uris: Mapping[str, str],
    min_age_s: float,
    leases: Iterable[WriteLease] = (),
    lease_max_age_s: float = 86400.0,
) -> list[GcDecision]:
    """Decide which artifact folders (and stale write leases) ``gc`` removes.

    Live folders are left out of the plan. An orphan folder under a write
    lease that holds (``judge_lease``) is kept whatever ``min_age_s`` says:
    a writer is filling it right now.

    Args:
        folders: the version folders found in the store.
        live_uris: URIs of the versions the log records and has not deleted.
        deleted_uris: URI -> ``name:version`` of tombstoned versions (their
            bytes should be gone; a crash during a delete can leave them).
        min_age_s: orphans younger than this (or of unknown age, unless it is 0)
            are kept: a writer may be between writing its bytes and recording its event.
        leases: the write leases found in the store, matched to folders by version id.
        lease_max_age_s: how long a lease that cannot be checked from here holds.

    Returns:
        One decision per folder that is not live, ordered by URI, then one per
        stale lease (removing the lease), ordered by URI.

    Raises:
        InvalidRetentionError: when ``min_age_s`` or ``lease_max_age_s`` is negative.

    Examples:
        >>> plan = plan_gc([StoredFolder("s/a/1", 90.0), StoredFolder("s/a/2", 90.0)],
        ...                ["s/a/1"], {}, min_age_s=60)
        >>> [(d.uri, d.action, d.reason) for d in plan]
        [('s/a/2', 'remove', 'no event points to it (orphan bytes)')]

    """
    if min_age_s < 0:
        raise InvalidRetentionError(f"min_age {min_age_s!r} seconds is negative; use 0 or more")
    max_age = check_seconds(lease_max_age_s, "lease_max_age", "how long a remote lease holds")
    live = {u.rstrip("/") for u in live_uris}
    deleted = {u.rstrip("/"): label for u, label in deleted_uris.items()}
    judged = {lease.version_id: (lease, *judge_lease(lease, max_age)) for lease in leases}
    decisions = []
    for folder in sorted(folders, key=lambda f: f.uri):
        uri = folder.uri.rstrip("/")
        if uri in live:
            continue
        _, holds, why = judged.get(uri.rsplit("/", 1)[-1], (None, False, ""))
        if uri in deleted:
            decisions.append(
                GcDecision(uri, "remove", f"bytes of {deleted[uri]}, which was deleted")
            )
        elif holds:
            decisions.append(
                GcDecision(uri, "keep", f"a write is in progress under a write lease: {why}")
            )
        else:
            decision = _orphan_decision(uri, folder.age_s, min_age_s)
            stale = f"; its write lease is stale: {why}" if why else ""
            decisions.append(GcDecision(uri, decision.action, decision.reason + stale))
    for lease, holds, why in sorted(judged.values(), key=lambda j: j[0].uri):
        if not holds:
            decisions.append(GcDecision(lease.uri, "remove", f"stale write lease: {why}"))
    return decisions


def _orphan_decision(uri: str, age_s: float | None, min_age_s: float) -> GcDecision:
    """Bytes no event points to and no lease holds: removed once older than ``min_age_s``."""
    if age_s is None and min_age_s > 0:
        return GcDecision(
            uri,
            "keep",
            "no event points to it, but the store cannot say how old it is "
            "(a write may be in progress); use a min_age of 0 to remove it",
        )
    if age_s is not None and age_s < min_age_s:
        return GcDecision(
            uri,
            "keep",
            f"no event points to it yet, but it is only {age_s:.0f}s old "
            "(a write may be in progress)",
        )
    return GcDecision(uri, "remove", "no event points to it (orphan bytes)")
