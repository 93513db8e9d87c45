"""A run whose step bodies execute on an executor's workers; the driver keeps the log.

The driver walks the DAG: a step whose inputs exist is started and its cache
decided here, as in the local runner, so a hit never reaches the cluster; a miss
is packed (``RemoteStep``) and submitted. Independent steps therefore run at the
same time. A step starts when the executor has a place for it (a worker with a
free thread, which its ``StepStarted`` records); until then it waits, unless the
cache serves it (looked up once, recording nothing otherwise). While they run,
the driver appends what it hears: ``AttemptStarted`` when a worker begins a step
(a worker that died and a retry elsewhere show as two attempts, also when the
worker died before it could say it started), then, when the step returns, its
outputs (``ArtifactWritten``) and ``StepSucceeded``, or ``StepFailed``. An
attempt heard of together with the step's end (a step shorter than the news' way
back) goes in the same append as that end. Each planned output
folder is covered by a write lease held by the driver from submission until its
version is recorded, so ``gc`` never takes bytes whose event is on its way.

After a failure no new step is submitted (``on_failure="stop"``) and the ones
running finish and are recorded; with ``on_failure="continue"`` every step that
does not depend on a failed one still runs.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from lineagelog.adapters.executors import ExecutorTask, TaskFinished, TaskStarted
from lineagelog.adapters.write_leases import write_lease
from lineagelog.api.artifact_config import ArtifactConfig
from lineagelog.api.remote_step import PackedStep, RemoteResult, RemoteStep
from lineagelog.api.step_context import StepContextOutput, plan_outputs
from lineagelog.api.step_failure import StepFailure
from lineagelog.api.unmaterialized import unmaterialized_parameters
from lineagelog.domain.errors import ExecutorError, StepNotSerializableError
from lineagelog.projections.faults import checkpoint

if TYPE_CHECKING:
    from collections.abc import Callable

    from lineagelog.adapters.executors import StepExecutor
    from lineagelog.api.artifacts import ArtifactRecorder, ProducedOutput
    from lineagelog.api.building import DagBuilder, Invocation
    from lineagelog.api.context import LineageContext
    from lineagelog.api.executors import OnFailure
    from lineagelog.domain.step_run import StepRun

__all__ = ["ClusterRun", "RunRecorder", "check_sendable"]


class RunRecorder(Protocol):
    """What a cluster run needs from the runner: its cache decisions and its appends."""

    context: LineageContext
    pipeline: str
    run_name: str
    on_failure: OnFailure
    produced: dict[tuple[str, str], ProducedOutput]

    @property
    def recorder(self) -> ArtifactRecorder:
        """Records the outputs the workers saved."""

    def decide_step(
        self,
        invocation: Invocation,
        run_id: uuid.UUID,
        step_run_id: uuid.UUID,
        started: float,
        worker: str | None = None,
        *,
        only_hit: bool = False,
    ) -> bool | None:
        """Start the step run on ``worker``, record its cache decision; True when a hit served it.

        ``only_hit``: record nothing and return None unless a hit serves it.
        """

    def remember_execution(
        self, invocation: Invocation, run_id: uuid.UUID, step_run_id: uuid.UUID
    ) -> None:
        """Let later steps with the same ingredients hit this execution."""

    def record_step_failure(self, step_run_id: uuid.UUID, failure: StepFailure) -> None:
        """Append the step's ``StepFailed``."""

    def change_step_run(self, step_run_id: uuid.UUID, change: Callable[[StepRun], object]) -> None:
        """Apply ``change`` to a step run of this run and append its events."""


log = logging.getLogger("lineagelog.run")


