"""``BaseMaterializer``: how one Python type is written to and read from the artifact store.

ZenML's contract: subclasses set ``ASSOCIATED_TYPES`` and
``ASSOCIATED_ARTIFACT_TYPE`` and implement ``save`` and ``load``; optionally
``save_visualizations`` and ``extract_metadata``. The base ``save`` does
nothing, so a materializer that only draws visualizations implements just
``save_visualizations``. Defining a subclass registers it for its
``ASSOCIATED_TYPES`` (see ``registry``); set ``SKIP_REGISTRATION = True`` in a
class body to keep that class out of the registry.

Constructing: ``Materializer(uri)`` or ``Materializer(uri, artifact_store)``,
as in ZenML; a subclass may override ``__init__(self, uri)`` and call
``super().__init__(uri)``. ``make_materializer`` (what saving and loading use)
hands such a subclass the artifact store anyway. Without any store,
``self.artifact_store`` is an fsspec store rooted at ``uri`` itself. On a
local-folder store ``uri`` is a plain local path, as in ZenML, so code that
uses ``os.path.join(self.uri, ...)`` with ``open`` or numpy works unchanged.

A materializer whose ``load`` writes files onto the local disk sets
``VERIFY_BEFORE_LOAD = True``: ``load_artifact`` then hashes the stored files
and compares them with the recorded content hash before calling ``load``,
even when the caller did not ask to verify, so files a store writer changed
are never materialized.

A materializer whose files name the value's class themselves sets
``SELF_DESCRIBING = True`` (pickle, skops): loading then does not need the
recorded data type's module to be imported, and ``load`` gets ``object`` as
the data type when it is not.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from lineagelog.adapters.materializers.sources import type_source
from lineagelog.domain.errors import MaterializerError

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = [
    "VISUALIZATIONS_FOLDER",
    "ArtifactType",
    "BaseMaterializer",
    "VisualizationType",
    "make_materializer",
]

_M = TypeVar("_M", bound="BaseMaterializer")
# The store make_materializer hands to a subclass whose __init__ takes only the uri.
_given_store: ContextVar[ArtifactStore | None] = ContextVar("_given_store", default=None)

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
            (``self.artifact_store.open(self.path("data.json"), "wb")``) or
            through ``lineagelog.api.fileio``. When None, the store saving or
            loading is creating this materializer for, else an fsspec store
            rooted at ``uri``.

    Example (ZenML's documented form; ``fileio`` is ``lineagelog.api.fileio``):
        >>> class TextMaterializer(BaseMaterializer):  # doctest: +SKIP
        ...     ASSOCIATED_TYPES = (MyText,)
        ...     ASSOCIATED_ARTIFACT_TYPE = ArtifactType.DATA
        ...     def __init__(self, uri):
        ...         super().__init__(uri)
        ...         self.text_path = os.path.join(self.uri, "text.txt")
        ...     def save(self, data):
        ...         with fileio.open(self.text_path, "w") as f:
        ...             f.write(data.text)
        ...     def load(self, data_type):
        ...         with fileio.open(self.text_path, "r") as f:
        ...             return data_type(f.read())

    """

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.BASE
    SKIP_REGISTRATION: ClassVar[bool] = False
    # True when load() writes files onto the local disk: only verified bytes are loaded.
    VERIFY_BEFORE_LOAD: ClassVar[bool] = False
    # True when the stored files name the value's class themselves (pickle, skops):
    # a recorded data type whose module is not imported then loads as `object`.
    SELF_DESCRIBING: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_class_attributes(cls)
        record_definition(cls)
        if not cls.__dict__.get("SKIP_REGISTRATION", False):
            register_materializer(cls)

    def __init__(self, uri: str, artifact_store: ArtifactStore | None = None) -> None:
        if not isinstance(uri, str) or not uri:
            raise MaterializerError(
                f"{type(self).__qualname__}(uri={uri!r}): uri must be the artifact's folder "
                "as a non-empty string (a local path or an fsspec URL)"
            )
        self.uri = uri.rstrip("/") or uri
        self._artifact_store = artifact_store if artifact_store is not None else _given_store.get()

    @property
    def artifact_store(self) -> ArtifactStore:
        """The store holding ``uri``; an fsspec store rooted at ``uri`` when none was given."""
        if self._artifact_store is None:
            from lineagelog.adapters.fsspec_store import FsspecArtifactStore

            self._artifact_store = FsspecArtifactStore(self.uri)
        return self._artifact_store

    @artifact_store.setter
    def artifact_store(self, store: ArtifactStore) -> None:
        self._artifact_store = store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r})"

    def load(self, data_type: type) -> Any:
        """Read the artifact back as an instance of ``data_type``."""
        raise NotImplementedError(
            f"{type(self).__qualname__} saves no data that can be read back (it implements "
            "no load()); implement load(self, data_type) to load artifacts it saved"
        )

    def save(self, data: Any) -> None:
        """Write ``data`` under ``self.uri``; the base writes nothing (visualizations only)."""

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        """Write visualizations under ``<uri>/visualizations/``; return path -> type."""
        return {}

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """JSON-able facts about ``data`` (shape, rows, ...) to record with the artifact."""
        return {}

    def extract_full_metadata(self, data: Any) -> dict[str, Any]:
        """``extract_metadata`` plus ``storage_size``, the bytes stored under ``uri``."""
        size = 0
        store = self.artifact_store
        if store.exists(self.uri):
            size = sum(store.size(file) for file in store.walk_files(self.uri))
        return {"storage_size": size, **self.extract_metadata(data)}

    @classmethod
    def can_handle_type(cls, data_type: type) -> bool:
        """Whether ``data_type`` is (a subclass of) one of ``ASSOCIATED_TYPES``."""
        return isinstance(data_type, type) and any(
            issubclass(data_type, associated) for associated in cls.ASSOCIATED_TYPES
        )

    @classmethod
    def can_save_type(cls, data_type: type) -> bool:
        """Whether this materializer can save values of ``data_type``."""
        return cls.can_handle_type(data_type)

    @classmethod
    def can_load_type(cls, data_type: type) -> bool:
        """Whether this materializer can load an artifact as ``data_type``."""
        return cls.can_handle_type(data_type)

    def validate_type_compatibility(self, data_type: type) -> None:
        """Raise ``TypeError`` naming the types handled, when ``data_type`` is not one of them."""
        if not self.can_handle_type(data_type):
            raise TypeError(
                f"{type(self).__qualname__} cannot read or write {data_type!r}; it handles "
                f"{[t.__qualname__ for t in self.ASSOCIATED_TYPES]}: choose a materializer for "
                "that type"
            )

    @contextmanager
    def get_temporary_directory(
        self, delete_at_exit: bool = True, delete_after_step_execution: bool = True
    ) -> Iterator[str]:
        """A local temporary folder (for libraries that only write local files).

        Copy what you write there into ``self.uri`` with ``fileio.copy``.

        Args:
            delete_at_exit: delete the folder when the ``with`` block ends.
            delete_after_step_execution: accepted for ZenML compatibility; a
                folder kept at exit stays until the process removes it.

        """
        del delete_after_step_execution
        folder = tempfile.mkdtemp(prefix="lineagelog-materializer-")
        try:
            yield folder
        finally:
            if delete_at_exit:
                shutil.rmtree(folder, ignore_errors=True)

    def path(self, *parts: str) -> str:
        """Full store path of a file inside this artifact's folder."""
        return self.artifact_store.join(self.uri, *parts)

    def visualization_path(self, filename: str) -> str:
        """Full store path of a visualization file (``<uri>/visualizations/<filename>``)."""
        return self.path(VISUALIZATIONS_FOLDER, filename)


