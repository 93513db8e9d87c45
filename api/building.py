"""Building a pipeline's DAG from the step calls made inside its function."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lineagelog.api.active_dag import active_dag
from lineagelog.domain.cache_setting import cache_disabled_reason
from lineagelog.domain.canonical import to_jsonable, typed_jsonable
from lineagelog.domain.errors import PipelineDefinitionError
from lineagelog.domain.step_settings import deciding_setting

if TYPE_CHECKING:
    from lineagelog.api.step import Step

__all__ = [
    "ArtifactSettings",
    "DagBuilder",
    "ExternalInput",
    "Invocation",
    "StepOutput",
    "building",
    "executing_step",
]


_executing: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "lineagelog_executing_step", default=None
)


@contextmanager
def executing_step(description: str) -> Iterator[None]:
    """Mark that a step body runs now, so a pipeline called from inside it is refused.

    Inside a step body, a ``@step`` is a plain function call (the DAG is fixed
    before any step runs, so it records nothing); a ``@pipeline`` would start a
    second run inside the first and is refused by ``building``.
    """
    token = _executing.set(description)
    try:
        yield
    finally:
        _executing.reset(token)


@dataclass(frozen=True)
class ArtifactSettings:
    """The artifact metadata and visualization switches given at one level (None: unset)."""

    metadata: bool | None = None
    visualization: bool | None = None

    @classmethod
    def of(cls, switches: Mapping[str, bool]) -> ArtifactSettings:
        """From checked options by their ZenML names (``api.options.checked_switches``)."""
        return cls(
            switches.get("enable_artifact_metadata"), switches.get("enable_artifact_visualization")
        )


@dataclass(frozen=True)
class StepOutput:
    """A placeholder for an output of an invocation, passed to later steps."""

    invocation_id: str
    output_name: str

    def __repr__(self) -> str:
        return f"<output {self.output_name!r} of {self.invocation_id!r}>"


@dataclass(frozen=True)
class ExternalInput:
    """An artifact from outside the run passed as a step input.

    An ``ExternalArtifact`` or an ``ArtifactVersion``: the runner records it as
    ``(invocation_id, output_name)`` before the run starts, so steps read it as
    they read an upstream output.
    """

    invocation_id: str
    output_name: str
    source: Any = field(compare=False)
    first_consumer: tuple[str, str] = ("", "")  # (invocation id, input name)

    def __repr__(self) -> str:
        return f"<external input {self.invocation_id!r}: {self.source!r}>"


def _is_external(value: Any) -> bool:
    # ExternalArtifact and ArtifactVersion say so themselves: the builder knows no model class.
    return getattr(type(value), "_passes_as_step_input", False) is True


@dataclass
class Invocation:
    """One call of a step inside a pipeline: its parameters and upstream outputs."""

    id: str
    step: Step
    parameters: dict[str, Any]
    inputs: dict[str, StepOutput | ExternalInput]
    upstream: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    arguments: dict[str, Any] = field(default_factory=dict)
    """The parameters' values as passed, which the step receives and the cache key encodes
    with their types (``parameters`` is how the log shows them)."""
    cache_disabled: str | None = None
    """Why caching is off for this invocation by a setting (None: the settings allow it)."""
    cache_setting: bool | None = None
    """The ``enable_cache`` the settings resolve to, recorded in the DAG (None: not decided yet)."""
    artifact_metadata: bool = True
    """Whether its outputs' materializers extract metadata (``enable_artifact_metadata``)."""
    artifact_visualization: bool = True
    """Whether its outputs' materializers save visualizations (enable_artifact_visualization)."""

    def spec(self) -> dict[str, Any]:
        """The invocation as recorded in the run's DAG spec."""
        spec: dict[str, Any] = {
            "step": self.step.name,
            "source": self.step.source_ref,
            "parameters": self.parameters,
            "inputs": {
                name: (
                    {"external": out.invocation_id}
                    if isinstance(out, ExternalInput)
                    else {"step": out.invocation_id, "output": out.output_name}
                )
                for name, out in self.inputs.items()
            },
            "upstream": list(self.upstream),
            "outputs": [spec.name for spec in self.step.outputs],
            "enable_artifact_metadata": self.artifact_metadata,
            "enable_artifact_visualization": self.artifact_visualization,
        }
        if self.after:
            spec["after"] = list(self.after)
        if self.cache_setting is not None:
            spec["enable_cache"] = self.cache_setting
        if self.step.extra:
            spec["extra"] = dict(self.step.extra)
        return spec


