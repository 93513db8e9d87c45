"""Executes a built DAG in this process, appending events as things happen.

For every invocation, in call order: ``StepStarted`` and ``CacheDecided`` in one
append; then, on a miss, the step runs, each output is written to the store,
hashed, and only then recorded (``VersionRegistered`` + ``ArtifactWritten`` in
one append, by ``lineagelog.api.artifacts``); then ``StepSucceeded``. A crash at
any point leaves a consistent log: at worst orphan bytes, never an event
pointing at nothing.

A cache hit is served only as the log records it (``lineagelog.api.cache_hits``):
the views propose, the events decide. Its ``CacheDecided`` and the
``VersionReused`` of every reused version go in one append, so a concurrent
delete of one of them makes one of the two appends fail; a failed hit re-decides.
Every change goes through the context's ``AggregateRepository``, which retries
a conflicting append on aggregates reloaded from the log.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.materializers import materializer_for, materializer_source
from lineagelog.adapters.repository import DEFAULT_ATTEMPTS, Changes
from lineagelog.api.artifacts import (
    ArtifactRecorder,
    ProducedOutput,
    load_input,
    record_external_input,
)
from lineagelog.api.building import DagBuilder, Invocation, executing_step
from lineagelog.api.cache_hits import find_hit
from lineagelog.api.code_record import record_step_code
from lineagelog.api.context import LineageContext
from lineagelog.api.environment import capture_environment, this_process
from lineagelog.api.recorded import RecordedExecution
from lineagelog.api.remote_step import split_result
from lineagelog.api.step_context import (
    PipelineInfo,
    PipelineRunInfo,
    StepContext,
    StepRunInfo,
    plan_outputs,
    running_step,
)
from lineagelog.api.step_failure import StepFailure
from lineagelog.api.tagging import Tag, tag_run_in
from lineagelog.api.unmaterialized import unmaterialized_input, unmaterialized_parameters
from lineagelog.domain.cache import CacheIngredients, explain_miss
from lineagelog.domain.errors import (
    LineageError,
    NoMaterializerError,
    RunFailedError,
)
from lineagelog.domain.names import check_artifact_name, default_artifact_name
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome
from lineagelog.projections.faults import checkpoint

if TYPE_CHECKING:
    from lineagelog.adapters.executors import StepExecutor
    from lineagelog.api.executors import OnFailure

__all__ = ["PipelineRunner"]

_progress = logging.getLogger("lineagelog.run")  # what the CLI shows while steps run

CACHE_LOOKUP_VIEWS = ("runs", "catalog", "cache")
"""The views a cache decision reads: cache entries, their outputs, earlier ingredients."""

_OWN_STREAMS = 1
"""Attempts at changing step runs' streams (and starting an untagged run): only this driver
appends to them, so a conflict there is recovery having ended them, and retrying cannot help."""

_RUN_STREAM = DEFAULT_ATTEMPTS
"""Attempts at ending the run: other writers append tag events to its stream too (an
exclusive tag moved to another run), so its end is decided on its latest state and retried
on a conflict; a run recovery ended meanwhile refuses with ``RunAlreadyEndedError``."""


class _NotServed(Exception):
    """A lookup that records nothing: no hit serves the step (``decide_step(only_hit=True)``)."""


class PipelineRunner:
    """Runs one pipeline call against one context."""

    def __init__(
        self,
        context: LineageContext,
        *,
        pipeline: str,
        enable_cache: bool,
        run_name: str,
        tags: Sequence[Tag] = (),
        executor: StepExecutor | None = None,
        on_failure: OnFailure = "stop",
    ) -> None:
        """Prepare to run ``pipeline`` with the stores of ``context``.

        ``tags`` go on the run as it starts; the ``cascade`` ones on its new outputs too.
        ``executor`` runs the step bodies elsewhere (None: here, one after another).
        ``on_failure="continue"`` keeps running the steps that do not depend on a
        failed one; the run still ends failed.
        """
        self.context = context
        self.pipeline = pipeline
        self.enable_cache = enable_cache
        self.run_name = run_name
        self.tags = list(tags)
        self.executor = executor
        self.on_failure = on_failure
        self.produced: dict[tuple[str, str], ProducedOutput] = {}
        # Read-your-writes without a catch-up per step: the cache decisions of this
        # run see (a) the views, caught up to ``_views_at``, and (b) the executions
        # this run appended since, kept here. Whenever another writer appended in
        # between, the views catch up first.
        self._views_at = 0
        self._own_positions: set[int] = set()
        self._own_executions: dict[str, RecordedExecution] = {}
        self._keys: dict[uuid.UUID, str] = {}  # step run id -> its cache key, until it ends
        self._repository = context.repository
        self._recorder = ArtifactRecorder(
            context,
            pipeline=pipeline,
            on_saved=self._own_positions.update,
            cascade_tags=[tag for tag in self.tags if tag.cascade],
        )

    # -- the run -------------------------------------------------------------------

    def run(self, builder: DagBuilder, parameters: dict[str, Any]) -> uuid.UUID:
        """Execute every invocation; return the run id (raises RunFailedError on failure).

        With an executor, it is opened (and the store checked from its workers)
        and every step checked to travel there before anything is recorded.
        """
        self._check_artifact_names(builder)
        if self.executor is None:
            return self._run(builder, parameters)
        from lineagelog.api.cluster_run import check_sendable  # a local run never loads it

        self.executor.open(self.context.artifacts)
        try:
            check_sendable(self.executor, self.pipeline, builder)
            return self._run(builder, parameters)
        finally:
            self.executor.close()

    def _run(self, builder: DagBuilder, parameters: dict[str, Any]) -> uuid.UUID:
        for external in builder.external_inputs:
            key = (external.invocation_id, external.output_name)
            self.produced[key] = record_external_input(self.context, self.pipeline, external)
        environment = capture_environment(
            {inv.step.func.__module__ for inv in builder.invocations.values()}
        )

        def start(changes: Changes) -> uuid.UUID:
            run = changes.add(
                PipelineRun.start(
                    pipeline=self.pipeline,
                    run_name=self.run_name,
                    parameters=parameters,
                    dag=builder.spec(),
                    environment=environment,
                )
            )
            tag_run_in(changes, run, self.tags)
            return run.id

        run_id = self._repository.change_together(
            start,
            # Tags append to streams other writers share (tags, an exclusive tag's holder).
            attempts=DEFAULT_ATTEMPTS if self.tags else _OWN_STREAMS,
            on_saved=self._own_positions.update,
        )
        if self.executor is None:
            first_failure = self._run_here(builder, run_id)
        else:
            from lineagelog.api.cluster_run import ClusterRun

            first_failure = ClusterRun(self, self.executor).run(builder, run_id)
        if first_failure is not None:
            invocation_id, failure = first_failure
            self._repository.change(
                run_id,
                PipelineRun,
                lambda run: run.fail(invocation_id, failure.summary),
                fastforward=True,
                attempts=_RUN_STREAM,
                on_saved=self._own_positions.update,
            )
            self._seal()
            raise self._run_failed(run_id, invocation_id, failure) from failure.__cause__
        checkpoint("run.ending")
        self._repository.change(
            run_id,
            PipelineRun,
            PipelineRun.complete,
            fastforward=True,
            attempts=_RUN_STREAM,
            on_saved=self._own_positions.update,
        )
        self._seal()
        return run_id

    def _run_here(self, builder: DagBuilder, run_id: uuid.UUID) -> tuple[str, StepFailure] | None:
        """Run every step in this process, in call order; the first failure, when continuing.

        Stopping at a failure records the step's failure and the run's in one append
        and raises; continuing records the step's and skips the steps depending on it.
        """
        first: tuple[str, StepFailure] | None = None
        failed: set[str] = set()
        for invocation in builder.invocations.values():
            if failed and not failed.isdisjoint(invocation.upstream):
                failed.add(invocation.id)  # never started: an input it needs does not exist
                continue
            step_run_id = uuid.uuid4()
            try:
                self._run_step(invocation, run_id, step_run_id)
            except StepFailure as failure:
                if self.on_failure == "stop":
                    self._fail(run_id, step_run_id, invocation.id, failure)
                    self._seal()
                    raise self._run_failed(run_id, invocation.id, failure) from failure.__cause__
                self.record_step_failure(step_run_id, failure)
                failed.add(invocation.id)
                first = first or (invocation.id, failure)
        return first

    def _run_failed(
        self, run_id: uuid.UUID, invocation_id: str, failure: StepFailure
    ) -> RunFailedError:
        return RunFailedError(
            f"pipeline {self.pipeline!r} failed at step {invocation_id!r}: "
            f"{failure.summary}; see `lineagelog runs show {run_id}`",
            run_id=run_id,
            failed_step=invocation_id,
        )

    def record_step_failure(self, step_run_id: uuid.UUID, failure: StepFailure) -> None:
        """Record that the step failed, the run going on (``on_failure="continue"``, a cluster)."""
        self.change_step_run(step_run_id, lambda step_run: step_run.fail(**failure.recorded))

    def change_step_run(self, step_run_id: uuid.UUID, change: Callable[[StepRun], object]) -> None:
        """Apply ``change`` to a step run of this run and append its events."""
        self._repository.change(
            step_run_id,
            StepRun,
            change,
            attempts=_OWN_STREAMS,
            on_saved=self._own_positions.update,
        )

    @property
    def recorder(self) -> ArtifactRecorder:
        """Writes and records this run's outputs."""
        return self._recorder

    def _fail(
        self, run_id: uuid.UUID, step_run_id: uuid.UUID, invocation_id: str, failure: StepFailure
    ) -> None:
        """Record the step's failure and the run's, in one append."""

        def fail(changes: Changes) -> None:
            changes.get(step_run_id, StepRun).fail(**failure.recorded)
            changes.get(run_id, PipelineRun, fastforward=True).fail(invocation_id, failure.summary)

        self._repository.change_together(
            fail, attempts=_RUN_STREAM, on_saved=self._own_positions.update
        )

    def _seal(self) -> None:
        """Seal the log now that the run ended, unless another process is sealing it.

        A run's end never waits for another writer's seal: when another process
        holds the sealer lock, that process seals again after it (see
        ``adapters.sealing``). A failed seal must not fail the run.
        """
        from lineagelog.adapters.sealing import seal_after_run

        try:
            seal_after_run(self.context.events, repository=self._repository)
        except LineageError as e:
            logging.getLogger(__name__).warning("run ended but the log could not be sealed: %s", e)

    def _catch_up_if_others_wrote(self) -> None:
        """Bring the cache-lookup views up to date unless every newer event is ours."""
        latest = self.context.events.max_position()
        if latest <= self._views_at:
            return
        newer = range(self._views_at + 1, latest + 1)
        if self._views_at == 0 or any(p not in self._own_positions for p in newer):
            self.context.projector.catch_up(until=latest, views=CACHE_LOOKUP_VIEWS)
        self._views_at = latest

    def _check_artifact_names(self, builder: DagBuilder) -> None:
        for invocation in builder.invocations.values():
            for spec in invocation.step.outputs:
                if spec.artifact_name is None:
                    check_artifact_name(
                        default_artifact_name(self.pipeline, invocation.id, spec.name)
                    )

    # -- one step ------------------------------------------------------------------------

    def _ingredients(self, invocation: Invocation) -> CacheIngredients:
        step = invocation.step
        return CacheIngredients(
            code_hash=step.code_hash,
            parameters=invocation.arguments,
            inputs={
                name: self.produced[(out.invocation_id, out.output_name)].content_hash
                for name, out in invocation.inputs.items()
            },
            outputs={
                spec.name: self._declared_materializer(invocation, spec) for spec in step.outputs
            },
            artifact_store=self.context.artifacts.identity,
        )

    def _declared_materializer(self, invocation: Invocation, spec: Any) -> str:
        override = invocation.step.output_materializers.get(spec.name)
        if override is not None:
            return materializer_source(override)
        if spec.data_type is Any or not isinstance(spec.data_type, type):
            return "auto"
        try:
            return materializer_source(
                materializer_for(spec.data_type, pickle_fallback=self._recorder.pickle_fallback)
            )
        except NoMaterializerError:
            return "auto"

    def _disabled_reason(self, invocation: Invocation) -> str | None:
        """Why this invocation is not cached: a setting, or code the hash cannot cover."""
        return invocation.cache_disabled or invocation.step.uncacheable_reason

    def _run_step(self, invocation: Invocation, run_id: uuid.UUID, step_run_id: uuid.UUID) -> None:
        started = time.perf_counter()
        if self.decide_step(invocation, run_id, step_run_id, started):
            return
        _progress.info("step %r running on %s (local)", invocation.id, this_process())
        self._execute(invocation, run_id, step_run_id, started)
        self.remember_execution(invocation, run_id, step_run_id)

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
        """Start the step run and record its cache decision; True when a hit served it.

        A hit's outputs are in ``produced`` when this returns; a miss (or disabled)
        is for the caller to execute. ``worker`` is where an executor placed the
        step (the step run records it; a hit, which runs nowhere, records none).
        ``only_hit`` records nothing unless a hit serves the step, and then returns
        None for a miss: a step waiting for a free worker need not wait when it is
        cached.
        """
        ingredients = self._ingredients(invocation)
        disabled = self._disabled_reason(invocation)
        if only_hit and disabled is not None:
            return None

        def start(changes: Changes, worker: str | None) -> StepRun:
            record_step_code(changes, invocation.step)
            return StepRun.start(
                run_id=run_id,
                pipeline=self.pipeline,
                invocation_id=invocation.id,
                step_name=invocation.step.name,
                source_ref=invocation.step.source_ref,
                code_hash=invocation.step.code_hash,
                parameters=invocation.parameters,
                inputs={
                    name: self.produced[(out.invocation_id, out.output_name)].artifact_version_id
                    for name, out in invocation.inputs.items()
                },
                step_run_id=step_run_id,
                executor=self.executor.name if self.executor is not None else "local",
                worker=worker if self.executor is not None else this_process(),
            )

        # The hit's append conflicts when a reused version got a tombstone (or any
        # other event on its name) since it was checked: the repository decides again.
        def decide(changes: Changes) -> RecordedExecution | None:
            found = self._look_up(changes, ingredients.key, step_run_id, disabled)
            hit = isinstance(found, RecordedExecution)
            if only_hit and not hit:
                raise _NotServed
            # The names a hit reuses (holding their VersionReused) go after the step run,
            # as they would had it started first: the log's order does not depend on this.
            looked_up = changes.held
            for aggregate in looked_up:
                changes.discard(aggregate)
            step_run = changes.add(start(changes, None if hit else worker))  # a hit runs nowhere
            for aggregate in looked_up:
                changes.add(aggregate)
            return self._decide(step_run, invocation, ingredients, disabled, found, started)

        try:
            served = self._repository.change_together(
                decide,
                on_saved=self._own_positions.update,
                what=f"record the cache decision of step {invocation.id!r} (other writers kept "
                "changing the artifact names it reuses)",
            )
        except _NotServed:
            return None
        if served is None:
            self._keys[step_run_id] = ingredients.key
            return False
        for name, produced in served.outputs.items():
            self.produced[(invocation.id, name)] = produced
        return True

    def remember_execution(
        self, invocation: Invocation, run_id: uuid.UUID, step_run_id: uuid.UUID
    ) -> None:
        """Let later steps of this run with the same ingredients hit this execution."""
        self._own_executions.setdefault(
            self._keys.pop(step_run_id),
            RecordedExecution(
                step_run_id,
                run_id,
                {
                    spec.name: self.produced[(invocation.id, spec.name)]
                    for spec in invocation.step.outputs
                },
            ),
        )

    def _look_up(
        self, changes: Changes, key: str, step_run_id: uuid.UUID, disabled: str | None
    ) -> RecordedExecution | str | None:
        """The execution a hit would serve, or why there is none (``find_hit``); None if disabled.

        On a hit, the reused names' ``VersionReused`` are pending in ``changes``.
        """
        if disabled is not None:
            return None
        self._catch_up_if_others_wrote()
        return find_hit(self.context, changes, key, step_run_id, self._own_executions.get(key))

    def _decide(
        self,
        step_run: StepRun,
        invocation: Invocation,
        ingredients: CacheIngredients,
        disabled: str | None,
        found: RecordedExecution | str | None,
        started: float,
    ) -> RecordedExecution | None:
        """Decide hit, miss or disabled on the new ``step_run``; return the execution a hit serves.

        A hit succeeds the step run and reuses the execution's outputs (their names'
        ``VersionReused``, pending in the caller's ``Changes``, go in the same append).
        """
        key = ingredients.key
        if disabled is not None:
            step_run.decide_cache(
                cache_key=key,
                outcome=CacheOutcome.DISABLED,
                reason=disabled,
                ingredients=ingredients.as_dict(),
            )
            return None
        if not isinstance(found, RecordedExecution):
            step_run.decide_cache(
                cache_key=key,
                outcome=CacheOutcome.MISS,
                reason=found or self._miss_reason(invocation, ingredients),
                ingredients=ingredients.as_dict(),
            )
            return None
        step_run.decide_cache(
            cache_key=key,
            outcome=CacheOutcome.HIT,
            reason=f"same ingredients as step run {found.step_run_id} of run {found.run_id}",
            ingredients=ingredients.as_dict(),
            original_step_run_id=found.step_run_id,
            reused_outputs={name: p.artifact_version_id for name, p in found.outputs.items()},
        )
        step_run.succeed(time.perf_counter() - started)
        checkpoint("cache.hit_found")  # checked, not yet appended: a delete may come in between
        return found

    def _miss_reason(self, invocation: Invocation, ingredients: CacheIngredients) -> str:
        previous = self.context.queries.latest_ingredients(self.pipeline, invocation.id)
        reasons = explain_miss(ingredients.as_dict(), previous[1] if previous else None)
        if reasons:
            return "; ".join(reasons)
        return "the earlier execution with the same ingredients did not succeed"

    def _step_context(
        self, invocation: Invocation, run_id: uuid.UUID, step_run_id: uuid.UUID
    ) -> StepContext:
        """What ``get_step_context()`` shows the step body: its run, step run and outputs."""
        return StepContext(
            pipeline_run=PipelineRunInfo(run_id, self.run_name, PipelineInfo(self.pipeline)),
            step_run=StepRunInfo(step_run_id, invocation.id, run_id),
            outputs=plan_outputs(self.context, self.pipeline, invocation),
            lineage=self.context,
            on_saved=self._own_positions.update,
            writer=self._recorder,
        )

    def _execute(
        self, invocation: Invocation, run_id: uuid.UUID, step_run_id: uuid.UUID, started: float
    ) -> None:
        step = invocation.step
        try:
            kwargs = dict(invocation.arguments)
            checkpoint("step.inputs")  # inputs decided, not yet loaded: their bytes may change
            unmaterialized = unmaterialized_parameters(step.func)
            for name, out in invocation.inputs.items():
                produced = self.produced[(out.invocation_id, out.output_name)]
                if name in unmaterialized:
                    kwargs[name] = unmaterialized_input(self.context, produced.artifact_version_id)
                else:
                    kwargs[name] = load_input(self.context, produced)
            checkpoint("step.body")
            step_context = self._step_context(invocation, run_id, step_run_id)
            with (
                executing_step(f"step {invocation.id!r} of pipeline {self.pipeline!r}"),
                running_step(step_context),
            ):
                result = step.func(**kwargs)
            values = split_result(invocation.id, step, result)
            for index, (spec, value) in enumerate(zip(step.outputs, values, strict=True)):
                last = index == len(values) - 1
                self.produced[(invocation.id, spec.name)] = self._recorder.write_output(
                    invocation,
                    step_run_id,
                    spec,
                    value,
                    started if last else None,
                    step_context.planned(spec.name).tags,
                    step_context.planned(spec.name),
                )
        except Exception as error:  # a step may raise anything: record it, then re-raise
            raise StepFailure.of(error, time.perf_counter() - started) from error
        if not step.outputs:
            self._repository.change(
                step_run_id,
                StepRun,
                lambda step_run: step_run.succeed(time.perf_counter() - started),
                attempts=_OWN_STREAMS,
                on_saved=self._own_positions.update,
            )
