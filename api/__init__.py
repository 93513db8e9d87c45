"""lineagelog's public API: steps, pipelines, the post-execution client, materializers.

Example:
    >>> from lineagelog.api import step, pipeline, Client  # doctest: +SKIP
"""

from __future__ import annotations

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
    materializer_registry,
)
from lineagelog.api import fileio
from lineagelog.api.client import Client
from lineagelog.api.config import configure
from lineagelog.api.models import ArtifactVersion, Run, StepRun
from lineagelog.api.pipeline import pipeline
from lineagelog.api.step import step
from lineagelog.domain.artifact_name import (
    DeletedVersionError,
    InvalidTagError,
    VersionInUseError,
)
from lineagelog.domain.errors import (
    AnchorFileError,
    ArtifactNotFoundError,
    ConcurrencyConflict,
    ConfigurationError,
    DiagramRenderError,
    ExportFormatError,
    GraphvizNotFoundError,
    IntegrityError,
    InvalidArtifactNameError,
    InvalidLineageQueryError,
    LineageCycleError,
    LineageError,
    LineageNodeNotFoundError,
    MaterializerError,
    NoLineagePathError,
    NoMaterializerError,
    NotFoundError,
    PipelineDefinitionError,
    RunFailedError,
    RunNotFoundError,
    StepRunNotFoundError,
    StorageError,
    UnknownFormatError,
    UnsafeLoadError,
    UntrustedTypeError,
)
from lineagelog.domain.lifecycle import InvalidRetentionError
from lineagelog.domain.run import RunAlreadyEndedError
from lineagelog.domain.seal import SealMovedBackError
from lineagelog.domain.step_run import StepRunStateError

__all__ = [
    "AnchorFileError",
    "ArtifactNotFoundError",
    "ArtifactType",
    "ArtifactVersion",
    "BaseMaterializer",
    "BuiltInContainerMaterializer",
    "BuiltInMaterializer",
    "BytesMaterializer",
    "CSVString",
    "Client",
    "ConcurrencyConflict",
    "ConfigurationError",
    "DataclassMaterializer",
    "DeletedVersionError",
    "DiagramRenderError",
    "ExportFormatError",
    "GraphvizNotFoundError",
    "HTMLString",
    "IntegrityError",
    "InvalidArtifactNameError",
    "InvalidLineageQueryError",
    "InvalidRetentionError",
    "InvalidTagError",
    "JSONString",
    "LineageCycleError",
    "LineageError",
    "LineageNodeNotFoundError",
    "MarkdownString",
    "MaterializerError",
    "NoLineagePathError",
    "NoMaterializerError",
    "NotFoundError",
    "PickleMaterializer",
    "PipelineDefinitionError",
    "Run",
    "RunAlreadyEndedError",
    "RunFailedError",
    "RunNotFoundError",
    "SealMovedBackError",
    "StepRun",
    "StepRunNotFoundError",
    "StepRunStateError",
    "StorageError",
    "StructuredStringMaterializer",
    "UUIDMaterializer",
    "UnknownFormatError",
    "UnsafeLoadError",
    "UntrustedTypeError",
    "VersionInUseError",
    "VisualizationType",
    "allow_pickle",
    "configure",
    "fileio",
    "materializer_registry",
    "pipeline",
    "step",
]
