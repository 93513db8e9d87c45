"""Response models of the lineage server: the shapes of the CLI's ``--json``, in pydantic.

The values are built by ``lineagelog.api.json_shapes`` (the CLI prints the same
dicts); these models document them in the OpenAPI page and check them on the
way out.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

__all__ = [
    "ArtifactName",
    "ArtifactRef",
    "CacheExplanation",
    "Event",
    "Health",
    "History",
    "IngredientRow",
    "Lineage",
    "LineageEdge",
    "LineageNode",
    "Page",
    "Problem",
    "RunDetail",
    "RunSummary",
    "StepDetail",
    "StepRef",
    "VersionDetail",
    "VersionSummary",
]

T = TypeVar("T")

Time = str
"""A moment as ISO 8601 text, written as the CLI's ``--json`` writes it."""


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items``, where it starts, and where the next page starts."""

    items: list[T]
    offset: int
    limit: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")


class Problem(BaseModel):
    """An error: one message naming the bad value and what to do."""

    error: str = Field(description="the kind of error (its class name)")
    message: str
    parameter: str | None = None


class Health(BaseModel):
    """The server is up; ``position`` is the end of the log."""

    status: str
    position: int


class History(BaseModel):
    """The span of the log, for an "as of" control: first and last positions and times."""

    first_position: int
    last_position: int
    first_time: Time | None
    last_time: Time | None


class ArtifactRef(BaseModel):
    """An artifact version named by id, name and version."""

    id: str
    name: str
    version: str


class RunSummary(BaseModel):
    """A run as ``lineagelog runs list --json`` prints it."""

    id: str
    pipeline: str
    run_name: str
    status: str
    started_at: Time
    ended_at: Time | None
    duration_s: float | None
    steps: int
    cached_steps: int
    parameters: dict[str, Any]
    failed_step: str | None
    error: str | None
    tags: list[str]


class Attempt(BaseModel):
    """One start of a step run on an executor's worker."""

    attempt: int
    worker: str
    executor: str
    started_at: Time | None = Field(default=None, description="when the driver heard of it")


class StepDetail(BaseModel):
    """A step run as ``lineagelog runs show --json`` lists it."""

    id: str
    invocation: str
    step: str
    status: str
    started_at: Time | None
    ended_at: Time | None
    duration_s: float | None
    cache_outcome: str | None
    cache_reason: str | None
    cache_key: str | None
    original_step_run_id: str | None
    parameters: dict[str, Any]
    inputs: dict[str, ArtifactRef]
    outputs: dict[str, ArtifactRef]
    error_type: str | None
    error_message: str | None
    executor: str | None = Field(
        default=None,
        description="where its body runs: 'local' (the driver) or an executor's name "
        "(None: recorded before the log said it)",
    )
    worker: str | None = Field(
        default=None,
        description="where it ran: the last attempt's worker on an executor, else the "
        "driver's process ('host (pid N)'); None: not started on a worker, or not recorded",
    )
    attempts: list[Attempt] = Field(
        default_factory=list, description="each start on a worker (more than one: a worker died)"
    )


class RunDetail(RunSummary):
    """A run with its steps, as ``lineagelog runs show --json`` prints it."""

    environment: dict[str, Any] = Field(
        description="where the steps ran: host, python, platform, pid, package versions"
    )
    steps: list[StepDetail]  # type: ignore[assignment]  # the CLI's shape: a count in lists


class ArtifactName(BaseModel):
    """An artifact name with its version count, as ``lineagelog artifacts list --json``."""

    name: str
    versions: int
    latest: int


class VersionSummary(BaseModel):
    """An artifact version as ``lineagelog artifacts list NAME --json`` prints it."""

    id: str
    name: str
    version: str
    number: int
    data_type: str
    size: int
    content_hash: str
    created_at: Time
    tags: list[str]
    deleted: bool
    deleted_at: Time | None = None
    deleted_reason: str | None = None


class StepRef(BaseModel):
    """A step run named by id, invocation and run."""

    step_run_id: str
    step: str
    run_id: str


class VersionDetail(VersionSummary):
    """An artifact version as ``lineagelog artifacts show --json`` prints it."""

    uri: str
    materializer: str
    artifact_type: str
    producer: StepRef | None
    consumers: list[StepRef]
    metadata: dict[str, Any]
    visualizations: list[dict[str, str]]


class IngredientRow(BaseModel):
    """One ingredient of a cache key beside the execution it was compared with."""

    ingredient: str
    this: Any
    compared: Any
    same: bool


class CacheExplanation(BaseModel):
    """A cache decision as ``lineagelog cache explain --json`` prints it."""

    step_run_id: str
    run_id: str
    step: str
    pipeline: str
    outcome: str | None
    reason: str | None
    cache_key: str | None
    compared_with: str | None
    ingredients: list[IngredientRow]


class LineageNode(BaseModel):
    """A node of a lineage graph (see ``LineageGraph.to_dict``)."""

    id: str
    kind: str
    label: str
    attributes: dict[str, Any]
    position: int
    created_at: Time
    depth: int | None


class LineageEdge(BaseModel):
    """An edge of a lineage graph; ``src`` is upstream of ``dst``."""

    src: str
    dst: str
    kind: str
    position: int
    created_at: Time


class Lineage(BaseModel):
    """A lineage graph as ``lineagelog lineage --format json``, capped at ``max_nodes``.

    ``truncated`` says the walk reached more nodes (``total_nodes``) than the
    answer holds; the nodes kept are those nearest the root.
    """

    root: str
    as_of: int | None
    direction: str
    depth: int | None
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: bool
    total_nodes: int
    max_nodes: int


class Event(BaseModel):
    """An event of the log as ``lineagelog events tail --json`` prints it."""

    position: int
    stream_id: str
    stream_version: int
    type: str
    payload: dict[str, Any]
