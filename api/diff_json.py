"""Comparisons as plain JSON-able dicts: ``lineagelog diff --json`` (and the server's answer)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineagelog.domain.canonical import to_jsonable

if TYPE_CHECKING:
    from lineagelog.domain.cache import IngredientDifference
    from lineagelog.domain.comparison import (
        CodeChange,
        OutputComparison,
        RunComparison,
        RunFacts,
        StepComparison,
        StepFacts,
        VersionFacts,
    )
    from lineagelog.domain.root_causes import ArtifactComparison
    from lineagelog.domain.value_diff import ValueDifference

__all__ = ["artifact_comparison_dict", "run_comparison_dict"]


def _version(v: VersionFacts | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {
        "id": v.id,
        "name": v.name,
        "version": v.version,
        "content_hash": v.content_hash,
        "materializer": v.materializer,
        "data_type": v.data_type,
        "size": v.size,
        "deleted": v.deleted,
    }


def _difference(d: IngredientDifference) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "name": d.name,
        "old": to_jsonable(d.compared) if d.in_compared else None,
        "new": to_jsonable(d.this) if d.in_this else None,
        "added": not d.in_compared,
        "removed": not d.in_this,
        "reason": d.reason(),
    }


def _code(code: CodeChange | None) -> dict[str, Any] | None:
    if code is None:
        return None
    return {
        "old_hash": code.hash_a,
        "new_hash": code.hash_b,
        "diff": code.diff,
        "note": code.note,
        "source_recorded": {"old": code.source_a is not None, "new": code.source_b is not None},
    }


def _by_name(items: tuple[OutputComparison, ...]) -> list[dict[str, Any]]:
    return [
        {"name": o.name, "old": _version(o.a), "new": _version(o.b), "same": o.same} for o in items
    ]


def _step(s: StepFacts | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "step_run_id": s.id,
        "status": s.status,
        "cache_outcome": s.cache_outcome,
        "duration_s": s.duration_s,
        "code_hash": s.code_hash,
        "error": s.error,
    }


def _step_comparison(s: StepComparison) -> dict[str, Any]:
    return {
        "invocation_id": s.invocation_id,
        "change": s.change,
        "old": _step(s.a),
        "new": _step(s.b),
        "differences": [_difference(d) for d in s.differences],
        "code": _code(s.code),
        "inputs": _by_name(s.inputs),
        "outputs": _by_name(s.outputs),
    }


def _run(r: RunFacts) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "pipeline": r.pipeline,
        "status": r.status,
        "parameters": to_jsonable(r.parameters),
        "duration_s": r.duration_s,
    }


def run_comparison_dict(comparison: RunComparison) -> dict[str, Any]:
    """A run comparison as JSON-able data."""
    return {
        "kind": "runs",
        "old": _run(comparison.a),
        "new": _run(comparison.b),
        "same": comparison.same,
        "parameters": [_difference(d) for d in comparison.parameters],
        "steps": [_step_comparison(s) for s in comparison.steps],
    }


def _value(value: ValueDifference | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {
        "how": value.how,
        "changes": [{"path": c.path, "old": c.old, "new": c.new} for c in value.changes],
        "more": value.more,
        "note": value.note,
    }


def artifact_comparison_dict(comparison: ArtifactComparison) -> dict[str, Any]:
    """An artifact comparison (root causes, paths, aligned graph) as JSON-able data."""
    return {
        "kind": "artifacts",
        "old": _version(comparison.a),
        "new": _version(comparison.b),
        "same_content": comparison.same_content,
        "value": _value(comparison.value),
        "root_causes": [
            {
                "kind": c.kind,
                "step": c.step,
                "description": c.description,
                "old": to_jsonable(c.old),
                "new": to_jsonable(c.new),
                "code": _code(c.code),
                "path": comparison.path_labels(c),
                "path_keys": list(c.path),
                "consequences": list(c.consequences),
            }
            for c in comparison.root_causes
        ],
        "nodes": [
            {
                "key": n.key,
                "kind": n.kind,
                "old_id": n.a_id,
                "new_id": n.b_id,
                "label": n.label,
                "differs": n.differs,
            }
            for n in comparison.nodes.values()
        ],
        "edges": [{"src": e.src, "dst": e.dst, "kind": e.kind} for e in comparison.edges],
    }
