"""The post-execution views users hold: pipelines, runs, step runs, artifacts and versions.

Names follow ZenML's client models (``PipelineResponse``, ``PipelineRunResponse``,
``StepRunResponse``, ``ArtifactResponse``, ``ArtifactVersionResponse``). One
difference is kept on purpose: ``StepRun.outputs`` maps each output name to its
one artifact version (ZenML's older shape, and what its documentation's prose
shows), not to a list of versions, because a step run writes exactly one
version per output here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar
from uuid import UUID

from lineagelog.api.run_config import RunConfig, StepConfig
from lineagelog.domain.artifact_name import describe_deletion
from lineagelog.domain.errors import (
    AmbiguousReferenceError,
    ArtifactNotFoundError,
    RunNotFoundError,
    StorageError,
)
from lineagelog.projections.records import (
    ArtifactVersionRecord,
    AttemptRecord,
    PipelineRecord,
    RunRecord,
    StepRunRecord,
)

if TYPE_CHECKING:
    import os

    from _typeshed import DataclassInstance

    from lineagelog.api.client import Client
    from lineagelog.api.context import LineageContext

__all__ = ["Artifact", "ArtifactVersion", "PipelineModel", "Run", "StepRun"]


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
    user_metadata: dict[str, Any]
    """Metadata given when the version was written: ``ArtifactConfig(run_metadata=...)``,
    ``save_artifact(user_metadata=...)``; part of ``run_metadata``."""
    producer_step_run_id: UUID | None
    created_at: datetime
    tags: tuple[str, ...]
    deleted: bool
    position: int
    deleted_at: datetime | None
    """When the version was deleted (None while it is not)."""
    deleted_reason: str | None
    """Why, as given to ``delete_artifact_version(reason=)`` (None while it is not deleted)."""
    _context: LineageContext = field(compare=False)
    _as_of: int | None = field(default=None, compare=False)
    _passes_as_step_input: ClassVar[bool] = True  # a pipeline call may pass it to a step

    @classmethod
    def from_record(
        cls, context: LineageContext, r: ArtifactVersionRecord, as_of: int | None = None
    ) -> Self:
        """Wrap a catalog record read as of log position ``as_of`` (None: now)."""
        return _built(
            cls,
            r,
            id=UUID(r.id),
            uri=_full_uri(context, r.uri),
            visualizations=[
                {**v, "uri": _full_uri(context, v["uri"])}
                if isinstance(v, dict) and "uri" in v
                else v
                for v in r.visualizations
            ],
            producer_step_run_id=UUID(r.producer_step_run_id) if r.producer_step_run_id else None,
            user_metadata=r.run_metadata,
            _context=context,
            _as_of=as_of,
        )

    @property
    def run_metadata(self) -> dict[str, Any]:
        """ZenML's ``run_metadata``: extracted, then given at write time, then logged.

        The materializer's metadata comes first, then ``user_metadata``, then what
        was logged on this version (``log_metadata``, ``log_artifact_metadata``) in
        log order, so the latest value of a key wins; a version read as of a past
        position shows what was logged by then.
        """
        if self._as_of is None:
            self._context.catch_up()
        logged = self._context.queries.logged_metadata([str(self.id)], as_of=self._as_of)
        return {**self.metadata, **self.user_metadata, **logged.get(str(self.id), {})}

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

    def download_files(self, path: str | os.PathLike[str], overwrite: bool = False) -> None:
        """Write the version's stored files, unmaterialized, into the zip file ``path``.

        As in ZenML: ``path`` must end with ``.zip`` and an existing file is
        replaced only with ``overwrite=True``. Every file of the version goes in,
        with its path relative to the version's folder; the URI comes from the log.

        Raises:
            DownloadPathError: ``path`` does not end with ``.zip``.
            DownloadTargetExistsError: ``path`` exists and ``overwrite`` is False.
            ArtifactNotFoundError: the version was deleted, or its bytes are gone.

        """
        from lineagelog.api.download import download_files

        download_files(self._context, self, path, overwrite=overwrite)

    @property
    def deletion(self) -> str | None:
        """``deleted at <time>: <reason>`` for a deleted version, None for a live one."""
        if not self.deleted:
            return None
        return describe_deletion(self.deleted_at, self.deleted_reason)

    def __repr__(self) -> str:
        short_hash = self.content_hash[:12]
        deleted = f", {self.deletion}" if self.deleted else ""
        return (
            f"ArtifactVersion({self.name}:{self.version}, id={self.id}, hash={short_hash}{deleted})"
        )


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
    config: StepConfig
    run_metadata: dict[str, Any]
    """ZenML's name: the metadata logged on this step run, merged in log order."""
    attempts: tuple[AttemptRecord, ...]
    """Where its body ran on an executor's workers, attempt by attempt (none in the driver)."""
    executor: str | None
    """Where its body runs: ``local`` (the driver) or an executor's name (``dask local``);
    None for step runs recorded before the log said it."""
    started_worker: str | None
    """The worker its ``StepStarted`` names: the driver process (``host (pid N)``) for a
    local step; None for a step sent to an executor, whose workers are in ``attempts``."""

    @property
    def worker(self) -> str | None:
        """Where the step ran: its last attempt's worker, else the driver process it started in.

        None for a step sent to an executor that no worker began (a cache hit, or
        one never started), and for step runs recorded before the log said it.
        """
        return self.attempts[-1].worker if self.attempts else self.started_worker

    @classmethod
    def from_record(
        cls,
        r: StepRunRecord,
        versions: Mapping[str, ArtifactVersion],
        spec: Mapping[str, Any] | None = None,
        *,
        run_metadata: Mapping[str, Any],
    ) -> StepRun:
        """Wrap a step-run record, resolving its artifact versions, with its logged metadata.

        ``spec`` is the step's entry in its run's DAG spec, for ``config``.
        """
        return _built(
            cls,
            r,
            run_metadata=dict(run_metadata),
            id=UUID(r.id),
            run_id=UUID(r.run_id),
            cache_hit=r.cache_hit,
            original_step_run_id=UUID(r.original_step_run_id) if r.original_step_run_id else None,
            inputs={k: versions[v] for k, v in r.inputs.items() if v in versions},
            outputs={k: versions[v] for k, v in sorted(r.outputs.items()) if v in versions},
            config=StepConfig.recorded(r.step_name, r.parameters, spec),
        )

    @property
    def output(self) -> ArtifactVersion:
        """The step's single output (ZenML's ``step.output``).

        Raises:
            ArtifactNotFoundError: the step has no output.
            AmbiguousReferenceError: it has several; use ``outputs[name]``.

        """
        return _single(self, "output", self.outputs)

    @property
    def input(self) -> ArtifactVersion:
        """The step's single input (ZenML's ``step.input``); errors as ``output``."""
        return _single(self, "input", self.inputs)

    @property
    def start_time(self) -> datetime:
        """When the step run started (ZenML's name for ``started_at``)."""
        return self.started_at

    @property
    def end_time(self) -> datetime | None:
        """When the step run ended (ZenML's name for ``ended_at``)."""
        return self.ended_at

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
    tags: tuple[str, ...]
    _context: LineageContext = field(compare=False)
    _as_of: int | None = field(compare=False)
    run_metadata: dict[str, Any]
    """ZenML's name: the metadata logged on the run, then each step's as ``step::key``."""

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
        versions = {k: ArtifactVersion.from_record(context, v, as_of) for k, v in records.items()}
        logged = context.queries.logged_metadata(
            [r.id, *(s.id for s in r.steps.values())], as_of=as_of
        )
        run_metadata = dict(logged.get(r.id, {}))
        for name, s in r.steps.items():  # as ZenML shows a run's metadata
            run_metadata.update({f"{name}::{k}": v for k, v in logged.get(s.id, {}).items()})
        specs = r.dag.get("steps", {})
        return _built(
            cls,
            r,
            id=UUID(r.id),
            pipeline_name=r.pipeline,
            run_metadata=run_metadata,
            steps={
                name: StepRun.from_record(
                    s, versions, specs.get(name), run_metadata=logged.get(s.id, {})
                )
                for name, s in r.steps.items()
            },
            _context=context,
            _as_of=as_of,
        )

    @property
    def config(self) -> RunConfig:
        """The run's configuration as recorded (ZenML's ``run.config``)."""
        return RunConfig.recorded(self.pipeline_name, self.run_name, self.parameters, self.dag)

    @property
    def pipeline(self) -> PipelineModel:
        """The pipeline this run belongs to, read as of the same moment as the run."""
        from lineagelog.api.client import Client

        return Client(_context=self._context, _as_of=self._as_of).get_pipeline(self.pipeline_name)

    def __repr__(self) -> str:
        return f"Run({self.pipeline_name}, {self.status}, id={self.id}, steps={len(self.steps)})"