def check_sendable(executor: StepExecutor, pipeline: str, builder: DagBuilder) -> None:
    """Refuse, before anything is recorded, a step that cannot run on the executor's workers.

    Raises:
        StepNotSerializableError: a step function or parameter that does not serialize,
            or an ``UnmaterializedArtifact`` input (it reads the log, which workers do not).
    """
    checked: set[int] = set()  # a step called fifty times is pickled once
    for invocation in builder.invocations.values():
        label = f"step {invocation.id!r} of pipeline {pipeline!r}"
        reads_log = sorted(unmaterialized_parameters(invocation.step.func) & set(invocation.inputs))
        if reads_log:
            raise StepNotSerializableError(
                f"{label} takes {reads_log} as UnmaterializedArtifact, which reads the log, and "
                "on an executor's workers only the driver does; take the loaded value instead, "
                "or run the pipeline with executor='local'"
            )
        if id(invocation.step) not in checked:
            executor.check_sendable(invocation.step, label)
            checked.add(id(invocation.step))
        if invocation.parameters:
            executor.check_sendable(invocation.parameters, label)


@dataclass
class _Submitted:
    """A step on the cluster: what the driver needs to record its end."""

    invocation: Invocation
    run_id: uuid.UUID
    step_run_id: uuid.UUID
    started: float
    planned: dict[str, StepContextOutput]
    leases: contextlib.ExitStack
    attempts: list[str] = field(default_factory=list)
    unrecorded: list[TaskStarted] = field(default_factory=list)
    """Attempts heard of but not yet appended (they go with the next append of the step)."""


