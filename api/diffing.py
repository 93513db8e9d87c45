"""``Client.diff_runs`` / ``diff_artifacts``: gather both sides, compare, say how values differ.

The comparison itself is domain logic (``domain.comparison``, ``domain.root_causes``);
the views give the facts (``projections.comparison_queries``). What is added here
needs the artifact store: how two values differ. Only small JSON-like values are
loaded (``MAX_LOADED_BYTES``); DataFrames and arrays are compared by what their
materializer recorded, anything else by content hash, and a deleted version only
by what the log recorded about it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

from lineagelog.domain.comparison import RunComparison, VersionFacts, compare_runs
from lineagelog.domain.errors import InvalidComparisonError, LineageError, NotFoundError
from lineagelog.domain.root_causes import ArtifactComparison, trace_root_causes
from lineagelog.domain.value_diff import ValueChange, ValueDifference, structural_diff

if TYPE_CHECKING:
    from uuid import UUID

    from lineagelog.api.context import LineageContext
    from lineagelog.projections.records import ArtifactVersionRecord
    from lineagelog.projections.references import References

__all__ = ["MAX_LOADED_BYTES", "comparison_kind", "diff_artifacts", "diff_runs"]

MAX_LOADED_BYTES = 256 * 1024
"""JSON-like values up to this size are loaded to say where they differ; larger ones are not."""

Kind = Literal["runs", "artifacts"]


def diff_runs(
    context: LineageContext, references: References, run_a: UUID | str, run_b: UUID | str
) -> RunComparison:
    """Compare run ``run_a`` (the baseline) with ``run_b``, as of the resolver's position."""
    from lineagelog.projections.comparison_queries import ComparisonQueries

    a, b = references.run(run_a), references.run(run_b)
    sides = ComparisonQueries(context.queries).run_sides(a, b, references.as_of)
    return compare_runs(
        sides.a, sides.b, sides.steps_a, sides.steps_b, sides.versions, sides.sources
    )


def diff_artifacts(
    context: LineageContext,
    references: References,
    version_a: UUID | str,
    version_b: UUID | str,
    *,
    compare_values: bool = True,
) -> ArtifactComparison:
    """Trace two artifact versions to the root causes of their difference."""
    from lineagelog.projections.comparison_queries import ComparisonQueries

    record_a = references.artifact_version(version_a)
    record_b = references.artifact_version(version_b)
    sides = ComparisonQueries(context.queries).upstream_sides(record_a, record_b, references.as_of)
    compared = trace_root_causes(sides.a, sides.b, sides.steps, sides.versions, sides.sources)
    if not compare_values:
        return compared
    value = value_difference(context, record_a, record_b, sides.a, sides.b)
    return dataclasses.replace(compared, value=value)


def value_difference(
    context: LineageContext,
    record_a: ArtifactVersionRecord,
    record_b: ArtifactVersionRecord,
    a: VersionFacts,
    b: VersionFacts,
) -> ValueDifference | None:
    """How the values of two versions differ; None when their content is the same."""
    if a.content_hash == b.content_hash:
        return None
    described = [
        ValueChange(what, old, new)
        for what, old, new in (
            ("materializer", a.materializer, b.materializer),
            ("data type", a.data_type, b.data_type),
        )
        if old != new
    ]
    reason = _not_loaded(a, b)
    if reason is None:
        from lineagelog.api.artifacts import load_artifact_version

        try:
            old = load_artifact_version(context, record_a)
            new = load_artifact_version(context, record_b)
        except LineageError as e:
            reason = f"could not load them ({e})"
        else:
            changes, more = structural_diff(old, new)
            return ValueDifference("values", (*described, *changes), more)
    changes, more = structural_diff(dict(record_a.metadata), dict(record_b.metadata))
    if changes:
        return ValueDifference(
            "metadata", (*described, *changes), more, f"values not loaded: {reason}"
        )
    shown = ValueChange("content hash", a.content_hash[:16], b.content_hash[:16])
    return ValueDifference("content hash", (*described, shown), 0, f"values not loaded: {reason}")


def _not_loaded(a: VersionFacts, b: VersionFacts) -> str | None:
    """Why the two values are not loaded to compare them, or None to load them."""
    if a.deleted or b.deleted:
        return "a deleted version is compared by what the log recorded about it"
    if not (_json_like(a.materializer) and _json_like(b.materializer)):
        return "only JSON-like values are loaded; these compare by their recorded metadata"
    if max(a.size, b.size) > MAX_LOADED_BYTES:
        return f"larger than {MAX_LOADED_BYTES // 1024} KiB"
    return None


def _json_like(materializer: str) -> bool:
    from lineagelog.adapters.materializers import (
        BuiltInContainerMaterializer,
        BuiltInMaterializer,
        resolve_materializer,
    )

    try:
        cls = resolve_materializer(materializer)
    except LineageError:
        return False
    return issubclass(cls, BuiltInMaterializer | BuiltInContainerMaterializer)


def comparison_kind(references: References, first: str, second: str) -> Kind:
    """Whether two references name runs or artifact versions (for ``lineagelog diff``).

    Raises:
        InvalidComparisonError: one names a run and the other an artifact version, or
            both name both kinds.
        NotFoundError: a reference names neither (the lookup's own message).

    """
    kinds: list[set[str]] = []
    errors: list[NotFoundError] = []
    for reference in (first, second):
        found: set[str] = set()
        for kind, lookup in (("runs", references.run), ("artifacts", references.artifact_version)):
            try:
                lookup(reference)
            except NotFoundError as e:
                errors.append(e)
            else:
                found.add(kind)
        if not found:
            raise NotFoundError(
                f"{reference!r} names neither a run nor an artifact version ({errors[-2]}; "
                f"{errors[-1]})"
            )
        kinds.append(found)
    common = kinds[0] & kinds[1]
    if not common:
        raise InvalidComparisonError(
            f"{first!r} is {_kind_text(kinds[0])} and {second!r} is {_kind_text(kinds[1])}; "
            "compare two runs, or two artifact versions"
        )
    if len(common) > 1:
        raise InvalidComparisonError(
            f"{first!r} and {second!r} each name a run and an artifact version; "
            "pass --runs or --artifacts to say which to compare"
        )
    return "runs" if "runs" in common else "artifacts"


def _kind_text(kinds: set[str]) -> str:
    return "a run" if kinds == {"runs"} else "an artifact version"
