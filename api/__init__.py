"""lineagelog's public API: steps, pipelines, the post-execution client, materializers.

Example:
    >>> from lineagelog.api import step, pipeline, Client  # doctest: +SKIP

Only ``step``, ``pipeline`` and the errors load with this module. Every other
name loads the module that defines it when first asked for (``__getattr__``):
a script that runs a pipeline never pays for the client, the materializer
classes it does not name, or the Dask adapter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lineagelog.api.pipeline import pipeline
from lineagelog.api.step import step
from lineagelog.domain.errors import (
    AmbiguousReferenceError,
    AnchorFileError,
    ArtifactNotFoundError,
    ArtifactSourceError,
    ArtifactUriError,
    ConcurrencyConflict,
    ConfigurationError,
    DatabaseNotFoundError,
    DeletedVersionError,
    DiagramRenderError,
    DownloadPathError,
    DownloadTargetExistsError,
    DuplicateVersionError,
    ExecutorError,
    ExportFormatError,
    GraphvizNotFoundError,
    IntegrityError,
    InvalidArtifactNameError,
    InvalidComparisonError,
    InvalidFilterError,
    InvalidLineageQueryError,
    InvalidMetadataError,
    InvalidOpenLineageEventError,
    InvalidRetentionError,
    InvalidTagError,
    InvalidTagTargetError,
    InvalidVersionError,
    LineageCycleError,
    LineageError,
    LineageNodeNotFoundError,
    MaterializerError,
    NoLineagePathError,
    NoMaterializerError,
    NotFoundError,
    OpenLineageDeliveryError,
    PipelineDefinitionError,
    PipelineNotFoundError,
    RunAlreadyEndedError,
    RunFailedError,
    RunNotFoundError,
    SealMovedBackError,
    StepContextError,
    StepNotSerializableError,
    StepRunNotFoundError,
    StepRunStateError,
    StorageError,
    UnknownFormatError,
    UnprotectedServerError,
    UnreachableStoreError,
    UnsafeLoadError,
    UntrustedTypeError,
    VersionInUseError,
)

__all__ = [
    "AmbiguousReferenceError",
    "AnchorFileError",
    "Artifact",
    "ArtifactConfig",
    "ArtifactNotFoundError",
    "ArtifactSourceError",
    "ArtifactType",
    "ArtifactUriError",
    "ArtifactVersion",
    "BaseMaterializer",
    "BuiltInContainerMaterializer",
    "BuiltInMaterializer",
    "BytesMaterializer",
    "CSVString",
    "Client",
    "ConcurrencyConflict",
    "ConfigurationError",
    "DType",
    "DaskExecutor",
    "DatabaseNotFoundError",
    "DataclassMaterializer",
    "DeletedVersionError",
    "DiagramRenderError",
    "DownloadPathError",
    "DownloadTargetExistsError",
    "DuplicateVersionError",
    "ExecutorError",
    "ExportFormatError",
    "ExternalArtifact",
    "GraphvizNotFoundError",
    "HTMLString",
    "IntegrityError",
    "InvalidArtifactNameError",
    "InvalidComparisonError",
    "InvalidFilterError",
    "InvalidLineageQueryError",
    "InvalidMetadataError",
    "InvalidOpenLineageEventError",
    "InvalidRetentionError",
    "InvalidTagError",
    "InvalidTagTargetError",
    "InvalidVersionError",
    "JSONString",
    "LineageCycleError",
    "LineageError",
    "LineageNodeNotFoundError",
    "MarkdownString",
    "MaterializerError",
    "NoLineagePathError",
    "NoMaterializerError",
    "NotFoundError",
    "OpenLineageDeliveryError",
    "PickleMaterializer",
    "PipelineDefinitionError",
    "PipelineModel",
    "PipelineNotFoundError",
    "Run",
    "RunAlreadyEndedError",
    "RunConfig",
    "RunFailedError",
    "RunNotFoundError",
    "SealMovedBackError",
    "StepConfig",
    "StepContext",
    "StepContextError",
    "StepExecutor",
    "StepNotSerializableError",
    "StepRun",
    "StepRunNotFoundError",
    "StepRunStateError",
    "StorageError",
    "StorageSize",
    "StructuredStringMaterializer",
    "Tag",
    "UUIDMaterializer",
    "UnknownFormatError",
    "UnmaterializedArtifact",
    "UnprotectedServerError",
    "UnreachableStoreError",
    "UnsafeLoadError",
    "UntrustedTypeError",
    "Uri",
    "VersionInUseError",
    "VisualizationType",
    "add_tags",
    "allow_pickle",
    "configure",
    "fileio",
    "get_step_context",
    "load_artifact",
    "log_artifact_metadata",
    "log_metadata",
    "materializer_registry",
    "pipeline",
    "register_artifact",
    "remove_tags",
    "save_artifact",
    "step",
]

if TYPE_CHECKING:
    from lineagelog.adapters.executors import StepExecutor
    from lineagelog.adapters.executors.dask import DaskExecutor
    from lineagelog.adapters.materializers import (
        ArtifactType,
        BaseMaterializer,
        BuiltInContainerMaterializer,
        BuiltInMaterializer,
        BytesMaterializer,
        CSVString,
        DataclassMaterializer,
        HTMLString,
        JSONString,
        MarkdownString,
        PickleMaterializer,
        StructuredStringMaterializer,
        UUIDMaterializer,
        VisualizationType,
        allow_pickle,
    )
    from lineagelog.api import fileio
    from lineagelog.api.artifact_config import ArtifactConfig
    from lineagelog.api.artifact_functions import load_artifact, register_artifact, save_artifact
    from lineagelog.api.client import Client
    from lineagelog.api.config import configure, materializer_registry
    from lineagelog.api.external import ExternalArtifact
    from lineagelog.api.metadata import log_artifact_metadata, log_metadata
    from lineagelog.api.metadata_types import DType, StorageSize, Uri
    from lineagelog.api.models import Artifact, ArtifactVersion, PipelineModel, Run, StepRun
    from lineagelog.api.run_config import RunConfig, StepConfig
    from lineagelog.api.step_context import StepContext, get_step_context
    from lineagelog.api.tagging import Tag
    from lineagelog.api.tags import add_tags, remove_tags
    from lineagelog.api.unmaterialized import UnmaterializedArtifact

_LAZY: dict[str, str] = {
    "Artifact": "lineagelog.api.models",
    "ArtifactConfig": "lineagelog.api.artifact_config",
    "ArtifactType": "lineagelog.adapters.materializers",
    "ArtifactVersion": "lineagelog.api.models",
    "BaseMaterializer": "lineagelog.adapters.materializers",
    "BuiltInContainerMaterializer": "lineagelog.adapters.materializers",
    "BuiltInMaterializer": "lineagelog.adapters.materializers",
    "BytesMaterializer": "lineagelog.adapters.materializers",
    "CSVString": "lineagelog.adapters.materializers",
    "Client": "lineagelog.api.client",
    "DType": "lineagelog.api.metadata_types",
    "DaskExecutor": "lineagelog.adapters.executors.dask",
    "DataclassMaterializer": "lineagelog.adapters.materializers",
    "ExternalArtifact": "lineagelog.api.external",
    "HTMLString": "lineagelog.adapters.materializers",
    "JSONString": "lineagelog.adapters.materializers",
    "MarkdownString": "lineagelog.adapters.materializers",
    "PickleMaterializer": "lineagelog.adapters.materializers",
    "PipelineModel": "lineagelog.api.models",
    "Run": "lineagelog.api.models",
    "RunConfig": "lineagelog.api.run_config",
    "StepConfig": "lineagelog.api.run_config",
    "StepContext": "lineagelog.api.step_context",
    "StepExecutor": "lineagelog.adapters.executors",
    "StepRun": "lineagelog.api.models",
    "StorageSize": "lineagelog.api.metadata_types",
    "StructuredStringMaterializer": "lineagelog.adapters.materializers",
    "Tag": "lineagelog.api.tagging",
    "UUIDMaterializer": "lineagelog.adapters.materializers",
    "UnmaterializedArtifact": "lineagelog.api.unmaterialized",
    "Uri": "lineagelog.api.metadata_types",
    "VisualizationType": "lineagelog.adapters.materializers",
    "add_tags": "lineagelog.api.tags",
    "allow_pickle": "lineagelog.adapters.materializers",
    "configure": "lineagelog.api.config",
    "get_step_context": "lineagelog.api.step_context",
    "load_artifact": "lineagelog.api.artifact_functions",
    "log_artifact_metadata": "lineagelog.api.metadata",
    "log_metadata": "lineagelog.api.metadata",
    "materializer_registry": "lineagelog.api.config",
    "register_artifact": "lineagelog.api.artifact_functions",
    "remove_tags": "lineagelog.api.tags",
    "save_artifact": "lineagelog.api.artifact_functions",
}
"""Public name -> the module that defines it, imported on first use."""

_SUBMODULES = frozenset({"fileio"})


def __getattr__(name: str) -> Any:
    """Load a public name's module when the name is first asked for, and keep the name."""
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