def make_materializer(
    materializer_cls: type[_M], uri: str, store: ArtifactStore, **kwargs: Any
) -> _M:
    """Create ``materializer_cls`` for the artifact folder ``uri`` of ``store``.

    Works whatever the subclass's ``__init__`` takes: ``(uri)`` as in ZenML's
    documentation (the store is handed over around it), ``(uri,
    artifact_store)`` or ``(uri, artifact_store=None)``. On a local-folder
    store the materializer gets ``uri`` as a plain local path.
    """
    from lineagelog.adapters import fileio

    fs = getattr(store, "fs", None)
    if fs is not None:  # fileio reaches this store with the store's own settings
        fileio.register_filesystem(store.root, fs)
    local = store.local_path(uri)
    given = local if local is not None else uri
    token = _given_store.set(store)
    try:
        if _takes_store(materializer_cls):
            materializer = materializer_cls(given, artifact_store=store, **kwargs)
        else:
            materializer = materializer_cls(given, **kwargs)
    finally:
        _given_store.reset(token)
    if getattr(materializer, "_artifact_store", None) is None:  # __init__ skipped ours
        materializer._artifact_store = store
    return materializer


_TAKES_STORE: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()


def _takes_store(materializer_cls: type) -> bool:
    """Whether the class's ``__init__`` accepts ``artifact_store=`` (asked once per class)."""
    takes = _TAKES_STORE.get(materializer_cls)
    if takes is None:
        takes = _TAKES_STORE[materializer_cls] = _signature_takes_store(materializer_cls)
    return takes