class ClusterRun:
    """Drives one run's steps through ``executor``; the runner records every event."""

    def __init__(self, runner: RunRecorder, executor: StepExecutor) -> None:
        """Run the steps of ``runner``'s pipeline on ``executor`` (opened by the runner)."""
        self.runner = runner
        self.executor = executor
        self._submitted: dict[str, _Submitted] = {}
        self._packed: dict[int, PackedStep] = {}  # id(step) -> pickled once for the run
        self._refused: tuple[str, StepFailure] | None = None  # the first step submit refused
        self._looked_up: set[str] = set()  # waiting steps the cache did not serve

    def run(self, builder: DagBuilder, run_id: uuid.UUID) -> tuple[str, StepFailure] | None:
        """Run every step whose inputs come to exist; return the first failure, if any."""
        pending = list(builder.invocations.values())  # call order: the order to submit in
        done: set[str] = set()
        failed: set[str] = set()  # failed, or never started because an input is missing
        first: tuple[str, StepFailure] | None = None
        # Leases of versions just recorded: dropped once the steps they unblock are
        # submitted, so removing their files is not on the way from one step to the next.
        recorded: list[contextlib.ExitStack] = []
        try:
            while True:
                if first is None or self.runner.on_failure == "continue":
                    pending = self._start_ready(pending, done, failed, run_id)
                    first = first or self._refused
                _release(recorded)
                if not self._submitted:
                    if pending and (first is None or self.runner.on_failure == "continue"):
                        self._no_place(pending, done)
                    return first
                for news in self.executor.wait():
                    if isinstance(news, TaskStarted):
                        self._attempt_started(news)
                        continue
                    submitted = self._submitted.pop(news.key, None)
                    if submitted is None:
                        continue  # not a step of this run (an executor reused across runs)
                    recorded.append(submitted.leases)
                    failure = self._finished(submitted, news)
                    if failure is None:
                        done.add(submitted.invocation.id)
                    else:
                        failed.add(submitted.invocation.id)
                        first = first or (submitted.invocation.id, failure)
                self._record_attempts()
        finally:
            _release(recorded)
            for submitted in self._submitted.values():
                submitted.leases.close()

    # -- submitting ----------------------------------------------------------------------

    def _start_ready(
        self, pending: list[Invocation], done: set[str], failed: set[str], run_id: uuid.UUID
    ) -> list[Invocation]:
        """Decide every step whose inputs exist; submit the misses. Returns the rest."""
        progressed = True
        while progressed:  # a hit makes its outputs exist at once: look again
            progressed = False
            waiting: list[Invocation] = []
            for index, invocation in enumerate(pending):
                if not failed.isdisjoint(invocation.upstream):
                    failed.add(invocation.id)  # never started: an input it needs does not exist
                    progressed = True
                elif done.issuperset(invocation.upstream):
                    place = self.executor.place()
                    if place is None:  # every worker busy: served from cache, or wait
                        if self._served_while_busy(invocation, run_id):
                            done.add(invocation.id)
                            progressed = True
                        else:
                            waiting.append(invocation)
                        continue
                    progressed = True
                    started = self._start(invocation, run_id, place.worker)
                    if started is True:
                        done.add(invocation.id)
                    elif isinstance(started, StepFailure):
                        failed.add(invocation.id)
                        if self.runner.on_failure == "stop":
                            return waiting + pending[index + 1 :]
                else:
                    waiting.append(invocation)
            pending = waiting
        return pending

    def _served_while_busy(self, invocation: Invocation, run_id: uuid.UUID) -> bool:
        """Whether the cache serves a step that waits for a worker (looked up once per step)."""
        if invocation.id in self._looked_up:
            return False
        self._looked_up.add(invocation.id)
        step_run_id, started = uuid.uuid4(), time.perf_counter()
        served = self.runner.decide_step(invocation, run_id, step_run_id, started, only_hit=True)
        return served is True

    def _no_place(self, pending: list[Invocation], done: set[str]) -> None:
        """Nothing of this run is running, yet ready steps found no place: say so, not hang."""
        ready = [i.id for i in pending if done.issuperset(i.upstream)]
        if ready:
            raise ExecutorError(
                f"{self.executor.name} has no free place for steps {ready} although none of "
                "this run's steps is running on it; check that its workers have threads, "
                "or run the pipeline with executor='local'"
            )

    def _start(
        self, invocation: Invocation, run_id: uuid.UUID, worker: str | None = None
    ) -> bool | StepFailure:
        """Start the step run on ``worker`` and decide; submit a miss. True when a hit served it.

        A step the executor refuses to take (its connection to the cluster lost, say)
        fails as a step, so the run ends failed rather than left running.
        """
        runner = self.runner
        step_run_id, started = uuid.uuid4(), time.perf_counter()
        if runner.decide_step(invocation, run_id, step_run_id, started, worker):
            return True
        context = runner.context
        planned = plan_outputs(context, runner.pipeline, invocation)
        leases = contextlib.ExitStack()
        for output in planned.values():
            leases.enter_context(
                write_lease(context.artifacts, output.artifact_version_id, output.artifact_name)
            )
        packed = self._packed.get(id(invocation.step))
        if packed is None:
            packed = self._packed[id(invocation.step)] = PackedStep.of(invocation.step)
        work = RemoteStep.of(
            invocation,
            packed,
            pipeline=runner.pipeline,
            run_name=runner.run_name,
            run_id=run_id,
            step_run_id=step_run_id,
            inputs={
                name: runner.produced[(out.invocation_id, out.output_name)]
                for name, out in invocation.inputs.items()
            },
            planned=planned,
            store=context.artifacts,
            pickle_fallback=runner.recorder.pickle_fallback,
        )
        key = str(step_run_id)
        self._submitted[key] = _Submitted(invocation, run_id, step_run_id, started, planned, leases)
        try:
            self.executor.submit(ExecutorTask(key, work.label, work, worker))
        except Exception as error:  # the executor's own errors, or its engine's
            submitted = self._submitted.pop(key)
            with submitted.leases:
                failure = self._record_failure(submitted, TaskFinished(key, None, error=error))
            self._refused = self._refused or (invocation.id, failure)
            return failure
        log.info("%s submitted to %s", work.label, worker or self.executor.name)
        return False

    # -- hearing back ----------------------------------------------------------------------

    def _attempt_started(self, news: TaskStarted) -> None:
        submitted = self._submitted.get(news.key)
        if submitted is None:
            return  # a late message about a step already recorded
        submitted.attempts.append(news.worker)
        submitted.unrecorded.append(news)
        log.info(
            "step %r running on %s (attempt %d)",
            submitted.invocation.id,
            news.worker,
            len(submitted.attempts),
        )

    def _record_attempts(self) -> None:
        """Append the attempts heard of for steps still running (one append per step)."""
        for submitted in self._submitted.values():
            if submitted.unrecorded:
                self.runner.change_step_run(submitted.step_run_id, self._attempts_of(submitted))
                submitted.unrecorded.clear()

    def _attempts_of(self, submitted: _Submitted) -> Callable[[StepRun], object]:
        """A change starting the attempts heard of; applied again if the append is retried."""
        heard = list(submitted.unrecorded)
        executor = self.executor.name

        def start_attempts(step_run: StepRun) -> None:
            for news in heard:
                step_run.start_attempt(worker=news.worker, executor=executor)

        return start_attempts

    def _change_ending(self, submitted: _Submitted, change: Callable[[StepRun], object]) -> None:
        """Append ``change`` after the attempts not yet recorded, in one append."""
        attempts = self._attempts_of(submitted)

        def ending(step_run: StepRun) -> None:
            attempts(step_run)
            change(step_run)

        self.runner.change_step_run(submitted.step_run_id, ending)
        submitted.unrecorded.clear()

    def _finished(self, submitted: _Submitted, news: TaskFinished) -> StepFailure | None:
        """Record how the step ended; the failure, when it did not succeed."""
        if news.error is None and news.lost_worker is None:
            self._record_success(submitted, news.result)
            log.info("step %r completed on %s", submitted.invocation.id, news.worker)
            return None
        return self._record_failure(submitted, news)

    def _record_failure(self, submitted: _Submitted, news: TaskFinished) -> StepFailure:
        """Record the step's failure: the error it raised, or the worker lost under it."""
        invocation, runner = submitted.invocation, self.runner
        duration = time.perf_counter() - submitted.started
        if news.error is not None:
            error: BaseException = news.error
            failure = StepFailure.of(error, duration, news.traceback)
        else:
            error = ExecutorError(
                f"step {invocation.id!r} of pipeline {runner.pipeline!r} was lost: the worker "
                f"{news.lost_worker} died while running it, after {len(submitted.attempts)} "
                f"attempt(s) on {submitted.attempts}; see the workers' logs, and give the "
                "executor more retries if workers are expected to die"
            )
            failure = StepFailure.of(error, duration)
        failure.__cause__ = error
        self._change_ending(submitted, lambda step_run: step_run.fail(**failure.recorded))
        log.info("step %r failed: %s", invocation.id, failure.summary)
        return failure

    def _record_success(self, submitted: _Submitted, result: RemoteResult) -> None:
        invocation, runner = submitted.invocation, self.runner
        if result.step_run_metadata:
            self._change_ending(
                submitted, lambda step_run: step_run.log_metadata(result.step_run_metadata)
            )
        outputs = invocation.step.outputs
        for index, spec in enumerate(outputs):
            attempts = self._attempts_of(submitted) if submitted.unrecorded else None
            planned = result.planned[spec.name]
            runner.produced[(invocation.id, spec.name)] = runner.recorder.record_saved(
                submitted.step_run_id,
                planned.artifact_name,
                planned.artifact_version_id,
                spec.name,
                result.saved[spec.name],
                spec.config or ArtifactConfig(),
                succeed_started=submitted.started if index == len(outputs) - 1 else None,
                tags=planned.tags,
                planned=planned,
                before=attempts,
            )
            submitted.unrecorded.clear()
            checkpoint("artifact.recorded")
        if not outputs:
            self._change_ending(
                submitted,
                lambda step_run: step_run.succeed(time.perf_counter() - submitted.started),
            )
        runner.remember_execution(invocation, submitted.run_id, submitted.step_run_id)


def _release(leases: list[contextlib.ExitStack]) -> None:
    """Drop the write leases of versions recorded (or given up)."""
    while leases:
        leases.pop().close()