class DagBuilder:
    """Collects invocations in call order, then orders them for execution."""

    def __init__(
        self,
        pipeline: str,
        step_options: Mapping[str, Mapping[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Start an empty DAG for ``pipeline``.

        ``step_options`` configures invocations by id (``with_options(steps=...)``);
        ``extra`` is the pipeline's ``extra``, recorded with the DAG.
        """
        self.pipeline = pipeline
        self.invocations: dict[str, Invocation] = {}
        self.step_options = {key: dict(value) for key, value in (step_options or {}).items()}
        self.extra = dict(extra or {})
        self.enable_cache: bool | None = None
        self._counts: dict[str, int] = {}
        self._externals: dict[int, ExternalInput] = {}

    def _external(self, value: Any, invocation_id: str, input_name: str) -> ExternalInput:
        """The one input placeholder of an external artifact, however many steps take it."""
        found = self._externals.get(id(value))
        if found is None:
            key = f"<external {len(self._externals) + 1}>"
            found = ExternalInput(key, "output", value, (invocation_id, input_name))
            self._externals[id(value)] = found
        return found

    @property
    def external_inputs(self) -> list[ExternalInput]:
        """The external artifacts the pipeline's steps take, in the order first passed."""
        return list(self._externals.values())

    def _invocation_id(self, step: Step, given: str | None) -> str:
        if given is not None:
            if not isinstance(given, str) or not given:
                raise PipelineDefinitionError(
                    f"step {step.name!r} called with id={given!r}; an invocation id is a "
                    "non-empty string unique in the pipeline"
                )
            if given in self.invocations:
                raise PipelineDefinitionError(
                    f"step {step.name!r} called with id={given!r}, which another invocation of "
                    f"pipeline {self.pipeline!r} already has; give each invocation its own id"
                )
            return given
        count = self._counts.get(step.name, 0)
        while True:
            count += 1
            invocation_id = step.name if count == 1 else f"{step.name}_{count}"
            if invocation_id not in self.invocations:
                self._counts[step.name] = count
                return invocation_id

    def _after(self, step: Step, after: Any) -> list[str]:
        if after is None:
            return []
        items = [after] if isinstance(after, str | StepOutput) else after
        try:
            items = list(items)
        except TypeError:
            items = [after]
        names: list[str] = []
        for item in items:
            if isinstance(item, StepOutput):
                names.append(item.invocation_id)
            elif isinstance(item, str) and item:
                names.append(item)
            else:
                raise PipelineDefinitionError(
                    f"step {step.name!r} called with after={after!r}; name the invocations "
                    "to wait for by id (after='load' or after=['load', 'clean']) or pass "
                    "their outputs"
                )
        return sorted(set(names))

    def _with_configured_parameters(
        self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """The call's keyword arguments, completed with the step's configured parameters."""
        if not step.parameters:
            return kwargs
        try:
            given = step.signature.bind_partial(*args, **kwargs).arguments
        except TypeError as e:
            raise PipelineDefinitionError(
                f"step {step.name!r} called with arguments that do not fit its signature "
                f"{step.signature}: {e}"
            ) from None
        completed = dict(kwargs)
        for name, value in step.parameters.items():
            if name not in given:
                completed[name] = value
                continue
            passed = given[name]
            if isinstance(passed, StepOutput) or _typed_or_none(passed) != _typed_or_none(value):
                raise PipelineDefinitionError(
                    f"parameter {name!r} of step {step.name!r} is configured as {value!r} "
                    f"and passed as {passed!r} in the pipeline; set it in one place only"
                )
        return completed

    def add_invocation(
        self,
        step: Step,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        invocation_id: str | None = None,
        after: Any = None,
    ) -> Any:
        """Record a step call; return placeholders for its outputs.

        ``invocation_id`` replaces the default id (the step name, then
        ``name_2``...); ``after`` names invocations that must run first although
        no data flows from them.
        """
        inv_id = self._invocation_id(step, invocation_id)
        if inv_id in self.step_options:
            step = step.with_options(**self.step_options[inv_id])
        kwargs = self._with_configured_parameters(step, args, kwargs)
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise PipelineDefinitionError(
                f"step {step.name!r} called with arguments that do not fit its signature "
                f"{step.signature}: {e}"
            ) from None
        bound.apply_defaults()
        parameters: dict[str, Any] = {}
        inputs: dict[str, StepOutput | ExternalInput] = {}
        for name, value in bound.arguments.items():
            if isinstance(value, StepOutput):
                inputs[name] = value
                continue
            if _is_external(value):
                inputs[name] = self._external(value, inv_id, name)
                continue
            if isinstance(value, tuple) and value and all(isinstance(v, StepOutput) for v in value):
                raise PipelineDefinitionError(
                    f"argument {name!r} of step {step.name!r} is a tuple of step outputs; "
                    "unpack them (`a, b = step_x()`) and pass each to its own parameter"
                )
            try:
                parameters[name] = to_jsonable(value)
            except TypeError as e:
                raise PipelineDefinitionError(
                    f"parameter {name!r} of step {step.name!r} cannot be recorded ({e}); "
                    "pass plain values (numbers, strings, lists, dicts), or produce the value "
                    "in an upstream step and pass its output"
                ) from None
        upstream = sorted(
            {out.invocation_id for out in inputs.values() if isinstance(out, StepOutput)}
        )
        self.invocations[inv_id] = Invocation(
            inv_id,
            step,
            parameters,
            inputs,
            upstream,
            self._after(step, after),
            arguments={name: bound.arguments[name] for name in parameters},
        )
        outputs = [StepOutput(inv_id, spec.name) for spec in step.outputs]
        if not outputs:
            return None
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def finish(
        self,
        *,
        run_cache: bool | None,
        pipeline_cache: bool | None,
        run_artifacts: ArtifactSettings = ArtifactSettings(),
        pipeline_artifacts: ArtifactSettings = ArtifactSettings(),
        substitutions: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> None:
        """Check the DAG, order it for execution and decide each step's settings.

        Caching, artifact metadata and visualizations are each decided from the
        run's, the step's and the pipeline's setting, strongest first
        (``domain.step_settings``).

        Invocations run in call order, except that one named in ``after=`` runs
        before the invocation that waits for it. Artifact name templates
        (``Annotated[int, "count_{date}"]``) are filled with ``now`` and the
        pipeline's ``substitutions``, then the step's.

        Raises:
            PipelineDefinitionError: ``after=`` or ``with_options(steps=...)``
                names an invocation the pipeline does not have, or the
                dependencies form a cycle.
        """
        unknown_options = sorted(set(self.step_options) - set(self.invocations))
        if unknown_options:
            raise PipelineDefinitionError(
                f"step options were given for {unknown_options}, which pipeline "
                f"{self.pipeline!r} does not call; its invocations are {list(self.invocations)}"
            )
        for invocation in self.invocations.values():
            missing = [name for name in invocation.after if name not in self.invocations]
            if missing or invocation.id in invocation.after:
                raise PipelineDefinitionError(
                    f"step {invocation.id!r} of pipeline {self.pipeline!r} waits for "
                    f"{missing or [invocation.id]} (after=), which "
                    + ("is the step itself" if not missing else "the pipeline does not call")
                    + f"; its invocations are {list(self.invocations)}"
                )
            invocation.upstream = sorted(set(invocation.upstream) | set(invocation.after))
            invocation.step = invocation.step.with_artifact_names_for_run(
                dict(substitutions or {}), now or datetime.now(UTC)
            )
            invocation.cache_disabled = cache_disabled_reason(
                run=run_cache,
                step=invocation.step.enable_cache,
                pipeline=pipeline_cache,
                step_name=invocation.step.name,
                pipeline_name=self.pipeline,
            )
            invocation.cache_setting = invocation.cache_disabled is None
            invocation.artifact_metadata, _ = deciding_setting(
                run=run_artifacts.metadata,
                step=invocation.step.enable_artifact_metadata,
                pipeline=pipeline_artifacts.metadata,
            )
            invocation.artifact_visualization, _ = deciding_setting(
                run=run_artifacts.visualization,
                step=invocation.step.enable_artifact_visualization,
                pipeline=pipeline_artifacts.visualization,
            )
        self.enable_cache = run_cache if run_cache is not None else pipeline_cache
        self.invocations = {inv.id: inv for inv in self._execution_order()}

    def _execution_order(self) -> list[Invocation]:
        done: set[str] = set()
        order: list[Invocation] = []
        pending = list(self.invocations.values())
        while pending:
            ready = next((i for i in pending if set(i.upstream) <= done), None)
            if ready is None:
                raise PipelineDefinitionError(
                    f"the steps {[i.id for i in pending]} of pipeline {self.pipeline!r} wait "
                    "for each other (after=) in a cycle; remove one of those after= names"
                )
            pending.remove(ready)
            done.add(ready.id)
            order.append(ready)
        return order

    def spec(self) -> dict[str, Any]:
        """The DAG as recorded in ``RunStarted``.

        ``enable_cache`` is the run's setting (``run(enable_cache=...)``, else the
        pipeline's), left out when neither has one; each step records the
        setting that decided for it (``run.config`` and ``step.config`` read them).
        """
        spec: dict[str, Any] = {
            "steps": {inv_id: inv.spec() for inv_id, inv in self.invocations.items()}
        }
        if self.enable_cache is not None:
            spec["enable_cache"] = self.enable_cache
        if self.extra:
            spec["extra"] = dict(self.extra)
        return spec


def _typed_or_none(value: Any) -> Any:
    try:
        return typed_jsonable(value)
    except TypeError:
        return None


@contextmanager
def building(
    pipeline: str,
    step_options: Mapping[str, Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Iterator[DagBuilder]:
    """Collect the step calls made while the pipeline function runs."""
    inside = _executing.get()
    if inside is not None:
        raise PipelineDefinitionError(
            f"pipeline {pipeline!r} was called from inside {inside} while it ran; a step "
            "cannot start a pipeline run: call the pipeline after the other one, or call "
            "its steps' functions directly"
        )
    if active_dag.get() is not None:
        raise PipelineDefinitionError(
            f"pipeline {pipeline!r} was called while another pipeline was being built; "
            "call pipelines one after the other, not from inside each other"
        )
    builder = DagBuilder(pipeline, step_options, extra)
    token = active_dag.set(builder)
    try:
        yield builder
    finally:
        active_dag.reset(token)
