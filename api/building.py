"""Building a pipeline's DAG from the step calls made inside its function."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lineagelog.domain.canonical import to_jsonable
from lineagelog.domain.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from lineagelog.api.step import Step

__all__ = [
    "DagBuilder",
    "Invocation",
    "StepOutput",
    "building",
    "current_builder",
    "executing_step",
]

_builder: contextvars.ContextVar[DagBuilder | None] = contextvars.ContextVar(
    "lineagelog_builder", default=None
)
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


def current_builder() -> DagBuilder | None:
    """The DAG being built in this context, if a pipeline function is running."""
    return _builder.get()


@dataclass(frozen=True)
class StepOutput:
    """A placeholder for an output of an invocation, passed to later steps."""

    invocation_id: str
    output_name: str

    def __repr__(self) -> str:
        return f"<output {self.output_name!r} of {self.invocation_id!r}>"


@dataclass
class Invocation:
    """One call of a step inside a pipeline: its parameters and upstream outputs."""

    id: str
    step: Step
    parameters: dict[str, Any]
    inputs: dict[str, StepOutput]
    upstream: list[str] = field(default_factory=list)

    def spec(self) -> dict[str, Any]:
        """The invocation as recorded in the run's DAG spec."""
        return {
            "step": self.step.name,
            "source": self.step.source_ref,
            "parameters": self.parameters,
            "inputs": {
                name: {"step": out.invocation_id, "output": out.output_name}
                for name, out in self.inputs.items()
            },
            "upstream": list(self.upstream),
            "outputs": [spec.name for spec in self.step.outputs],
        }


class DagBuilder:
    """Collects invocations in call order (a valid topological order)."""

    def __init__(self, pipeline: str) -> None:
        """Start an empty DAG for ``pipeline``."""
        self.pipeline = pipeline
        self.invocations: dict[str, Invocation] = {}
        self._counts: dict[str, int] = {}

    def add_invocation(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Record a step call; return placeholders for its outputs."""
        count = self._counts.get(step.name, 0) + 1
        self._counts[step.name] = count
        invocation_id = step.name if count == 1 else f"{step.name}_{count}"
        try:
            bound = step.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise PipelineDefinitionError(
                f"step {step.name!r} called with arguments that do not fit its signature "
                f"{step.signature}: {e}"
            ) from None
        bound.apply_defaults()
        parameters: dict[str, Any] = {}
        inputs: dict[str, StepOutput] = {}
        for name, value in bound.arguments.items():
            if isinstance(value, StepOutput):
                inputs[name] = value
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
                    f"parameter {name!r} of step {step.name!r} is not JSON-serializable ({e}); "
                    "pass plain values (numbers, strings, lists, dicts), or produce the value "
                    "in an upstream step and pass its output"
                ) from None
        upstream = sorted({out.invocation_id for out in inputs.values()})
        self.invocations[invocation_id] = Invocation(
            invocation_id, step, parameters, inputs, upstream
        )
        outputs = [StepOutput(invocation_id, spec.name) for spec in step.outputs]
        if not outputs:
            return None
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def spec(self) -> dict[str, Any]:
        """The DAG as recorded in ``RunStarted``."""
        return {"steps": {inv_id: inv.spec() for inv_id, inv in self.invocations.items()}}


@contextmanager
def building(pipeline: str) -> Iterator[DagBuilder]:
    """Collect the step calls made while the pipeline function runs."""
    inside = _executing.get()
    if inside is not None:
        raise PipelineDefinitionError(
            f"pipeline {pipeline!r} was called from inside {inside} while it ran; a step "
            "cannot start a pipeline run: call the pipeline after the other one, or call "
            "its steps' functions directly"
        )
    if _builder.get() is not None:
        raise PipelineDefinitionError(
            f"pipeline {pipeline!r} was called while another pipeline was being built; "
            "call pipelines one after the other, not from inside each other"
        )
    builder = DagBuilder(pipeline)
    token = _builder.set(builder)
    try:
        yield builder
    finally:
        _builder.reset(token)
