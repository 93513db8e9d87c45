"""The ``StepRun`` aggregate: one stream per step execution.

A stream per execution lets the steps of one run execute in parallel, on
different machines, without contending for one stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from lineagelog.domain.base import GENESIS_HASH, LineageAggregate
from lineagelog.domain.errors import StepRunStateError
from lineagelog.domain.metadata import checked_metadata
from lineagelog.domain.values import CacheOutcome, StepStatus

__all__ = ["StepRun", "StepRunStateError"]


class StepRun(LineageAggregate):
    """One execution of one step invocation inside a pipeline run."""

    class Event(LineageAggregate.Event):
        """Base of the events of ``StepRun``.

        Its events derive from it as written: eventsourcing would otherwise redefine each
        one under a base of its own making, a second dataclass per event class at import.
        """

    class StepStarted(LineageAggregate.Created, Event):
        """A step invocation started, with its code, parameters and inputs, and where it runs.

        ``executor`` is where its body runs: ``local`` (the driver's own process) or
        an executor's name (``dask tcp://10.0.0.5:8786``). ``worker`` is the process
        that runs it: the driver's (``host (pid N)``) for ``local``; on a cluster, the
        worker the executor placed it on (``tcp://10.0.0.7:40123``), or None when the
        executor lets its engine place steps or a cache hit serves the step (a hit
        runs nowhere). Each attempt's actual worker is in an ``AttemptStarted``: a
        worker that dies moves the step to another. Events recorded before these fields existed read
        None (and their hashes, which never held them, are unchanged).
        """

        run_id: UUID
        pipeline: str
        invocation_id: str
        step_name: str
        source_ref: str
        code_hash: str
        parameters: dict[str, Any]
        inputs: dict[str, str]  # input name -> artifact version id
        executor: str | None = None
        worker: str | None = None

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.run_id = self.run_id
            aggregate.invocation_id = self.invocation_id
            aggregate.status = StepStatus.RUNNING
            aggregate.cache_outcome = None
            aggregate.outputs = {}
            aggregate.attempts = 0

    class CacheDecided(Event):
        """The cache decided hit, miss or disabled, and said why."""

        cache_key: str
        outcome: str
        reason: str
        ingredients: dict[str, Any]
        original_step_run_id: UUID | None
        reused_outputs: dict[str, str]  # output name -> artifact version id (hits only)

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.cache_outcome = CacheOutcome(self.outcome)
            if aggregate.cache_outcome is CacheOutcome.HIT:
                aggregate.outputs = dict(self.reused_outputs)

    class ArtifactWritten(Event):
        """An output's bytes were written and hashed, and got a version number.

        ``version_name`` is the version's name (its number as text unless one was
        chosen); ``run_metadata`` is metadata the step recorded with it;
        ``save_type`` is ``"step_output"`` for a declared output, ``"manual"`` for
        an artifact the step body saved with ``save_artifact``. Events recorded
        before these existed read None.
        """

        output_name: str
        artifact_version_id: UUID
        name: str
        version: int
        uri: str
        materializer: str
        data_type: str
        artifact_type: str
        content_hash: str
        size: int
        metadata: dict[str, Any]
        visualizations: list[dict[str, str]]
        version_name: str | None = None
        run_metadata: dict[str, Any] | None = None
        save_type: str | None = None

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.outputs[self.output_name] = str(self.artifact_version_id)

    class AttemptStarted(Event):
        """The step's body began on a worker of an executor (``attempt`` counts from 1).

        A step sent to a cluster records one per attempt: a worker that died mid-step
        shows as an attempt followed by another on a different worker.
        """

        attempt: int
        worker: str
        executor: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.attempts = self.attempt

    class StepSucceeded(Event):
        """The step finished: executed (``cached`` false) or served from cache."""

        duration_s: float
        cached: bool

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.status = StepStatus.CACHED if self.cached else StepStatus.COMPLETED

    class StepFailed(Event):
        """The step raised."""

        error_type: str
        message: str
        traceback: str
        duration_s: float

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.status = StepStatus.FAILED

    class StepInterrupted(Event):
        """The process running the step vanished; recorded by recovery, never guessed."""

        reason: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.status = StepStatus.INTERRUPTED

    class StepMetadataLogged(Event):
        """Metadata was logged on this step run (while it ran, or after it ended)."""

        metadata: dict[str, Any]
        types: dict[str, str]  # key -> metadata type name (``lineagelog.domain.metadata``)

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            pass  # metadata changes no state a command checks

    if TYPE_CHECKING:
        run_id: UUID
        invocation_id: str
        status: StepStatus
        cache_outcome: CacheOutcome | None
        outputs: dict[str, str]
        attempts: int

    @classmethod
    def start(
        cls,
        *,
        run_id: UUID,
        pipeline: str,
        invocation_id: str,
        step_name: str,
        source_ref: str,
        code_hash: str,
        parameters: dict[str, Any],
        inputs: dict[str, str],
        step_run_id: UUID | None = None,
        executor: str | None = None,
        worker: str | None = None,
    ) -> StepRun:
        """Start a step run (emits ``StepStarted``) to run on ``executor`` (on ``worker``)."""
        return cls._create(
            cls.StepStarted,
            id=step_run_id or uuid4(),
            previous_hash=GENESIS_HASH,
            run_id=run_id,
            pipeline=pipeline,
            invocation_id=invocation_id,
            step_name=step_name,
            source_ref=source_ref,
            code_hash=code_hash,
            parameters=parameters,
            inputs=inputs,
            executor=executor,
            worker=worker,
        )

    def decide_cache(
        self,
        *,
        cache_key: str,
        outcome: CacheOutcome,
        reason: str,
        ingredients: dict[str, Any],
        original_step_run_id: UUID | None = None,
        reused_outputs: dict[str, str] | None = None,
    ) -> None:
        """Record the cache decision (emits ``CacheDecided``)."""
        self.check_running("decide the cache")
        if self.cache_outcome is not None:
            raise StepRunStateError(f"step run {self.id} already has a cache decision")
        if outcome is CacheOutcome.HIT and original_step_run_id is None:
            raise StepRunStateError("a cache hit must name the original step run")
        self.trigger_event(
            self.CacheDecided,
            cache_key=cache_key,
            outcome=outcome.value,
            reason=reason,
            ingredients=ingredients,
            original_step_run_id=original_step_run_id,
            reused_outputs=dict(reused_outputs or {}),
        )

    def record_artifact(
        self,
        *,
        output_name: str,
        artifact_version_id: UUID,
        name: str,
        version: int,
        uri: str,
        materializer: str,
        data_type: str,
        artifact_type: str,
        content_hash: str,
        size: int,
        metadata: dict[str, Any],
        visualizations: list[dict[str, str]],
        version_name: str | None = None,
        run_metadata: dict[str, Any] | None = None,
        save_type: str = "step_output",
    ) -> None:
        """Record an output written to the store (emits ``ArtifactWritten``)."""
        self.check_running("write an artifact")
        if output_name in self.outputs:
            raise StepRunStateError(
                f"output {output_name!r} of step run {self.id} was already written"
            )
        self.trigger_event(
            self.ArtifactWritten,
            output_name=output_name,
            artifact_version_id=artifact_version_id,
            name=name,
            version=version,
            uri=uri,
            materializer=materializer,
            data_type=data_type,
            artifact_type=artifact_type,
            content_hash=content_hash,
            size=size,
            metadata=metadata,
            visualizations=visualizations,
            version_name=version_name or str(version),
            run_metadata=dict(run_metadata or {}),
            save_type=save_type,
        )

    def start_attempt(self, *, worker: str, executor: str) -> int:
        """Record that the body began on ``worker`` (emits ``AttemptStarted``); its number.

        Raises:
            StepRunStateError: the step run has ended, or was not decided a miss or disabled.
        """
        self.check_running("start an attempt")
        if self.cache_outcome is None or self.cache_outcome is CacheOutcome.HIT:
            raise StepRunStateError(
                f"step run {self.id} ({self.invocation_id}) runs no body: its cache decision "
                f"is {self.cache_outcome}"
            )
        attempt = getattr(self, "attempts", 0) + 1
        self.trigger_event(self.AttemptStarted, attempt=attempt, worker=worker, executor=executor)
        return attempt

    def succeed(self, duration_s: float) -> None:
        """Mark the step run succeeded (emits ``StepSucceeded``)."""
        self.check_running("succeed")
        if self.cache_outcome is None:
            raise StepRunStateError(f"step run {self.id} cannot succeed before its cache decision")
        self.trigger_event(
            self.StepSucceeded,
            duration_s=duration_s,
            cached=self.cache_outcome is CacheOutcome.HIT,
        )

    def fail(self, *, error_type: str, message: str, traceback: str, duration_s: float) -> None:
        """Mark the step run failed (emits ``StepFailed``)."""
        self.check_running("fail")
        self.trigger_event(
            self.StepFailed,
            error_type=error_type,
            message=message,
            traceback=traceback,
            duration_s=duration_s,
        )

    def interrupt(self, reason: str) -> None:
        """Mark a step run whose process is gone as interrupted (emits ``StepInterrupted``)."""
        self.check_running("be interrupted")
        self.trigger_event(self.StepInterrupted, reason=reason)

    def log_metadata(self, metadata: Any) -> None:
        """Record metadata on this step run, whatever its status (emits ``StepMetadataLogged``).

        Raises:
            InvalidMetadataError: ``metadata`` holds a value that is not a metadata type.
        """
        values, types = checked_metadata(metadata)
        self.trigger_event(self.StepMetadataLogged, metadata=values, types=types)

    def check_running(self, action: str) -> None:
        """Raise unless the step run is still running."""
        if self.status is not StepStatus.RUNNING:
            raise StepRunStateError(
                f"step run {self.id} ({self.invocation_id}) cannot {action}: "
                f"it has already ended as {self.status.value!r}"
            )
