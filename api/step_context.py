"""What a step sees while it runs: ``get_step_context()``, as in ZenML.

The runner opens a ``StepContext`` around each step body it executes. It names
the pipeline, the run and the step run, and for every output the artifact name,
the URI the output will be written to (its artifact version id is chosen
before the body runs, so the URI is the one the log will record) and the
materializer the output's declared type selects. Metadata a step adds to an
output here is recorded on that output's artifact version, in the same append
that records the version.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID, uuid4

from lineagelog.adapters.materializers import BaseMaterializer, materializer_for
from lineagelog.adapters.materializers.base import make_materializer
from lineagelog.domain.errors import NoMaterializerError, StepContextError
from lineagelog.domain.metadata import checked_metadata
from lineagelog.domain.names import default_artifact_name

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.api.building import Invocation
    from lineagelog.api.context import LineageContext
    from lineagelog.api.tagging import Tag

__all__ = [
    "PipelineInfo",
    "PipelineRunInfo",
    "StepContext",
    "StepContextOutput",
    "StepRunInfo",
    "current_step_context",
    "get_step_context",
    "plan_outputs",
    "running_step",
]


@dataclass(frozen=True)
class PipelineInfo:
    """The pipeline of the running step (ZenML's ``step_context.pipeline``)."""

    name: str


@dataclass(frozen=True)
class PipelineRunInfo:
    """The run the step belongs to (ZenML's ``step_context.pipeline_run``)."""

    id: UUID
    name: str
    pipeline: PipelineInfo


@dataclass(frozen=True)
class StepRunInfo:
    """The running step run (ZenML's ``step_context.step_run``); ``name`` is the invocation id."""

    id: UUID
    name: str
    pipeline_run_id: UUID


@dataclass
class StepContextOutput:
    """One output of the running step: where it goes and what writes it."""

    name: str
    artifact_name: str
    artifact_version_id: UUID
    artifact_uri: str
    materializer_class: type[BaseMaterializer] | None
    """The class the step's override or the output's declared type selects; None when the
    type is not declared, so that the returned value's type chooses."""
    run_metadata: dict[str, Any] = field(default_factory=dict)
    """Metadata the step added to this output; recorded on its artifact version."""
    tags: list[Tag] = field(default_factory=list)
    """Tags the step added to this output (``add_tags(infer_artifact=True)``); recorded with
    its artifact version, in the same append."""


def plan_outputs(
    context: LineageContext, pipeline: str, invocation: Invocation
) -> dict[str, StepContextOutput]:
    """Choose each output's artifact version id, URI and materializer before the step runs.

    The plan is plain data: it travels with a step sent to a worker, and comes back
    with the metadata and tags the step added to its outputs there.
    """
    planned: dict[str, StepContextOutput] = {}
    for spec in invocation.step.outputs:
        name = spec.artifact_name or default_artifact_name(pipeline, invocation.id, spec.name)
        artifact_version_id = uuid4()
        materializer = invocation.step.output_materializers.get(spec.name)
        if materializer is None and isinstance(spec.data_type, type):
            try:
                materializer = materializer_for(spec.data_type)
            except NoMaterializerError:
                materializer = None  # the returned value's type decides, or fails naming it
        planned[spec.name] = StepContextOutput(
            name=spec.name,
            artifact_name=name,
            artifact_version_id=artifact_version_id,
            artifact_uri=context.artifacts.version_uri(name, artifact_version_id),
            materializer_class=materializer,
        )
    return planned


class OutputWriter(Protocol):
    """What records a value as a new artifact version of the running step (``ArtifactRecorder``)."""

    def write(
        self, step_run_id: UUID, name: str, output_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        """Write ``value`` as a new version of ``name``, recorded as output ``output_name``."""


class StepContext:
    """The context of the running step: its pipeline, run, step run and outputs.

    Get it with ``get_step_context()`` inside a step body, as in ZenML::

        @step
        def my_step() -> int:
            context = get_step_context()
            uri = context.get_output_artifact_uri()
            return len(context.pipeline_run.name)
    """

    def __init__(
        self,
        *,
        pipeline_run: PipelineRunInfo,
        step_run: StepRunInfo,
        outputs: Mapping[str, StepContextOutput],
        lineage: LineageContext | None,
        on_saved: Callable[[list[int]], object] | None = None,
        writer: OutputWriter | None = None,
        artifact_store: ArtifactStore | None = None,
    ) -> None:
        """Describe one step execution (the runner makes it; steps call ``get_step_context``).

        ``lineage`` is None for a step running on a worker (``executor="dask"``): only
        the driver writes the log, so what the step logs on its own step run is kept
        here (``step_run_metadata``) and recorded by the driver with the step's outputs,
        and whatever needs the log itself is refused with a ``StepContextError``.
        ``artifact_store`` is the run's store (``lineage.artifacts`` by default).
        """
        self.pipeline_run = pipeline_run
        self.step_run = step_run
        self.step_name = step_run.name
        self._outputs = dict(outputs)
        self._lineage = lineage
        self.artifact_store = artifact_store or (lineage.artifacts if lineage else None)
        self.step_run_metadata: dict[str, Any] = {}
        """Metadata a step on a worker logged on its own step run, for the driver to record."""
        self.on_saved = on_saved
        """Called with the positions of events appended on the step's behalf."""
        self.writer = writer
        """The run's artifact recorder: ``save_artifact`` inside the step writes through it."""

    @property
    def on_worker(self) -> bool:
        """Whether the step runs on a worker, away from the log (``executor="dask"``)."""
        return self._lineage is None

    @property
    def lineage(self) -> LineageContext:
        """The stores of the run: metadata logged inside the step goes to the same log.

        Raises:
            StepContextError: the step runs on a worker, where the log is not written.
        """
        if self._lineage is None:
            raise StepContextError(
                f"{self.label} runs on a worker, and only the process that started the run "
                "writes the log: inside a step on Dask, log metadata on the step itself "
                "(log_metadata(metadata)) or on its outputs (add_output_metadata, "
                "log_metadata(..., infer_artifact=True)), tag its outputs "
                "(add_tags(..., infer_artifact=True)), and return values as outputs instead "
                "of save_artifact; do the rest after the run, or use executor='local'"
            )
        return self._lineage

    def defer_step_run_metadata(self, metadata: dict[str, Any]) -> None:
        """Keep metadata logged on this step run on a worker, for the driver to record."""
        checked_metadata(metadata)
        self.step_run_metadata.update(metadata)

    @property
    def label(self) -> str:
        """``step 'x' of pipeline 'p'``, as messages name the running step."""
        return f"step {self.step_name!r} of pipeline {self.pipeline.name!r}"

    @property
    def pipeline(self) -> PipelineInfo:
        """The pipeline being run."""
        return self.pipeline_run.pipeline

    @property
    def output_names(self) -> tuple[str, ...]:
        """The names of the step's outputs, in declaration order."""
        return tuple(self._outputs)

    @property
    def model(self) -> Any:
        """ZenML's Model Control Plane is not part of lineagelog: always raises.

        Raises:
            StepContextError: saying to keep the model as a named artifact.
        """
        raise StepContextError(
            f"step {self.step_name!r} asked for step_context.model, but ZenML's Model Control "
            "Plane is not part of lineagelog; keep the model as a named artifact "
            "(-> Annotated[MyModel, 'model']) and read it with Client().get_artifact_version"
        )

    def _get_output(self, output_name: str | None = None) -> StepContextOutput:
        """The output named ``output_name`` (an output or artifact name), or the only one."""
        names = list(self._outputs)
        if not names:
            raise StepContextError(
                f"step {self.step_name!r} has no outputs, so it has no output artifact, URI "
                "or materializer; declare a return annotation (-> int) to have one"
            )
        if output_name is None:
            if len(names) > 1:
                raise StepContextError(
                    f"step {self.step_name!r} has several outputs {names}; name the one you "
                    "mean (output_name=...)"
                )
            return self._outputs[names[0]]
        if output_name in self._outputs:
            return self._outputs[output_name]
        for output in self._outputs.values():
            if output.artifact_name == output_name:
                return output
        raise StepContextError(
            f"step {self.step_name!r} has no output {output_name!r}; its outputs are {names}"
        )

    def get_output_artifact_uri(self, output_name: str | None = None) -> str:
        """The URI the output will be written to: the one its artifact version records.

        Raises:
            StepContextError: no such output, or several and none named.
        """
        return self._get_output(output_name).artifact_uri

    def get_output_materializer(
        self,
        output_name: str | None = None,
        custom_materializer_class: type[BaseMaterializer] | None = None,
        data_type: type | None = None,
    ) -> BaseMaterializer:
        """A materializer for the output, made for its artifact URI and the run's store.

        ``custom_materializer_class`` replaces the output's materializer;
        ``data_type`` selects the registered materializer of that type.

        Raises:
            StepContextError: no such output, or the output declares no type and
                neither ``custom_materializer_class`` nor ``data_type`` is given.
            NoMaterializerError: no materializer is registered for ``data_type``.
        """
        output = self._get_output(output_name)
        materializer = custom_materializer_class
        if materializer is None and data_type is not None:
            materializer = materializer_for(data_type)
        if materializer is None:
            materializer = output.materializer_class
        if materializer is None:
            raise StepContextError(
                f"output {output.name!r} of step {self.step_name!r} declares no type, so its "
                "materializer is chosen by the type of the value the step returns; declare the "
                "output's type (-> MyType) or pass data_type= or custom_materializer_class="
            )
        assert self.artifact_store is not None  # the runner always gives one
        return make_materializer(materializer, output.artifact_uri, self.artifact_store)

    def get_output_metadata(self, output_name: str | None = None) -> dict[str, Any]:
        """The metadata added to the output so far in this step.

        Raises:
            StepContextError: no such output, or several and none named.
        """
        return dict(self._get_output(output_name).run_metadata)

    def add_output_metadata(self, metadata: dict[str, Any], output_name: str | None = None) -> None:
        """Add metadata to the output's artifact version, recorded when the output is saved.

        Raises:
            StepContextError: no such output, or several and none named.
            InvalidMetadataError: a value is not a metadata type.
        """
        output = self._get_output(output_name)
        checked_metadata(metadata)  # refused here, in the step, not when the output is saved
        output.run_metadata.update(metadata)

    def tag_output(self, output_name: str, tags: list[Tag]) -> None:
        """Tag output ``output_name`` when it is recorded (in the same append)."""
        self._outputs[output_name].tags.extend(tags)

    def untag_output(self, output_name: str, names: list[str]) -> None:
        """Drop tags waiting for ``output_name``: it has no version yet to remove them from."""
        output = self._outputs[output_name]
        output.tags = [tag for tag in output.tags if tag.name not in names]

    def planned(self, output_name: str) -> StepContextOutput:
        """The output ``output_name`` as planned for the runner (no name lookups, no errors)."""
        return self._outputs[output_name]

    def __repr__(self) -> str:
        return f"StepContext(step {self.step_name!r} of run {self.pipeline_run.name!r})"


_current: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "lineagelog_step_context", default=None
)


def get_step_context() -> StepContext:
    """The context of the step running now.

    Raises:
        StepContextError: (a ``RuntimeError``, as ZenML raises) when no step is running.
    """
    context = _current.get()
    if context is None:
        raise StepContextError(
            "The step context is only available inside a step function: get_step_context() "
            "was called while no step of a pipeline run was executing (calling a step outside "
            "a pipeline runs a plain function, with no context)"
        )
    return context


def current_step_context() -> StepContext | None:
    """The context of the step running now, or None outside a step."""
    return _current.get()


@contextmanager
def running_step(context: StepContext) -> Iterator[StepContext]:
    """Make ``context`` the step context while a step body runs."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
