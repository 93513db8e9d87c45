"""Comparisons: two runs step by step, or two artifact versions traced to their root causes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from lineagelog.api.server.deps import Reader
from lineagelog.api.server.diff_models import ArtifactComparison, RunComparison
from lineagelog.projections.jsonable import json_ready

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["comparison"])

Reference = Annotated[
    str,
    Query(
        min_length=1,
        max_length=300,
        description="a run (id, unique prefix or name) or an artifact version "
        "(name:version, name, id or unique prefix)",
    ),
]


@router.get("/diff", response_model=RunComparison | ArtifactComparison)
def diff(
    a: Reference,
    b: Reference,
    client: Reader,
    kind: Annotated[
        Literal["runs", "artifacts"] | None,
        Query(description="what a and b name, when a reference could be either"),
    ] = None,
    values: Annotated[
        bool, Query(description="load small JSON-like values to say where they differ")
    ] = True,
) -> Any:
    """Compare ``a`` (the baseline) with ``b``, as ``lineagelog diff A B --json`` does.

    Two runs: every step aligned by invocation id, with the ingredients that
    differ. Two artifact versions: the root causes of their difference, each
    with its path down to both, and the aligned upstream histories.
    """
    from lineagelog.api.diff_json import artifact_comparison_dict, run_comparison_dict
    from lineagelog.api.diffing import comparison_kind
    from lineagelog.projections.references import References

    if kind is None:
        kind = comparison_kind(References(client.context.queries, client.as_of_position), a, b)
    if kind == "runs":
        return json_ready(run_comparison_dict(client.diff_runs(a, b)))
    return json_ready(artifact_comparison_dict(client.diff_artifacts(a, b, compare_values=values)))
