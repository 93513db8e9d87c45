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
"""

from __future__ import annotations

import logging
import time
import traceback as tb
import uuid
from typing import Any

from lineagelog.adapters.event_store import ConcurrencyConflict
from lineagelog.adapters.materializers import materializer_for, materializer_source
from lineagelog.api.artifacts import ArtifactRecorder, ProducedOutput, load_input
from lineagelog.api.building import DagBuilder, Invocation, executing_step
from lineagelog.api.cache_hits import CacheHit, find_hit, forget_names
from lineagelog.api.context import LineageContext
from lineagelog.api.environment import capture_environment
from lineagelog.api.recorded import RecordedExecution
from lineagelog.domain.cache import CacheIngredients, explain_miss
from lineagelog.domain.errors import (
    LineageError,
    NoMaterializerError,
    PipelineDefinitionError,
    RunFailedError,
)
from lineagelog.domain.names import check_artifact_name, default_artifact_name
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome
from lineagelog.projections.faults import checkpoint

__all__ = ["PipelineRunner"]

CACHE_LOOKUP_VIEWS = ("runs", "catalog", "cache")
"""The views a cache decision reads: cache entries, their outputs, earlier ingredients."""

_MAX_HIT_RETRIES = 50


class PipelineRunner:
    """Runs one pipeline call against one context."""

    def __init__(
        self, context: LineageContext, *, pipeline: str, enable_cache: bool, run_name: str
    ) -> None:
        """Prepare to run ``pipeline`` with the stores of ``context``."""
        self.context = context
        self.pipeline = pipeline
        self.enable_cache = enable_cache
        self.run_name = run_name
        self.produced: dict[tuple[str, str], ProducedOutput] = {}
        self._recorder = ArtifactRecorder(context, pipeline=pipeline, save=self._save)
        # Read-your-writes without a catch-up per step: the cache decisions of this
        # run see (a) the views, caught up to ``_views_at``, and (b) the executions
        # this run appended since, kept here. Whenever another writer appended in
        # between, the views catch up first.
        self._views_at = 0
        self._own_positions: set[int] = set()
        self._own_executions: dict[str, RecordedExecution] = {}

    # -- the run -------------------------------------------------------------------

    def run(self, builder: DagBuilder, parameters: dict[str, Any]) -> uuid.UUID:
        """Execute every invocation; return the run id (raises RunFailedError on failure)."""
        self._check_artifact_names(builder)
        run = PipelineRun.start(
            pipeline=self.pipeline,
            run_name=self.run_name,
            parameters=parameters,
            dag=builder.spec(),
            environment=capture_environment(
                {inv.step.func.__module__ for inv in builder.invocations.values()}
            ),
        )
        self._save(run)
        for invocation in builder.invocations.values():
            step_run = StepRun.start(
                run_id=run.id,
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
            )
            try:
                self._run_step(invocation, step_run)
            except _StepFailure as failure:
                run.fail(invocation.id, failure.summary)
                self._save(step_run, run)
                self._seal()
                raise RunFailedError(
                    f"pipeline {self.pipeline!r} failed at step {invocation.id!r}: "
                    f"{failure.summary}; see `lineagelog runs show {run.id}`",
                    run_id=run.id,
                    failed_step=invocation.id,
                ) from failure.__cause__
        checkpoint("run.ending")
        run.complete()
        self._save(run)
        self._seal()
        return run.id

    def _seal(self) -> None:
        """Seal the log now that the run ended; a failed seal must not fail the run."""
        from lineagelog.adapters.sealing import seal_log

        try:
            seal_log(self.context.events)
        except LineageError as e:
            logging.getLogger(__name__).warning("run ended but the log could not be sealed: %s", e)

    def _save(self, *aggregates: Any) -> None:
        self._own_positions.update(self.context.events.save(*aggregates))

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
            parameters=invocation.parameters,
            inputs={
                name: self.produced[(out.invocation_id, out.output_name)].content_hash
                for name, out in invocation.inputs.items()
            },
            outputs={
                spec.name: self._declared_materializer(invocation, spec) for spec in step.outputs
            },
            artifact_store=self.context.artifacts.root,
        )

    def _declared_materializer(self, invocation: Invocation, spec: Any) -> str:
        override = invocation.step.output_materializers.get(spec.name)
        if override is not None:
            return materializer_source(override)
        if spec.data_type is Any or not isinstance(spec.data_type, type):
            return "auto"
        try:
            return materializer_source(materializer_for(spec.data_type))
        except NoMaterializerError:
            return "auto"

    def _disabled_reason(self, invocation: Invocation) -> str | None:
        """Why this invocation is not cached: a setting, or code the hash cannot cover."""
        return invocation.cache_disabled or invocation.step.uncacheable_reason

    def _run_step(self, invocation: Invocation, step_run: StepRun) -> None:
        started = time.perf_counter()
        ingredients = self._ingredients(invocation)
        key = ingredients.key
        disabled = self._disabled_reason(invocation)
        if disabled is not None:
            step_run.decide_cache(
                cache_key=key,
                outcome=CacheOutcome.DISABLED,
                reason=disabled,
                ingredients=ingredients.as_dict(),
            )
        else:
            found = self._serve_from_cache(invocation, step_run, ingredients, started)
            if isinstance(found, RecordedExecution):
                return
            step_run.decide_cache(
                cache_key=key,
                outcome=CacheOutcome.MISS,
                reason=found or self._miss_reason(invocation, ingredients),
                ingredients=ingredients.as_dict(),
            )
        self._save(step_run)
        self._execute(invocation, step_run, started)
        self._own_executions.setdefault(
            key,
            RecordedExecution(
                step_run.id,
                step_run.run_id,
                {
                    spec.name: self.produced[(invocation.id, spec.name)]
                    for spec in invocation.step.outputs
                },
            ),
        )

    def _serve_from_cache(
        self,
        invocation: Invocation,
        step_run: StepRun,
        ingredients: CacheIngredients,
        started: float,
    ) -> RecordedExecution | str | None:
        """Record a hit and return what it served; or return why there is none (None: no candidate).

        The hit's append conflicts when a reused version got a tombstone (or any
        other event on its name) since it was checked: then decide again.
        """
        key = ingredients.key
        for _ in range(_MAX_HIT_RETRIES):
            self._catch_up_if_others_wrote()
            found = find_hit(self.context, key, step_run.id, self._own_executions.get(key))
            if not isinstance(found, CacheHit):
                return found
            hit = found.execution
            unsaved = _state(step_run)
            step_run.decide_cache(
                cache_key=key,
                outcome=CacheOutcome.HIT,
                reason=f"same ingredients as step run {hit.step_run_id} of run {hit.run_id}",
                ingredients=ingredients.as_dict(),
                original_step_run_id=hit.step_run_id,
                reused_outputs={name: p.artifact_version_id for name, p in hit.outputs.items()},
            )
            step_run.succeed(time.perf_counter() - started)
            checkpoint("cache.hit_found")  # checked, not yet appended: a delete may come in between
            try:
                self._save(step_run, *found.names)
            except BaseException as e:
                # The events were not appended: the step run goes back to before the decision.
                step_run.__dict__.clear()
                step_run.__dict__.update(unsaved)
                forget_names(self.context, found)
                if not isinstance(e, ConcurrencyConflict):
                    raise
                continue
            for name, produced in hit.outputs.items():
                self.produced[(invocation.id, name)] = produced
            return hit
        raise LineageError(
            f"could not record a cache hit for step {invocation.id!r} after {_MAX_HIT_RETRIES} "
            "attempts: other writers kept changing the artifact names it reuses; run it again"
        )

    def _miss_reason(self, invocation: Invocation, ingredients: CacheIngredients) -> str:
        previous = self.context.queries.latest_ingredients(self.pipeline, invocation.id)
        reasons = explain_miss(ingredients.as_dict(), previous[1] if previous else None)
        if reasons:
            return "; ".join(reasons)
        return "the earlier execution with the same ingredients did not succeed"

    def _execute(self, invocation: Invocation, step_run: StepRun, started: float) -> None:
        step = invocation.step
        try:
            kwargs = dict(invocation.parameters)
            checkpoint("step.inputs")  # inputs decided, not yet loaded: their bytes may change
            for name, out in invocation.inputs.items():
                produced = self.produced[(out.invocation_id, out.output_name)]
                kwargs[name] = load_input(self.context, produced)
            checkpoint("step.body")
            with executing_step(f"step {invocation.id!r} of pipeline {self.pipeline!r}"):
                result = step.func(**kwargs)
            values = self._split_result(invocation, result)
            for index, (spec, value) in enumerate(zip(step.outputs, values, strict=True)):
                last = index == len(values) - 1
                self.produced[(invocation.id, spec.name)] = self._recorder.write_output(
                    invocation, step_run, spec, value, started if last else None
                )
        except Exception as error:  # a step may raise anything: record it, then re-raise
            step_run.fail(
                error_type=f"{type(error).__module__}.{type(error).__qualname__}",
                message=str(error),
                traceback="".join(tb.format_exception(error)),
                duration_s=time.perf_counter() - started,
            )
            raise _StepFailure(f"{type(error).__name__}: {error}") from error
        if not step.outputs:
            step_run.succeed(time.perf_counter() - started)
            self._save(step_run)

    def _split_result(self, invocation: Invocation, result: Any) -> list[Any]:
        outputs = invocation.step.outputs
        if len(outputs) == 0:
            return []
        if len(outputs) == 1:
            return [result]
        if not isinstance(result, tuple) or len(result) != len(outputs):
            got = (
                f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
            )
            raise PipelineDefinitionError(
                f"step {invocation.id!r} declares {len(outputs)} outputs "
                f"{[o.name for o in outputs]} but returned {got}; return a tuple with one value "
                "per declared output"
            )
        return list(result)


def _state(aggregate: Any) -> dict[str, Any]:
    """A copy of an aggregate's state, pending events included, to go back to."""
    state = dict(aggregate.__dict__)
    state["_pending_events"] = list(aggregate.pending_events)
    return state


class _StepFailure(Exception):
    """Carries a step's failure out of the step, its cause the original error."""

    def __init__(self, summary: str) -> None:
        super().__init__(summary)
        self.summary = summary