@dataclass(frozen=True, repr=False)
class PipelineModel:
    """A pipeline, known by its runs (ZenML's ``PipelineResponse``).

    ``created`` is when its first run started, ``updated`` when its latest run
    started or ended. ``runs`` and ``last_run`` read the runs when asked.
    """

    name: str
    num_runs: int
    created: datetime
    updated: datetime
    latest_run_id: UUID
    latest_run_status: str
    _client: Client = field(compare=False)

    @classmethod
    def from_record(cls, client: Client, r: PipelineRecord) -> PipelineModel:
        """Wrap a pipeline record; its runs are read through ``client``."""
        return _built(cls, r, latest_run_id=UUID(r.latest_run_id), _client=client)

    def get_runs(self, status: str | None = None, limit: int | None = None) -> list[Run]:
        """This pipeline's runs, newest first, optionally with one status, at most ``limit``."""
        return self._client.list_runs(pipeline=self.name, status=status, limit=limit)

    @property
    def runs(self) -> list[Run]:
        """Every run of this pipeline, newest first (``runs[0]`` is ``last_run``)."""
        return self.get_runs()

    @property
    def last_run(self) -> Run:
        """The newest run, whatever its status."""
        runs = self.get_runs(limit=1)
        if not runs:
            raise RunNotFoundError(f"pipeline {self.name!r} has no runs")
        return runs[0]

    @property
    def last_successful_run(self) -> Run:
        """The newest run that completed (a fully cached run completed too).

        Raises:
            RunNotFoundError: no run of this pipeline completed.

        """
        done = [r for status in ("completed", "cached") for r in self.get_runs(status, limit=1)]
        if not done:
            raise RunNotFoundError(
                f"pipeline {self.name!r} has no completed run; see its runs with "
                f"`lineagelog runs list --pipeline {self.name}`"
            )
        return max(done, key=lambda r: r.started_at)

    def __repr__(self) -> str:
        return f"Pipeline({self.name}, runs={self.num_runs}, last={self.latest_run_status})"


