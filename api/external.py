"""``ExternalArtifact``: a value from outside the pipeline passed into a step, as in ZenML.

``my_step(data=ExternalArtifact(value=df))`` inside a pipeline saves ``df`` as an
artifact version once (named ``{pipeline}::{step}::external_{input}`` after its
first consumer), when the run starts (before ``RunStarted``, so the run's
DAG names the version); the step loads it on its side like any input, the cache
key uses its content hash, and lineage has a ``consumed`` edge from it. An
``ArtifactVersion`` from the ``Client`` is passed the same way, without saving.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from lineagelog.domain.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from lineagelog.adapters.materializers import BaseMaterializer

__all__ = ["ExternalArtifact"]

_LOOKUP_OPTIONS = ("id", "name", "version", "model")


class ExternalArtifact:
    """A value to pass into a step of a pipeline as an input artifact (ZenML's class).

    Parameters:
        value: the value; saved when the run starts with the materializer
            registered for its type (or ``materializer``).
        materializer: the materializer class to save it with.
        store_artifact_metadata: False skips the materializer's ``extract_metadata``.
        store_artifact_visualizations: False skips its ``save_visualizations``.

    Raises:
        PipelineDefinitionError: ``id=``, ``name=``, ``version=`` or ``model=``
            (ZenML's deprecated lookups): pass ``Client().get_artifact_version(...)``.

    Examples:
        >>> ExternalArtifact(value=[1, 2, 3])
        ExternalArtifact(value=list)
    """

    _passes_as_step_input: ClassVar[bool] = True

    def __init__(
        self,
        value: Any = None,
        materializer: type[BaseMaterializer] | None = None,
        store_artifact_metadata: bool = True,
        store_artifact_visualizations: bool = True,
        **options: Any,
    ) -> None:
        """Keep the value to save when a run uses it; see the class docstring."""
        if options:
            lookups = sorted(set(options) & set(_LOOKUP_OPTIONS))
            hint = (
                "to pass an existing artifact version, pass "
                "Client().get_artifact_version(name, version) itself as the step's argument"
                if lookups
                else "its options are value, materializer, store_artifact_metadata and "
                "store_artifact_visualizations"
            )
            raise PipelineDefinitionError(
                f"ExternalArtifact does not take {sorted(options)}; {hint}"
            )
        if value is None:
            raise PipelineDefinitionError(
                "ExternalArtifact(value=None) has nothing to save; pass value=..."
            )
        self.value = value
        self.materializer = materializer
        self.store_artifact_metadata = bool(store_artifact_metadata)
        self.store_artifact_visualizations = bool(store_artifact_visualizations)

    def __repr__(self) -> str:
        return f"ExternalArtifact(value={type(self.value).__name__})"
