"""Retention policy: which artifact versions ``prune`` deletes and which bytes ``gc`` removes.

Pure functions over plain facts, so the policy is tested without stores:
``plan_prune`` keeps the last N versions of each name, every tagged version,
and everything a kept version was derived from (unless forced);
``plan_gc`` says which artifact folders no live version points to.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from lineagelog.domain.errors import LineageError

__all__ = [
    "GcDecision",
    "InvalidRetentionError",
    "PruneDecision",
    "StoredFolder",
    "VersionFacts",
    "plan_gc",
    "plan_prune",
]


class InvalidRetentionError(LineageError, ValueError):
    """A retention setting (``keep``, ``min_age``) that cannot be applied."""


@dataclass(frozen=True)
class VersionFacts:
    """What the prune policy needs to know about one artifact version."""

    id: str
    name: str
    version: int
    tags: tuple[str, ...] = ()
    deleted: bool = False

    @property
    def label(self) -> str:
        """``name:version``."""
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class PruneDecision:
    """Keep or delete one version, and why (in words a user reads in a dry run)."""

    version: VersionFacts
    action: Literal["keep", "delete"]
    reason: str


def plan_prune(
    versions: Iterable[VersionFacts],
    derived_from: Mapping[str, Iterable[str]],
    keep: int,
    *,
    force: bool = False,
) -> list[PruneDecision]:
    """Decide, for every live version, whether ``prune`` keeps or deletes it.

    Args:
        versions: every version (deleted ones are left out of the plan).
        derived_from: artifact version id -> ids of the versions it was
            directly computed from (the inputs of the step run that produced it).
        keep: how many of the newest live versions of each name to keep (>= 1).
        force: delete old versions even when a kept version was derived from them.

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
class GcDecision:
    """Remove or keep one folder of the store, and why."""

    uri: str
    action: Literal["remove", "keep"]
    reason: str


def plan_gc(
    folders: Iterable[StoredFolder],
    live_uris: Iterable[str],
    deleted_uris: Mapping[str, str],
    min_age_s: float,
) -> list[GcDecision]:
    """Decide which artifact folders ``gc`` removes; live folders are left out of the plan.

    Args:
        folders: the version folders found in the store.
        live_uris: URIs of the versions the log records and has not deleted.
        deleted_uris: URI -> ``name:version`` of tombstoned versions (their
            bytes should be gone; a crash during a delete can leave them).
        min_age_s: orphans younger than this (or of unknown age, unless it is 0)
            are kept: a writer may be between writing its bytes and recording its event.

    Returns:
        One decision per folder that is not live, ordered by URI.

    Raises:
        InvalidRetentionError: when ``min_age_s`` is negative.

    Examples:
        >>> plan = plan_gc([StoredFolder("s/a/1", 90.0), StoredFolder("s/a/2", 90.0)],
        ...                ["s/a/1"], {}, min_age_s=60)
        >>> [(d.uri, d.action, d.reason) for d in plan]
        [('s/a/2', 'remove', 'no event points to it (orphan bytes)')]

    """
    if min_age_s < 0:
        raise InvalidRetentionError(f"min_age {min_age_s!r} seconds is negative; use 0 or more")
    live = {u.rstrip("/") for u in live_uris}
    deleted = {u.rstrip("/"): label for u, label in deleted_uris.items()}
    decisions = []
    for folder in sorted(folders, key=lambda f: f.uri):
        uri = folder.uri.rstrip("/")
        if uri in live:
            continue
        if uri in deleted:
            decisions.append(
                GcDecision(uri, "remove", f"bytes of {deleted[uri]}, which was deleted")
            )
        elif folder.age_s is None and min_age_s > 0:
            decisions.append(
                GcDecision(
                    uri,
                    "keep",
                    "no event points to it, but the store cannot say how old it is "
                    "(a write may be in progress); use a min_age of 0 to remove it",
                )
            )
        elif folder.age_s is not None and folder.age_s < min_age_s:
            decisions.append(
                GcDecision(
                    uri,
                    "keep",
                    f"no event points to it yet, but it is only "
                    f"{folder.age_s:.0f}s old (a write may be in progress)",
                )
            )
        else:
            decisions.append(GcDecision(uri, "remove", "no event points to it (orphan bytes)"))
    return decisions
