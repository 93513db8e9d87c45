"""What queries return: plain, frozen records read from the views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ArtifactVersionRecord",
    "AttemptRecord",
    "CachedExecution",
    "PipelineRecord",
    "RunRecord",
    "StepRunRecord",
    "TagRecord",
]


@dataclass(frozen=True)
class ArtifactVersionRecord:
    """One version of a named artifact, as the catalog view knows it."""

    id: str
    name: str
    version: str
    number: int
    uri: str
    materializer: str
    data_type: str
    artifact_type: str
    content_hash: str
    size: int
    metadata: dict[str, Any]
    visualizations: list[dict[str, str]]
    run_metadata: dict[str, Any]
    producer_step_run_id: str | None
    output_name: str | None
    created_at: datetime
    position: int
    deleted: bool = False
    tags: tuple[str, ...] = ()
    deleted_at: datetime | None = None
    deleted_reason: str | None = None


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt at a step's body on a worker of an executor."""

    attempt: int
    worker: str
    executor: str
    started_at: datetime


@dataclass(frozen=True)
class StepRunRecord:
    """One step execution: status, cache outcome and reason, inputs and outputs.

    ``ingredients`` is filled by ``get_step_run`` only (it is the largest column);
    listings leave it None.
    """

    id: str
    run_id: str
    pipeline: str
    name: str
    step_name: str
    source_ref: str
    code_hash: str
    status: str
    parameters: dict[str, Any]
    inputs: dict[str, str]
    outputs: dict[str, str]
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    cache_key: str | None
    cache_outcome: str | None
    cache_reason: str | None
    ingredients: dict[str, Any] | None
    original_step_run_id: str | None
    error_type: str | None
    error_message: str | None
    traceback: str | None
    started_pos: int
    attempts: tuple[AttemptRecord, ...] = ()
    """Where the body ran, attempt by attempt (steps sent to a cluster; none in this process)."""
    executor: str | None = None
    """Where the body runs, as ``StepStarted`` says: ``local`` or an executor's name."""
    started_worker: str | None = None
    """The worker ``StepStarted`` names: the driver process for ``local``, the worker an
    executor placed the step on, or None (a cache hit; an engine that places steps itself)."""

    @property
    def worker(self) -> str | None:
        """The last attempt's worker; else the one the step started on (the driver, locally).

        None for a step sent to a cluster that no worker began, and for step runs
        recorded before ``StepStarted`` said where it runs.
        """
        return self.attempts[-1].worker if self.attempts else self.started_worker

    @property
    def cache_hit(self) -> bool:
        """Whether the step was served from cache."""
        return self.cache_outcome == "hit"


@dataclass(frozen=True)
class RunRecord:
    """A pipeline run and its step runs (by invocation id)."""

    id: str
    pipeline: str
    run_name: str
    status: str
    parameters: dict[str, Any]
    dag: dict[str, Any]
    environment: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None
    failed_step: str | None
    error: str | None
    started_pos: int
    steps: dict[str, StepRunRecord] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CachedExecution:
    """A succeeded execution the cache can serve, and its outputs."""

    step_run_id: str
    run_id: str
    outputs: dict[str, ArtifactVersionRecord]


@dataclass(frozen=True)
class TagRecord:
    """A tag, as first used or created: whether it is exclusive."""

    name: str
    exclusive: bool
    created_at: datetime
    position: int


@dataclass(frozen=True)
class PipelineRecord:
    """A pipeline as its runs know it: pipelines are not recorded apart from their runs.

    ``created`` is when its first run started, ``updated`` when its latest run
    started or ended; ``latest_run_id`` and ``latest_run_status`` describe the
    newest run (by log position).
    """

    name: str
    num_runs: int
    created: datetime
    updated: datetime
    latest_run_id: str
    latest_run_status: str