@dataclass(frozen=True, repr=False)
class Artifact:
    """A named artifact with all its versions (ZenML's ``ArtifactResponse``).

    ``id`` is the id of the name's stream in the log; ``latest_version_name``
    and ``latest_version_id`` describe the version registered last.
    """

    id: UUID
    name: str
    latest_version_name: str
    latest_version_id: UUID
    _client: Client = field(compare=False)

    @classmethod
    def from_latest(cls, client: Client, latest: ArtifactVersionRecord) -> Artifact:
        """The artifact whose latest version is ``latest``."""
        from lineagelog.domain.names import artifact_name_id

        return cls(
            id=artifact_name_id(latest.name),
            name=latest.name,
            latest_version_name=str(latest.version),
            latest_version_id=UUID(latest.id),
            _client=client,
        )

    @property
    def versions(self) -> dict[str, ArtifactVersion]:
        """Every version by its version name (``"1"``, ``"2"``...), oldest first."""
        return {str(v.version): v for v in self._client.list_artifact_versions(name=self.name)}

    def __repr__(self) -> str:
        return f"Artifact({self.name}, latest={self.latest_version_name})"


def _single(step: StepRun, what: str, found: Mapping[str, ArtifactVersion]) -> ArtifactVersion:
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise ArtifactNotFoundError(f"step run {step.name!r} has no {what}s")
    names = ", ".join(sorted(found))
    raise AmbiguousReferenceError(
        f"step run {step.name!r} has {len(found)} {what}s ({names}), so `{what}` is ambiguous; "
        f"take one by name: {what}s[{sorted(found)[0]!r}]",
        candidates=tuple(sorted(found)),
    )


M = TypeVar("M", bound="DataclassInstance")


def _full_uri(context: LineageContext, recorded: Any) -> Any:
    """The full URL of a recorded URI in the configured store; as recorded when it leads out."""
    try:
        return context.artifacts.full_uri(recorded)
    except StorageError:
        return recorded  # shown, never used: loading reads the log and locates again


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
