"""Saving and loading one artifact version: what the runner calls.

``save_artifact`` writes everything under the artifact's folder first (data,
then visualizations under ``<uri>/visualizations/``), and only then hashes.
The content hash therefore covers *every* file under the folder, visualizations
included, so verifying the hash detects tampering with any stored byte; the
price is that a change in how a visualization is drawn (a lineagelog upgrade)
changes the hash of otherwise equal data. Metadata is not hashed. The hash
framing is documented in ``lineagelog.adapters.artifact_store``.

``load_artifact`` treats the recorded materializer and data type as data: they
are resolved by ``trusted`` (never imported), and a materializer with
``VERIFY_BEFORE_LOAD`` (one that writes local files) loads only bytes whose
content hash matches the recorded one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.materializers.base import (
    BaseMaterializer,
    VisualizationType,
    make_materializer,
)
from lineagelog.adapters.materializers.pickle import PickleMaterializer
from lineagelog.adapters.materializers.registry import materializer_source, type_source
from lineagelog.adapters.materializers.trusted import resolve_data_type, resolve_materializer
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    LineageError,
    MaterializerError,
    StorageError,
    UntrustedTypeError,
)

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = ["SavedArtifact", "load_artifact", "save_artifact"]


@dataclass(frozen=True)
class SavedArtifact:
    """What ``save_artifact`` wrote: the fields of an ``ArtifactWritten`` event."""

    uri: str
    content_hash: str
    size: int
    materializer: str
    data_type: str
    artifact_type: str
    metadata: dict[str, Any] = field(default_factory=dict)
    visualizations: list[dict[str, str]] = field(default_factory=list)

    def as_recorded(self, store: ArtifactStore) -> SavedArtifact:
        """The same with its URIs (and its visualizations') relative to the store's root.

        That is how the log records them (``ArtifactStore.recorded_uri``), so a
        project folder can move and its log still names its files.
        """
        return replace(
            self,
            uri=store.recorded_uri(self.uri),
            visualizations=[
                {**v, "uri": store.recorded_uri(v["uri"])} for v in self.visualizations
            ],
        )


def save_artifact(
    data: Any,
    *,
    uri: str,
    store: ArtifactStore,
    materializer_cls: type[BaseMaterializer],
    extract_metadata: bool = True,
    include_visualizations: bool = True,
) -> SavedArtifact:
    """Write ``data`` to the new folder ``uri`` with ``materializer_cls``, then hash it.

    Steps: make the folder (it must not hold files yet), ``save``,
    ``save_visualizations``, ``extract_metadata`` (plus ``storage_size``, the
    bytes under ``uri``), then ``content_hash`` over everything under ``uri``.
    On failure the partly written folder is removed. ``include_visualizations=False``
    (ZenML's ``enable_artifact_visualization``) skips ``save_visualizations``;
    ``extract_metadata=False`` (``enable_artifact_metadata``) skips ``extract_metadata``
    and records no metadata at all, ``storage_size`` included, as ZenML does (these are
    the names of ZenML's ``save_artifact`` arguments).

    Raises:
        MaterializerError: when the materializer does not accept the type or fails
            (the original exception is the cause).
        StorageError: when ``uri`` already holds files or is outside the store.

    """
    if not (isinstance(materializer_cls, type) and issubclass(materializer_cls, BaseMaterializer)):
        raise MaterializerError(f"{materializer_cls!r} is not a BaseMaterializer subclass")
    associated = materializer_cls.ASSOCIATED_TYPES
    if associated and not isinstance(data, associated):
        raise MaterializerError(
            f"{materializer_cls.__qualname__} saves {[t.__qualname__ for t in associated]}, "
            f"not a {type(data).__qualname__}; choose a materializer for that type"
        )
    if store.exists(uri) and store.walk_files(uri):
        raise StorageError(
            f"artifact folder {uri!r} already holds files; every artifact version needs "
            "a new folder (a new artifact version id)"
        )
    store.makedirs(uri)
    materializer = make_materializer(materializer_cls, uri, store)
    name = materializer_cls.__qualname__
    try:
        _call(name, "save", lambda: materializer.save(data))
        drawn = (
            _call(name, "save_visualizations", lambda: materializer.save_visualizations(data))
            if include_visualizations
            else {}
        )
        extracted = (
            _call(name, "extract_metadata", lambda: materializer.extract_metadata(data))
            if extract_metadata
            else {}
        )
        listed = _list_visualizations(uri, store, drawn, name)
        content_hash, size = store.content_hash(uri)
    except BaseException:
        _remove_quietly(store, uri)
        raise
    recorded = (
        {**_check_metadata(extracted, name), "storage_size": size} if extract_metadata else {}
    )
    return SavedArtifact(
        uri=uri,
        content_hash=content_hash,
        size=size,
        materializer=materializer_source(materializer_cls),
        data_type=type_source(type(data)),
        artifact_type=materializer_cls.ASSOCIATED_ARTIFACT_TYPE.value,
        metadata=recorded,
        visualizations=listed,
    )


def load_artifact(
    *,
    uri: str,
    store: ArtifactStore,
    materializer_source: str,
    data_type_source: str,
    allow_pickle: bool = False,
    expected_content_hash: str | None = None,
    verify: bool = True,
) -> Any:
    """Load the artifact at ``uri`` with the materializer it was saved with.

    The materializer and data type names come from the log or a view, so they
    are resolved only against what this process registered (see ``trusted``);
    nothing they name is imported.

    Args:
        uri: the artifact version's folder.
        store: the store holding it.
        materializer_source: ``"module:qualname"`` of the materializer (from the event).
        data_type_source: ``"module:qualname"`` of the saved value's type.
        allow_pickle: also allow unpickling for this call. Without it, pickles
            load only where ``allow_pickle(True)`` or ``pickle_permission(True)``
            allows them (see ``lineagelog.adapters.materializers.pickle``).
        expected_content_hash: the content hash recorded for the artifact.
        verify: hash the folder first and compare it with
            ``expected_content_hash`` (when given). A materializer with
            ``VERIFY_BEFORE_LOAD`` is always verified, and refuses to load
            without ``expected_content_hash``.

    Raises:
        ArtifactNotFoundError: when nothing is stored at ``uri`` (deleted, or another store).
        IntegrityError: when the bytes do not match ``expected_content_hash``.
        UnsafeLoadError: when the artifact is a pickle and loading pickles is not allowed.
        UntrustedTypeError: when the materializer or data type is not registered
            or imported in this process.
        MaterializerError: when loading fails, or a ``VERIFY_BEFORE_LOAD``
            materializer is given no ``expected_content_hash``.

    """
    if not store.exists(uri):
        raise ArtifactNotFoundError(
            f"no artifact files at {uri!r} in the artifact store {store.root!r}; they were "
            "deleted, or the artifact was written to another store"
        )
    materializer_cls = resolve_materializer(materializer_source)
    materializer: BaseMaterializer
    if issubclass(materializer_cls, PickleMaterializer):
        materializer = make_materializer(materializer_cls, uri, store, allow_load=allow_pickle)
    else:
        materializer = make_materializer(materializer_cls, uri, store)
    try:
        data_type = resolve_data_type(data_type_source, materializer_cls)
    except UntrustedTypeError:
        if not materializer_cls.SELF_DESCRIBING:
            raise
        data_type = object  # the files name their own class
    if materializer_cls.VERIFY_BEFORE_LOAD and expected_content_hash is None:
        raise MaterializerError(
            f"{materializer_cls.__qualname__} writes files onto the local disk when loading, "
            f"so it loads the artifact at {uri!r} only after checking its bytes; pass "
            "expected_content_hash (the content hash recorded for the artifact)"
        )
    if expected_content_hash is not None and (verify or materializer_cls.VERIFY_BEFORE_LOAD):
        actual, _ = store.content_hash(uri)
        if actual != expected_content_hash:
            raise IntegrityError(
                f"the files at {uri!r} hash to {actual}, but {expected_content_hash} was "
                "recorded; they were changed after they were written"
            )
    return _call(materializer_cls.__qualname__, "load", lambda: materializer.load(data_type))


def _call(materializer: str, method: str, call: Any) -> Any:
    try:
        return call()
    except LineageError:
        raise
    except FileNotFoundError as e:
        raise ArtifactNotFoundError(
            f"{materializer}.{method}() did not find a file it expected ({e}); "
            "the artifact folder is incomplete"
        ) from e
    except Exception as e:
        raise MaterializerError(f"{materializer}.{method}() failed: {type(e).__name__}: {e}") from e


def _list_visualizations(
    uri: str, store: ArtifactStore, visualizations: Any, materializer: str
) -> list[dict[str, str]]:
    if not isinstance(visualizations, dict):
        raise MaterializerError(
            f"{materializer}.save_visualizations() returned {type(visualizations).__name__}; "
            "return a dict of path -> VisualizationType"
        )
    listed = []
    for path, kind in visualizations.items():
        full = path if "://" in path or path.startswith("/") else store.join(uri, path)
        if store.relpath(full, uri) == "" or not store.exists(full):
            raise MaterializerError(
                f"{materializer}.save_visualizations() named {path!r}, which is not a file "
                f"it wrote under {uri!r}"
            )
        # A local store's materializer sees plain paths; the record keeps the store's URL form.
        listed.append({"uri": store.check_within_root(full), "type": VisualizationType(kind).value})
    return sorted(listed, key=lambda v: v["uri"])


def _check_metadata(metadata: Any, materializer: str) -> dict[str, Any]:
    if not isinstance(metadata, dict) or not all(isinstance(k, str) for k in metadata):
        raise MaterializerError(
            f"{materializer}.extract_metadata() must return a dict with string keys"
        )
    try:
        json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise MaterializerError(
            f"{materializer}.extract_metadata() returned values that are not JSON ({e}); "
            "return numbers, strings, booleans, None, lists and dicts"
        ) from e
    return dict(metadata)


def _remove_quietly(store: ArtifactStore, uri: str) -> None:
    try:
        if store.exists(uri):
            store.rmtree(uri)
    except (OSError, LineageError):
        pass  # orphan bytes are found by garbage collection
