"""Response models of ``GET /api/v1/diff``: the shapes ``lineagelog diff --json`` prints.

The values are built by ``lineagelog.api.diff_json``; these models document
them in the OpenAPI page and check them on the way out.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "AlignedEdge",
    "AlignedNode",
    "ArtifactComparison",
    "CodeChange",
    "ComparedRun",
    "ComparedStep",
    "ComparedVersion",
    "IngredientChange",
    "NamedVersions",
    "RootCause",
    "RunComparison",
    "StepComparison",
    "ValueChange",
    "ValueDifference",
]


class ComparedVersion(BaseModel):
    """An artifact version on one side of a comparison (deleted ones too)."""

    id: str
    name: str
    version: str
    content_hash: str
    materializer: str
    data_type: str
    size: int
    deleted: bool


class IngredientChange(BaseModel):
    """One ingredient that differs: ``old`` in the baseline, ``new`` in the other."""

    kind: str = Field(description="code, parameter, input, output, artifact store, cache format")
    name: str | None
    old: Any
    new: Any
    added: bool
    removed: bool
    reason: str | None


class CodeChange(BaseModel):
    """A step's code in both executions: a unified diff of the recorded sources."""

    old_hash: str
    new_hash: str
    diff: str | None = Field(description="null when a source was not recorded")
    note: str | None
    source_recorded: dict[str, bool]


class NamedVersions(BaseModel):
    """An input or output of a step in both runs, and whether its content is the same."""

    name: str
    old: ComparedVersion | None
    new: ComparedVersion | None
    same: bool


class ComparedStep(BaseModel):
    """A step run on one side of a run comparison."""

    step_run_id: str
    status: str
    cache_outcome: str | None
    duration_s: float | None
    code_hash: str
    error: str | None


class StepComparison(BaseModel):
    """One step invocation in both runs."""

    invocation_id: str
    change: Literal["added", "removed", "changed", "same"]
    old: ComparedStep | None
    new: ComparedStep | None
    differences: list[IngredientChange]
    code: CodeChange | None
    inputs: list[NamedVersions]
    outputs: list[NamedVersions]


class ComparedRun(BaseModel):
    """A run on one side of a run comparison."""

    id: str
    name: str
    pipeline: str
    status: str
    parameters: dict[str, Any]
    duration_s: float | None


class RunComparison(BaseModel):
    """Two runs step by step, as ``lineagelog diff RUN_A RUN_B --json`` prints them."""

    kind: Literal["runs"]
    old: ComparedRun
    new: ComparedRun
    same: bool
    parameters: list[IngredientChange]
    steps: list[StepComparison]


class ValueChange(BaseModel):
    """Where two values differ (a JSON path), with both sides shown."""

    path: str
    old: str | None
    new: str | None


class ValueDifference(BaseModel):
    """How two values differ: by ``values``, by ``metadata`` or only by ``content hash``."""

    how: str
    changes: list[ValueChange]
    more: int = Field(description="further changes not listed")
    note: str | None


class RootCause(BaseModel):
    """An upstream-most place where the two histories diverge, with its path down to both."""

    kind: str
    step: str | None
    description: str
    old: Any
    new: Any
    code: CodeChange | None
    path: list[str] = Field(description="labels of the aligned nodes from the cause down")
    path_keys: list[str] = Field(description="the same nodes by key (``nodes[].key``)")
    consequences: list[str]


class AlignedNode(BaseModel):
    """A node of the aligned histories: an artifact version or step run and its counterpart."""

    key: str
    kind: Literal["artifact", "step"]
    old_id: str | None
    new_id: str | None
    label: str
    differs: bool


class AlignedEdge(BaseModel):
    """An edge of the aligned histories, by node keys."""

    src: str
    dst: str
    kind: Literal["consumed", "produced"]


class ArtifactComparison(BaseModel):
    """Two versions traced to their root causes, as ``lineagelog diff A B --json`` prints them."""

    kind: Literal["artifacts"]
    old: ComparedVersion
    new: ComparedVersion
    same_content: bool
    value: ValueDifference | None
    root_causes: list[RootCause]
    nodes: list[AlignedNode]
    edges: list[AlignedEdge]
