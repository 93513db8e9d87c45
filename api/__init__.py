"""lineagelog's public API: steps, pipelines, the post-execution client, materializers.

Example:
    >>> from lineagelog.api import step, pipeline, Client  # doctest: +SKIP
"""

from __future__ import annotations

from lineagelog.adapters.materializers import (
    ArtifactType,
    BaseMaterializer,
    PickleMaterializer,
    VisualizationType,
    allow_pickle,
)
from lineagelog.api.client import Client
from lineagelog.api.config import configure
from lineagelog.api.models import ArtifactVersion, Run, StepRun
from lineagelog.api.pipeline import pipeline
from lineagelog.api.step import step
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    ConfigurationError,
    InvalidArtifactNameError,
    LineageError,
    MaterializerError,
    NoMaterializerError,
    NotFoundError,
    PipelineDefinitionError,
    RunFailedError,
    RunNotFoundError,
    StorageError,
    UnsafeLoadError,
    UntrustedTypeError,
)

__all__ = [
    "ArtifactNotFoundError",
    "ArtifactType",
    "ArtifactVersion",
    "BaseMaterializer",
    "Client",
    "ConfigurationError",
    "InvalidArtifactNameError",
    "LineageError",
    "MaterializerError",
    "NoMaterializerError",
    "NotFoundError",
    "PickleMaterializer",
    "PipelineDefinitionError",
    "Run",
    "RunFailedError",
    "RunNotFoundError",
    "StepRun",
    "StorageError",
    "UnsafeLoadError",
    "UntrustedTypeError",
    "VisualizationType",
    "allow_pickle",
    "configure",
    "pipeline",
    "step",
]
