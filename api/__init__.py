"""lineagelog's public API: steps, pipelines, the post-execution client, materializers.

Example:
    >>> from lineagelog.api import step, pipeline, Client  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineagelog.adapters.executors import StepExecutor
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
from lineagelog.api.pipeline import pipeline
from lineagelog.api.run_config import RunConfig, StepConfig
from lineagelog.api.step import step
from lineagelog.api.step_context import StepContext, get_step_context
from lineagelog.api.tagging import Tag
from lineagelog.api.tags import add_tags, remove_tags
from lineagelog.api.unmaterialized import UnmaterializedArtifact
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
    from lineagelog.adapters.executors.dask import DaskExecutor


def __getattr__(name: str) -> Any:
    """``DaskExecutor``, imported when first asked for: most runs never need it."""
    if name == "DaskExecutor":
        from lineagelog.adapters.executors.dask import DaskExecutor

        return DaskExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
