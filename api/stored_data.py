"""Registering data that lies in the artifact store, or holds it.

ZenML's documented pattern is to write data under ``<store>/<name>`` and then
register it as ``<name>``. Copying that folder into a new version folder
``<store>/<name>/<id>`` would copy the copy into itself until the path is too
long; so data already inside the store is referenced where it lies (its own
files only: version folders other versions of the name keep beside it are not
part of it), and a folder that holds the store itself is refused. Data inside
another version's folder is copied: that folder goes when its version is deleted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from lineagelog.domain.errors import ArtifactNotFoundError, ArtifactSourceError, StorageError

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.adapters.materializers import SavedArtifact

__all__ = ["check_not_holding_store", "hash_in_place", "inside_store"]


def _is_local(text: str) -> bool:
    return "://" not in text or text.startswith("file://")


def _local(text: str) -> Path:
    return Path(text.removeprefix("file://")).expanduser().resolve()


def _store_root_path(store: ArtifactStore) -> Path | None:
    local = store.local_path(store.root)
    return None if local is None else Path(local).resolve()


def check_not_holding_store(store: ArtifactStore, source: str | os.PathLike[str]) -> None:
    """Refuse ``source`` when it is the artifact store's root or a folder holding it.

    Raises:
        ArtifactSourceError: naming the source and the store.

    """
    text = os.fspath(source)
    if _is_local(text):
        root = _store_root_path(store)
        holds = root is not None and root.is_relative_to(_local(text))
    else:
        root_url, given = store.root.rstrip("/"), text.rstrip("/")
        holds = root_url == given or root_url.startswith(given + "/")
    if holds:
        raise ArtifactSourceError(
            f"{text!r} holds the artifact store {store.root!r} itself, so registering it would "
            "copy the store into itself; register the data's own folder instead (ZenML's "
            "pattern: write it under <store>/<name>, then register that folder)"
        )


def inside_store(store: ArtifactStore, source: str | os.PathLike[str]) -> str | None:
    """The store URL of ``source`` when it lies inside the artifact store, else None.

    Data inside a version's own folder (``<store>/<name>/<version id>/...``) does not
    count: deleting or pruning that version removes the folder, so such data is
    copied into a folder of its own instead of being referenced where it lies.
    """
    text = os.fspath(source)
    candidate = str(_local(text)) if _is_local(text) else text
    try:
        url = store.check_within_root(candidate)
    except StorageError:
        return None
    root = store.root.rstrip("/")
    if url.rstrip("/") == root:
        return None
    parts = url.rstrip("/")[len(root) + 1 :].split("/")
    return None if len(parts) >= 2 and _is_version_id(parts[1]) else url


def _is_version_id(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def hash_in_place(store: ArtifactStore, url: str) -> SavedArtifact:
    """Describe the data at ``url`` (inside the store) as a version, without copying it.

    Raises:
        ArtifactNotFoundError: nothing is at ``url``.

    """
    from lineagelog.adapters.materializers import SavedArtifact, materializer_source, type_source
    from lineagelog.adapters.materializers.path import StoredDataMaterializer

    if not store.exists(url):
        raise ArtifactNotFoundError(
            f"nothing to register at {url!r}: the artifact store {store.root!r} has no file or "
            "folder there"
        )
    content_hash, size = store.content_hash(url)
    kind = "directory" if store.isdir(url) else "file"
    return SavedArtifact(
        uri=url,
        content_hash=content_hash,
        size=size,
        materializer=materializer_source(StoredDataMaterializer),
        data_type=type_source(Path),
        artifact_type=StoredDataMaterializer.ASSOCIATED_ARTIFACT_TYPE.value,
        metadata={"kind": kind, "storage_size": size, "registered_in_place": True},
        visualizations=[],
    )
