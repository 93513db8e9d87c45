"""``ArtifactConfig``: how a step output is named, versioned, tagged and typed (as in ZenML).

Used inside ``Annotated``::

    @step
    def train() -> Annotated[Model, ArtifactConfig(name="model", version="1.0", tags=["prod"])]:
        ...

The same checks apply to the module-level ``save_artifact`` and
``register_artifact``, which take the same settings as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lineagelog.adapters.materializers import ArtifactType
from lineagelog.api.naming import probe_template
from lineagelog.domain.artifact_name import check_tag, check_version_name
from lineagelog.domain.canonical import to_jsonable
from lineagelog.domain.errors import InvalidVersionError, PipelineDefinitionError
from lineagelog.domain.names import check_artifact_name

__all__ = ["ArtifactConfig", "checked_artifact_type", "checked_run_metadata", "checked_tags"]

_MODEL_OPTIONS = ("model_name", "model_version", "is_model_artifact", "is_deployment_artifact")


def checked_tags(tags: Iterable[str] | str | None) -> tuple[str, ...]:
    """The tags as a tuple, each checked (``InvalidTagError`` names a bad one)."""
    if tags is None:
        return ()
    if isinstance(tags, str):
        tags = [tags]
    return tuple(dict.fromkeys(check_tag(tag) for tag in tags))


def checked_run_metadata(metadata: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """``metadata`` as plain JSON values keyed by text.

    Raises:
        PipelineDefinitionError: a key that is not text, or a value with no JSON form.

    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) for k in metadata):
        raise PipelineDefinitionError(
            f"{what} {metadata!r} is not a dict with string keys; pass e.g. {{'accuracy': 0.9}}"
        )
    try:
        return {key: to_jsonable(value) for key, value in metadata.items()}
    except TypeError as e:
        raise PipelineDefinitionError(
            f"{what} has a value that has no JSON form ({e}); use numbers, strings, lists and dicts"
        ) from None


def checked_artifact_type(artifact_type: ArtifactType | str | None) -> ArtifactType | None:
    """``artifact_type`` as an ``ArtifactType`` (a member or its value), or None."""
    if artifact_type is None:
        return None
    try:
        return ArtifactType(artifact_type)
    except ValueError:
        raise PipelineDefinitionError(
            f"artifact_type {artifact_type!r} is not an ArtifactType; use one of "
            f"{', '.join(f'ArtifactType.{t.name}' for t in ArtifactType)}"
        ) from None


def _checked_version(version: object) -> str:
    """A usable version name; a number's place is checked when the version is handed out."""
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if isinstance(version, str) and version.isdigit():
        if int(version) < 1:
            raise InvalidVersionError(f"version {version!r} is not a version number (1, 2...)")
        return version
    return check_version_name(version, 0)


class ArtifactConfig:
    """The name, version, tags, run metadata and type of a step output, as in ZenML.

    Parameters:
        name: the artifact name (may hold ``{date}``, ``{time}`` and
            substitution placeholders, as an ``Annotated`` name may).
        version: the version's name (such as ``"1.0"``); None gives the next
            number. A name the artifact already has is refused when the step writes.
        tags: tags the new version gets (each a ``VersionTagged`` event).
        run_metadata: JSON values recorded with the new version.
        artifact_type: the artifact's type, instead of the materializer's.

    Raises:
        PipelineDefinitionError: an option of ZenML's Model Control Plane
            (``model_name``, ``is_model_artifact``...), which lineagelog does not have.

    Examples:
        >>> ArtifactConfig(name="model", version="1.0", tags=["prod"])
        ArtifactConfig(name='model', version='1.0', tags=('prod',))
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        version: str | int | None = None,
        tags: Iterable[str] | None = None,
        run_metadata: Mapping[str, Any] | None = None,
        artifact_type: ArtifactType | str | None = None,
        **options: Any,
    ) -> None:
        """Check and keep the settings; see the class docstring."""
        if options:
            unknown = sorted(options)
            modelled = [o for o in unknown if o in _MODEL_OPTIONS]
            hint = (
                "ZenML's Model Control Plane (Model, model versions) is not part of lineagelog"
                if modelled
                else "its options are name, version, tags, run_metadata and artifact_type"
            )
            raise PipelineDefinitionError(f"ArtifactConfig does not take {unknown}: {hint}")
        if name is not None:
            check_artifact_name(probe_template(name))
        self.name = name
        self.version = None if version is None else _checked_version(version)
        self.tags = checked_tags(tags)
        self.run_metadata = checked_run_metadata(run_metadata, "ArtifactConfig run_metadata")
        self.artifact_type = checked_artifact_type(artifact_type)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArtifactConfig):
            return NotImplemented
        return vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((self.name, self.version, self.tags, self.artifact_type))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{key}={value!r}" for key, value in vars(self).items() if value not in (None, (), {})
        )
        return f"ArtifactConfig({shown})"