def _signature_takes_store(materializer_cls: type) -> bool:
    try:
        parameters = inspect.signature(materializer_cls).parameters
    except (TypeError, ValueError):
        return False
    if "artifact_store" in parameters:
        return parameters["artifact_store"].kind is not inspect.Parameter.POSITIONAL_ONLY
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _check_class_attributes(cls: type[BaseMaterializer]) -> None:
    types = cls.ASSOCIATED_TYPES
    if not isinstance(types, tuple) or not all(isinstance(t, type) for t in types):
        raise MaterializerError(
            f"materializer {cls.__qualname__}: ASSOCIATED_TYPES must be a tuple of classes, "
            f"got {types!r}; write e.g. ASSOCIATED_TYPES = (MyClass,)"
        )
    for flag in ("VERIFY_BEFORE_LOAD", "SELF_DESCRIBING"):
        if not isinstance(getattr(cls, flag), bool):
            raise MaterializerError(
                f"materializer {cls.__qualname__}: {flag} must be True or False, "
                f"got {getattr(cls, flag)!r}"
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


_PACKAGE = "lineagelog.adapters.materializers"
_REGISTRY: dict[type, type[BaseMaterializer]] = {}
"""Data type -> its materializer; a materializer class registers itself when defined."""
_DEFINED: dict[str, type[BaseMaterializer]] = {}
"""Every materializer class defined in this process, by ``module:qualname``."""


def register_materializer(cls: type[BaseMaterializer]) -> None:
    """Make ``cls`` the materializer of each of its ``ASSOCIATED_TYPES``.

    Called for every ``BaseMaterializer`` subclass when it is defined; call it
    yourself only to re-register a class. A later registration for a type
    replaces an earlier one, but a lineagelog built-in never replaces a user's.
    """
    for data_type in cls.ASSOCIATED_TYPES:
        current = _REGISTRY.get(data_type)
        if current is not None and _is_builtin(cls) and not _is_builtin(current):
            continue
        _REGISTRY[data_type] = cls


def record_definition(cls: type[BaseMaterializer]) -> None:
    """Remember ``cls`` by its ``module:qualname`` so that loading may name it.

    Called for every ``BaseMaterializer`` subclass when it is defined, also
    for those with ``SKIP_REGISTRATION`` (a step may name them explicitly).
    """
    _DEFINED[type_source(cls)] = cls


def defined_materializer(source: str) -> type[BaseMaterializer] | None:
    """The materializer class defined in this process under ``source``, or None."""
    return _DEFINED.get(source)


def _is_builtin(cls: type) -> bool:
    return cls.__module__ == _PACKAGE or cls.__module__.startswith(_PACKAGE + ".")
