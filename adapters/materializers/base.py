"""``BaseMaterializer``: how one Python type is written to and read from the artifact store.

ZenML-compatible: subclasses set ``ASSOCIATED_TYPES`` and
``ASSOCIATED_ARTIFACT_TYPE`` and implement ``save`` and ``load``; optionally
``save_visualizations`` and ``extract_metadata``. Defining a subclass registers
it for its ``ASSOCIATED_TYPES`` (see ``registry``); set ``SKIP_REGISTRATION =
True`` in a class body to keep that class out of the registry.

A materializer whose ``load`` writes files onto the local disk sets
``VERIFY_BEFORE_LOAD = True``: ``load_artifact`` then hashes the stored files
and compares them with the recorded content hash before calling ``load``,
even when the caller did not ask to verify, so files a store writer changed
are never materialized.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from lineagelog.adapters.materializers.registry import record_definition, register_materializer
from lineagelog.domain.errors import MaterializerError

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = [
    "VISUALIZATIONS_FOLDER",
    "ArtifactType",
    "BaseMaterializer",
    "VisualizationType",
]

VISUALIZATIONS_FOLDER = "visualizations"


class ArtifactType(StrEnum):
    """What kind of thing an artifact is (values as in ZenML)."""

    DATA = "DataArtifact"
    MODEL = "ModelArtifact"
    SCHEMA = "SchemaArtifact"
    STATISTICS = "StatisticsArtifact"
    DATA_ANALYSIS = "DataAnalysisArtifact"
    SERVICE = "ServiceArtifact"
    BASE = "BaseArtifact"


class VisualizationType(StrEnum):
    """The format of a visualization file (values as in ZenML)."""

    HTML = "html"
    MARKDOWN = "markdown"
    IMAGE = "image"
    CSV = "csv"
    JSON = "json"


class BaseMaterializer:
    """Saves and loads values of its ``ASSOCIATED_TYPES`` under one artifact folder.

    Args:
        uri: the artifact version's folder in the store (``<root>/<name>/<id>``).
        artifact_store: the store that holds ``uri``; do all I/O through it
            (``self.artifact_store.open(self.path("data.json"), "wb")``).

    Example:
        >>> class TextMaterializer(BaseMaterializer):  # doctest: +SKIP
        ...     ASSOCIATED_TYPES = (MyText,)
        ...     ASSOCIATED_ARTIFACT_TYPE = ArtifactType.DATA
        ...     def save(self, data):
        ...         self.artifact_store.write_text(self.path("text.txt"), data.text)
        ...     def load(self, data_type):
        ...         return data_type(self.artifact_store.read_text(self.path("text.txt")))

    """

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.BASE
    SKIP_REGISTRATION: ClassVar[bool] = False
    # True when load() writes files onto the local disk: only verified bytes are loaded.
    VERIFY_BEFORE_LOAD: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_class_attributes(cls)
        record_definition(cls)
        if not cls.__dict__.get("SKIP_REGISTRATION", False):
            register_materializer(cls)

    def __init__(self, uri: str, artifact_store: ArtifactStore) -> None:
        self.uri = uri.rstrip("/")
        self.artifact_store = artifact_store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    def load(self, data_type: type) -> Any:
        """Read the artifact back as an instance of ``data_type``."""
        raise NotImplementedError(f"{type(self).__qualname__} does not implement load()")

    def save(self, data: Any) -> None:
        """Write ``data`` under ``self.uri``."""
        raise NotImplementedError(f"{type(self).__qualname__} does not implement save()")

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        """Write visualizations under ``<uri>/visualizations/``; return path -> type."""
        return {}

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """JSON-able facts about ``data`` (shape, rows, ...) to record with the artifact."""
        return {}

    def path(self, *parts: str) -> str:
        """Full store path of a file inside this artifact's folder."""
        return self.artifact_store.join(self.uri, *parts)

    def visualization_path(self, filename: str) -> str:
        """Full store path of a visualization file (``<uri>/visualizations/<filename>``)."""
        return self.path(VISUALIZATIONS_FOLDER, filename)


def _check_class_attributes(cls: type[BaseMaterializer]) -> None:
    types = cls.ASSOCIATED_TYPES
    if not isinstance(types, tuple) or not all(isinstance(t, type) for t in types):
        raise MaterializerError(
            f"materializer {cls.__qualname__}: ASSOCIATED_TYPES must be a tuple of classes, "
            f"got {types!r}; write e.g. ASSOCIATED_TYPES = (MyClass,)"
        )
    if not isinstance(cls.VERIFY_BEFORE_LOAD, bool):
        raise MaterializerError(
            f"materializer {cls.__qualname__}: VERIFY_BEFORE_LOAD must be True or False, "
            f"got {cls.VERIFY_BEFORE_LOAD!r}"
        )
    artifact_type = cls.ASSOCIATED_ARTIFACT_TYPE
    if not isinstance(artifact_type, ArtifactType):
        try:
            cls.ASSOCIATED_ARTIFACT_TYPE = ArtifactType(artifact_type)
        except ValueError as e:
            raise MaterializerError(
                f"materializer {cls.__qualname__}: ASSOCIATED_ARTIFACT_TYPE {artifact_type!r} "
                f"is not one of {[t.name for t in ArtifactType]}; use e.g. ArtifactType.DATA"
            ) from e
