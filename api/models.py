"""The post-execution views users hold: runs, step runs and artifact versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import UUID

from lineagelog.projections.records import ArtifactVersionRecord, RunRecord, StepRunRecord

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from lineagelog.api.context import LineageContext

__all__ = ["ArtifactVersion", "Run", "StepRun"]


@dataclass(frozen=True, repr=False)
class ArtifactVersion:
    """One version of a named artifact; ``load()`` reads its value back.

    ``version`` is its name as in ZenML: ``"1"``, ``"2"``... by default, or a name
    chosen with ``ArtifactConfig(version=)`` / ``save_artifact(version=)``;
    ``number`` is its place in the artifact's sequence (1, 2, 3...), given
    whatever its name. ``run_metadata`` is what the user recorded with it.
    """

    id: UUID
    name: str
    version: str
    number: int
    uri: str
    data_type: str
    materializer: str
    artifact_type: str
    content_hash: str
    size: int
    metadata: dict[str, Any]
    visualizations: list[dict[str, str]]
    run_metadata: dict[str, Any]
    producer_step_run_id: UUID | None
    created_at: datetime
    tags: tuple[str, ...]
    deleted: bool
    position: int
    _context: LineageContext = field(compare=False)
    _passes_as_step_input: ClassVar[bool] = True  # a pipeline call may pass it to a step

    @classmethod
    def from_record(cls, context: LineageContext, r: ArtifactVersionRecord) -> ArtifactVersion:
        """Wrap a catalog record."""
        return _built(
            cls,
            r,
            id=UUID(r.id),
            producer_step_run_id=UUID(r.producer_step_run_id) if r.producer_step_run_id else None,
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
        return _built(
            cls,
            r,
            id=UUID(r.id),
            run_id=UUID(r.run_id),
            cache_hit=r.cache_hit,
            original_step_run_id=UUID(r.original_step_run_id) if r.original_step_run_id else None,
            inputs={k: versions[v] for k, v in r.inputs.items() if v in versions},
            outputs={k: versions[v] for k, v in sorted(r.outputs.items()) if v in versions},
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
        """Wrap a run record, fetching every artifact version its steps touch.

        Outputs of the run's steps come in one query; inputs from outside the run
        (an ``ExternalArtifact`` or an ``ArtifactVersion`` passed in) in a second.
        """
        records = context.queries.artifact_versions_of_runs([r.id], as_of=as_of)
        outside = sorted({v for s in r.steps.values() for v in s.inputs.values()} - set(records))
        if outside:
            records |= context.queries.artifact_versions_by_id(outside, as_of)
        versions = {k: ArtifactVersion.from_record(context, v) for k, v in records.items()}
        return _built(
            cls,
            r,
            id=UUID(r.id),
            pipeline_name=r.pipeline,
            steps={name: StepRun.from_record(s, versions) for name, s in r.steps.items()},
        )

    def __repr__(self) -> str:
        return f"Run({self.pipeline_name}, {self.status}, id={self.id}, steps={len(self.steps)})"


M = TypeVar("M", bound="DataclassInstance")


def _built(model: type[M], record: Any, **converted: Any) -> M:
    """``model`` from ``converted`` and, for every other field, the record's same-named value.

    Records and models share most fields; copying those by name leaves each
    ``from_record`` with only what it converts (ids to UUIDs, ids to the
    objects they name, renamed fields).
    """
    names = {f.name for f in fields(model)}
    copied = {
        f.name: getattr(record, f.name)
        for f in fields(record)
        if f.name in names and f.name not in converted
    }
    return model(**copied, **converted)
