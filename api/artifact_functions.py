"""ZenML's module-level ``save_artifact``, ``load_artifact`` and ``register_artifact``.

Outside a step they record a version with no producer
(``ExternalVersionRegistered``), as ``Client.save_artifact`` does. Inside a step
body, ``save_artifact`` links the new version to the running step run as an
output (a ``"manual"`` ``ArtifactWritten`` on its stream, as ZenML links it),
so lineage shows the step produced it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from lineagelog.api.artifact_config import (
    ArtifactConfig,
    checked_artifact_type,
    checked_run_metadata,
    checked_tags,
)
from lineagelog.api.step_context import OutputWriter, StepContext, current_step_context
from lineagelog.domain.errors import PipelineDefinitionError
from lineagelog.domain.names import check_artifact_name

if TYPE_CHECKING:
    import os

    from lineagelog.adapters.materializers import ArtifactType, BaseMaterializer
    from lineagelog.api.lifecycle import VersionSettings
    from lineagelog.api.models import ArtifactVersion

__all__ = ["load_artifact", "register_artifact", "save_artifact"]


def _settings(
    version: str | int | None,
    tags: Iterable[str] | None,
    run_metadata: Mapping[str, Any] | None,
    artifact_type: ArtifactType | str | None,
    *,
    extract_metadata: bool = True,
    include_visualizations: bool = True,
) -> VersionSettings:
    from lineagelog.api.lifecycle import VersionSettings

    config = ArtifactConfig(version=version, tags=tags)  # checks the version name and tags
    chosen_type = checked_artifact_type(artifact_type)
    return VersionSettings(
        version=config.version,
        tags=checked_tags(tags),
        run_metadata=checked_run_metadata(run_metadata, "user_metadata"),
        artifact_type=None if chosen_type is None else chosen_type.value,
        extract_metadata=extract_metadata,
        include_visualizations=include_visualizations,
    )


def save_artifact(
    data: Any,
    name: str,
    version: str | int | None = None,
    artifact_type: ArtifactType | str | None = None,
    tags: list[str] | None = None,
    extract_metadata: bool = True,
    include_visualizations: bool = True,
    user_metadata: dict[str, Any] | None = None,
    materializer: type[BaseMaterializer] | None = None,
) -> ArtifactVersion:
    """Save ``data`` as a new version of artifact ``name`` (ZenML's ``save_artifact``).

    Parameters:
        data: the value; the materializer registered for its type writes it
            (or ``materializer``). A ``pathlib.Path`` is a file or folder.
        name: the artifact name.
        version: the version's name (such as ``"1.0"``); None gives the next number.
        artifact_type: the artifact's type, instead of the materializer's.
        tags: tags the new version gets.
        extract_metadata: False skips the materializer's ``extract_metadata``.
        include_visualizations: False skips its ``save_visualizations``.
        user_metadata: JSON values recorded with the version (its ``run_metadata``).
        materializer: the materializer class to write it with.

    Inside a step body the version is linked to the running step run as an
    output named ``name``; outside, it has no producer.

    Raises:
        DuplicateVersionError: the artifact already has a version named ``version``.
        NoMaterializerError: no materializer takes the value's type.
    """
    from lineagelog.api.client import Client

    check_artifact_name(name)
    settings = _settings(
        version,
        tags,
        user_metadata,
        artifact_type,
        extract_metadata=extract_metadata,
        include_visualizations=include_visualizations,
    )
    running = current_step_context()
    if running is not None and running.on_worker:
        running.lineage  # noqa: B018 (refuses: a step on a worker returns values as outputs)
    if running is None or running.writer is None:
        return Client().save_artifact(data, name, materializer=materializer, settings=settings)
    return _save_in_step(running, running.writer, data, name, materializer, settings)


def _save_in_step(
    running: StepContext,
    writer: OutputWriter,
    data: Any,
    name: str,
    materializer: type[BaseMaterializer] | None,
    settings: VersionSettings,
) -> ArtifactVersion:
    from lineagelog.adapters.materializers import ArtifactType, materializer_for
    from lineagelog.api.client import Client

    if name in running.output_names:
        raise PipelineDefinitionError(
            f"{running.label} saves an artifact named {name!r}, which is also the name of one "
            "of its outputs; give the saved artifact another name, or return the value as "
            "that output"
        )
    config = ArtifactConfig(
        version=settings.version,
        tags=settings.tags,
        run_metadata=settings.run_metadata,
        artifact_type=None
        if settings.artifact_type is None
        else ArtifactType(settings.artifact_type),
    )
    produced = writer.write(
        running.step_run.id,
        name,
        name,
        data,
        materializer or materializer_for(type(data)),
        config,
        save_type="manual",
        extract_metadata=settings.extract_metadata,
        include_visualizations=settings.include_visualizations,
    )
    client = Client(_context=running.lineage)
    return client.get_artifact_version(name, produced.version)


def load_artifact(name_or_id: str | uuid.UUID, version: str | int | None = None) -> Any:
    """Load the value of an artifact version (ZenML's ``load_artifact``).

    ``name_or_id`` is an artifact name (with ``version``: a version name or
    number; the latest when None) or an artifact version id.

    Raises:
        ArtifactNotFoundError: no such artifact or version.
    """
    from lineagelog.api.client import Client

    client = Client()
    if isinstance(name_or_id, uuid.UUID) or (version is None and _is_uuid(name_or_id)):
        return client.get_artifact_version_by_id(name_or_id).load()
    return client.get_artifact_version(str(name_or_id), version).load()


def _is_uuid(text: object) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def register_artifact(
    folder_or_file_uri: str | os.PathLike[str],
    name: str,
    version: str | int | None = None,
    artifact_type: ArtifactType | str | None = None,
    tags: list[str] | None = None,
    artifact_metadata: dict[str, Any] | None = None,
) -> ArtifactVersion:
    """Register an existing file or folder as a new version of ``name`` (ZenML's function).

    Data inside the artifact store (ZenML's pattern: written under
    ``<store>/<name>``) is referenced where it lies; data elsewhere (a local
    path) is copied in. Either way it is hashed, and ``load()`` gives a local
    path to a temporary copy.

    Raises:
        ArtifactSourceError: the path holds the artifact store itself.
        ArtifactNotFoundError: nothing exists at the path.
        DuplicateVersionError: the artifact already has a version named ``version``.
    """
    from lineagelog.api.client import Client

    settings = _settings(version, tags, artifact_metadata, artifact_type)
    return Client().register_artifact(folder_or_file_uri, name, settings=settings)
