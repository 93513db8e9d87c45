"""The post-execution views users hold: runs, step runs and artifact versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.projections.records import ArtifactVersionRecord, RunRecord, StepRunRecord

if TYPE_CHECKING:
    from lineagelog.api.context import LineageContext

__all__ = ["ArtifactVersion", "Run", "StepRun"]


@dataclass(frozen=True, repr=False)
class ArtifactVersion:
    """One version of a named artifact; ``load()`` reads its value back."""

    id: UUID
    name: str
    version: int
    uri: str
    data_type: str
    materializer: str
    artifact_type: str
    content_hash: str
    size: int
    metadata: dict[str, Any]
    visualizations: list[dict[str, str]]
    producer_step_run_id: UUID | None
    created_at: datetime
    tags: tuple[str, ...]
    deleted: bool
    position: int
    _context: LineageContext = field(compare=False)

    @classmethod
    def from_record(cls, context: LineageContext, r: ArtifactVersionRecord) -> ArtifactVersion:
        """Wrap a catalog record."""
        return cls(
            id=UUID(r.id),
            name=r.name,
            version=r.version,
            uri=r.uri,
            data_type=r.data_type,
            materializer=r.materializer,
            artifact_type=r.artifact_type,
            content_hash=r.content_hash,
            size=r.size,
            metadata=r.metadata,
            visualizations=r.visualizations,
            producer_step_run_id=UUID(r.producer_step_run_id) if r.producer_step_run_id else None,
            created_at=r.created_at,
            tags=r.tags,
            deleted=r.deleted,
            position=r.position,
            _context=context,
        )

    def load(self, *, allow_pickle: bool = False, verify: bool = False) -> Any:
        """Load the value with the materializer and data type recorded at write time.

        ``verify=True`` first hashes the stored bytes and raises ``IntegrityError``
        when they no longer match the recorded content hash.
        """
        from lineagelog.api.artifacts import load_artifact_version

        return load_artifact_version(self._context, self, allow_pickle=allow_pickle, verify=verify)

    def visualize(self) -> None:
        """Show the visualizations: through IPython's display in Jupyter, else print their paths."""
        from lineagelog.api.visualize import visualize

        visualize(
            self._context.artifacts,
            self.visualizations,
            label=f"{self.name}:{self.version}",
            deleted=self.deleted,
        )

    def __repr__(self) -> str:
        short_hash = self.content_hash[:12]
        return f"ArtifactVersion({self.name}:{self.version}, id={self.id}, hash={short_hash})"


@dataclass(frozen=True, repr=False)
class StepRun:
    """One step execution, with its cache decision, inputs and outputs."""

    id: UUID
    run_id: UUID
    name: str
    step_name: str
    status: str
    source_ref: str
    code_hash: str
    cache_key: str | None
    cache_hit: bool
    cache_outcome: str | None
    cache_reason: str | None
    original_step_run_id: UUID | None
    parameters: dict[str, Any]
    inputs: Mapping[str, ArtifactVersion]
    outputs: Mapping[str, ArtifactVersion]
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    error_type: str | None
    error_message: str | None
    traceback: str | None

    @classmethod
    def from_record(cls, r: StepRunRecord, versions: Mapping[str, ArtifactVersion]) -> StepRun:
        """Wrap a step-run record, resolving its input and output artifact versions."""
        return cls(
            id=UUID(r.id),
            run_id=UUID(r.run_id),
            name=r.name,
            step_name=r.step_name,
            status=r.status,
            source_ref=r.source_ref,
            code_hash=r.code_hash,
            cache_key=r.cache_key,
            cache_hit=r.cache_hit,
            cache_outcome=r.cache_outcome,
            cache_reason=r.cache_reason,
            original_step_run_id=UUID(r.original_step_run_id) if r.original_step_run_id else None,
            parameters=r.parameters,
            inputs={k: versions[v] for k, v in r.inputs.items() if v in versions},
            outputs={k: versions[v] for k, v in sorted(r.outputs.items()) if v in versions},
            started_at=r.started_at,
            ended_at=r.ended_at,
            duration_s=r.duration_s,
            error_type=r.error_type,
            error_message=r.error_message,
            traceback=r.traceback,
        )

    def __repr__(self) -> str:
        return f"StepRun({self.name}, {self.status}, id={self.id})"


@dataclass(frozen=True, repr=False)
class Run:
    """A pipeline run; ``steps`` maps invocation ids (``total``, ``total_2``) to step runs."""

    id: UUID
    pipeline_name: str
    run_name: str
    status: str
    parameters: dict[str, Any]
    dag: dict[str, Any]
    environment: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None
    failed_step: str | None
    error: str | None
    steps: Mapping[str, StepRun]

    @classmethod
    def from_record(cls, context: LineageContext, r: RunRecord, as_of: int | None = None) -> Run:
        """Wrap a run record, fetching every artifact version its steps touch in one go."""
        records = context.queries.artifact_versions_of_runs([r.id], as_of=as_of)
        versions = {k: ArtifactVersion.from_record(context, v) for k, v in records.items()}
        return cls(
            id=UUID(r.id),
            pipeline_name=r.pipeline,
            run_name=r.run_name,
            status=r.status,
            parameters=r.parameters,
            dag=r.dag,
            environment=r.environment,
            started_at=r.started_at,
            ended_at=r.ended_at,
            failed_step=r.failed_step,
            error=r.error,
            steps={name: StepRun.from_record(s, versions) for name, s in r.steps.items()},
        )

    def __repr__(self) -> str:
        return f"Run({self.pipeline_name}, {self.status}, id={self.id}, steps={len(self.steps)})"
