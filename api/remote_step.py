"""A step as it travels to a worker: run it there, write its outputs, send back what was saved.

The driver plans everything that needs the log before the step leaves (the cache
decision, each output's artifact version id and URI), and records everything after
it returns. On the worker, ``RemoteStep`` loads the inputs from the artifact store
through their recorded materializers (checking their bytes first, as locally), runs
the body inside a step context without the log, and materializes each output into
its planned folder. What comes back (``RemoteResult``) is plain data: the saved
outputs (hash, URI, materializer, metadata, visualizations), the metadata and tags
the step added to them, and the metadata it logged on its own step run.

The step itself (its function, closures and all) is pickled once per run by the
driver (``PackedStep``) and travels as those bytes; a worker unpickles each
distinct step once and keeps it, so a chain of fifty calls of one step pickles
and unpickles it once rather than fifty times.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.adapters.materializers import save_artifact
from lineagelog.api.artifacts import check_untouched, load_stored_input, output_materializer
from lineagelog.api.building import executing_step
from lineagelog.api.step_context import (
    PipelineInfo,
    PipelineRunInfo,
    StepContext,
    StepContextOutput,
    StepRunInfo,
    running_step,
)
from lineagelog.domain.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.adapters.materializers import SavedArtifact
    from lineagelog.api.building import Invocation
    from lineagelog.api.recorded import ProducedOutput
    from lineagelog.api.step import Step

__all__ = ["PackedStep", "RemoteResult", "RemoteStep", "split_result"]


_UNPACKED_LIMIT = 256  # distinct steps a worker keeps unpickled
_unpacked: OrderedDict[str, Step] = OrderedDict()
_unpacked_lock = threading.Lock()  # a worker may run several threads


@dataclass(frozen=True)
class PackedStep:
    """A step pickled once on the driver: its bytes and their digest (the workers' cache key)."""

    digest: str
    data: bytes

    @classmethod
    def of(cls, step: Step) -> PackedStep:
        """Pickle ``step`` with cloudpickle (by value where its module is not importable)."""
        import cloudpickle

        data = cloudpickle.dumps(step)
        return cls(hashlib.sha256(data).hexdigest(), data)

    def unpack(self) -> Step:
        """The step, unpickled at most once per worker process while it stays in the cache."""
        with _unpacked_lock:
            cached = _unpacked.get(self.digest)
            if cached is not None:
                _unpacked.move_to_end(self.digest)
                return cached
        import cloudpickle

        step: Step = cloudpickle.loads(self.data)
        with _unpacked_lock:
            _unpacked[self.digest] = step
            while len(_unpacked) > _UNPACKED_LIMIT:
                _unpacked.popitem(last=False)
        return step


@dataclass(frozen=True)
class RemoteResult:
    """What a step on a worker produced, for the driver to record."""

    saved: dict[str, SavedArtifact]
    """Output name -> its bytes as written and hashed, in declaration order."""
    planned: dict[str, StepContextOutput]
    """The outputs as the step context left them: with the metadata and tags the step added."""
    step_run_metadata: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    """How long the body and the writes took on the worker."""


@dataclass(frozen=True)
class RemoteStep:
    """One step execution, packed to run on a worker (a callable without arguments)."""

    pipeline: str
    run_name: str
    run_id: UUID
    step_run_id: UUID
    invocation_id: str
    packed: PackedStep
    parameters: dict[str, Any]
    inputs: dict[str, ProducedOutput]
    planned: dict[str, StepContextOutput]
    store: ArtifactStore
    pickle_fallback: bool
    extract_metadata: bool
    include_visualizations: bool

    @classmethod
    def of(
        cls,
        invocation: Invocation,
        packed: PackedStep,
        *,
        pipeline: str,
        run_name: str,
        run_id: UUID,
        step_run_id: UUID,
        inputs: dict[str, ProducedOutput],
        planned: dict[str, StepContextOutput],
        store: ArtifactStore,
        pickle_fallback: bool,
    ) -> RemoteStep:
        """Pack ``invocation`` (only what the worker needs: no views, no log, no clients).

        ``packed`` is ``invocation.step`` pickled (``PackedStep.of``), shared by its calls.
        """
        return cls(
            pipeline,
            run_name,
            run_id,
            step_run_id,
            invocation.id,
            packed,
            dict(invocation.parameters),
            inputs,
            planned,
            store,
            pickle_fallback,
            invocation.artifact_metadata,
            invocation.artifact_visualization,
        )

    @property
    def label(self) -> str:
        """``step 'x' of pipeline 'p'``."""
        return f"step {self.invocation_id!r} of pipeline {self.pipeline!r}"

    def __call__(self) -> RemoteResult:
        """Load the inputs, run the body, write the outputs; raise what the step raised."""
        started = time.perf_counter()
        step = self.packed.unpack()
        for planned in self.planned.values():
            # An earlier attempt on a worker that died may have left part of a folder.
            if self.store.exists(planned.artifact_uri):
                self.store.rmtree(planned.artifact_uri)
        kwargs = dict(self.parameters)
        for name, produced in self.inputs.items():
            kwargs[name] = load_stored_input(self.store, produced)
        context = StepContext(
            pipeline_run=PipelineRunInfo(self.run_id, self.run_name, PipelineInfo(self.pipeline)),
            step_run=StepRunInfo(self.step_run_id, self.invocation_id, self.run_id),
            outputs=self.planned,
            lineage=None,
            artifact_store=self.store,
        )
        with executing_step(self.label), running_step(context):
            result = step.func(**kwargs)
        values = split_result(self.invocation_id, step, result)
        saved: dict[str, SavedArtifact] = {}
        for spec, value in zip(step.outputs, values, strict=True):
            planned = context.planned(spec.name)
            materializer = output_materializer(
                step,
                self.invocation_id,
                self.pipeline,
                spec.name,
                value,
                pickle_fallback=self.pickle_fallback,
            )
            check_untouched(self.store, self.invocation_id, planned)
            saved[spec.name] = save_artifact(
                value,
                uri=planned.artifact_uri,
                store=self.store,
                materializer_cls=materializer,
                extract_metadata=self.extract_metadata,
                include_visualizations=self.include_visualizations,
            )
        return RemoteResult(
            saved,
            {name: context.planned(name) for name in self.planned},
            dict(context.step_run_metadata),
            time.perf_counter() - started,
        )


def split_result(invocation_id: str, step: Step, result: Any) -> list[Any]:
    """A step's return value as one value per declared output.

    Raises:
        PipelineDefinitionError: several outputs declared, and not a tuple of as many returned.
    """
    outputs = step.outputs
    if len(outputs) == 0:
        return []
    if len(outputs) == 1:
        return [result]
    if not isinstance(result, tuple) or len(result) != len(outputs):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise PipelineDefinitionError(
            f"step {invocation_id!r} declares {len(outputs)} outputs "
            f"{[o.name for o in outputs]} but returned {got}; return a tuple with one value "
            "per declared output"
        )
    return list(result)
