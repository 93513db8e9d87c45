"""The artifact lifecycle: tag, register, delete, garbage-collect and prune versions.

Every change is an event on the artifact name's stream, so it shows in the
catalog, in lineage and in the audit. The order of writes keeps the log
truthful after a crash at any point:

- register: bytes are copied and hashed first, then ``ExternalVersionRegistered``
  is recorded (a crash in between leaves orphan bytes for ``gc``);
- delete: ``VersionDeleted`` (the tombstone) is recorded first, then the bytes
  are removed (a crash in between leaves a tombstoned version with bytes, which
  ``gc`` removes), so no live event ever points at missing bytes.

``gc`` and ``prune`` are dry runs unless ``apply=True``: they return the plan
with a reason per folder or version either way.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from lineagelog.adapters.event_store import ConcurrencyConflict
from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.errors import ArtifactNotFoundError, LineageError, StorageError
from lineagelog.domain.lifecycle import (
    GcDecision,
    PruneDecision,
    StoredFolder,
    plan_gc,
    plan_prune,
)
from lineagelog.domain.names import artifact_name_id, check_artifact_name
from lineagelog.projections.lifecycle import LifecycleQueries

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.adapters.materializers import BaseMaterializer, SavedArtifact
    from lineagelog.api.context import LineageContext

__all__ = [
    "DEFAULT_GC_MIN_AGE_S",
    "ArtifactLifecycle",
    "GcReport",
    "PruneReport",
]

DEFAULT_GC_MIN_AGE_S = 3600.0
"""``gc`` spares orphan folders younger than this: a writer may not have recorded them yet."""

_MAX_RETRIES = 50
_T = TypeVar("_T")


@dataclass(frozen=True)
class GcReport:
    """What ``gc`` found: folders to remove (removed, when ``applied``) or keep, and why."""

    decisions: list[GcDecision]
    applied: bool

    @property
    def removed(self) -> list[str]:
        """URIs removed (or that would be, in a dry run)."""
        return [d.uri for d in self.decisions if d.action == "remove"]


@dataclass(frozen=True)
class PruneReport:
    """What ``prune`` decided for every live version, and whether it deleted."""

    decisions: list[PruneDecision]
    applied: bool

    @property
    def deleted(self) -> list[str]:
        """``name:version`` of the versions deleted (or that would be, in a dry run)."""
        return [d.version.label for d in self.decisions if d.action == "delete"]


class ArtifactLifecycle:
    """Lifecycle commands over one context's event store, views and artifact store."""

    def __init__(self, context: LineageContext) -> None:
        """Act on the stores of ``context``."""
        self.context = context
        self.queries = LifecycleQueries(context.engine)

    # -- tags ------------------------------------------------------------------------

    def tag(self, name: str, version: int, tag: str) -> None:
        """Add ``tag`` to ``name:version`` (records ``VersionTagged``; no-op if present)."""
        self._change(name, lambda a: a.tag(version, tag))

    def untag(self, name: str, version: int, tag: str) -> None:
        """Remove ``tag`` from ``name:version`` (records ``VersionUntagged``; no-op if absent)."""
        self._change(name, lambda a: a.untag(version, tag))

    # -- register ----------------------------------------------------------------------

    def register(self, source: str | os.PathLike[str], name: str) -> UUID:
        """Copy a local file or folder, or a path in the artifact store, in as a new version.

        The copy goes to ``<root>/<name>/<new id>`` through ``PathMaterializer`` (so
        ``load()`` gives a local path back) and is hashed; then
        ``ExternalVersionRegistered`` is recorded. The source is left untouched.

        Raises:
            InvalidArtifactNameError: for a name that could escape the store root.
            ArtifactNotFoundError: when nothing exists at ``source``.

        """
        from lineagelog.adapters.materializers import save_artifact
        from lineagelog.adapters.materializers.path import PathMaterializer

        check_artifact_name(name)
        store = self.context.artifacts
        artifact_version_id = uuid.uuid4()
        uri = store.version_uri(name, artifact_version_id)
        with _local_copy(store, source) as local:
            saved = save_artifact(local, uri=uri, store=store, materializer_cls=PathMaterializer)
        self._record_external(name, artifact_version_id, saved, os.fspath(source))
        return artifact_version_id

    def save_value(
        self, value: Any, name: str, materializer: type[BaseMaterializer] | None = None
    ) -> UUID:
        """Write a Python value as a new version of ``name``, outside any pipeline.

        The value goes through ``materializer`` (default: the one registered for
        its type, as for a step's output) into ``<root>/<name>/<new id>``, is
        hashed, and ``ExternalVersionRegistered`` is recorded; ``load()`` gives
        the value back.

        Raises:
            InvalidArtifactNameError: for a name that could escape the store root.
            MaterializerError: when no materializer takes the value's type, or it fails.

        """
        from lineagelog.adapters.materializers import materializer_for, save_artifact

        check_artifact_name(name)
        store = self.context.artifacts
        artifact_version_id = uuid.uuid4()
        uri = store.version_uri(name, artifact_version_id)
        chosen = materializer or materializer_for(type(value))
        saved = save_artifact(value, uri=uri, store=store, materializer_cls=chosen)
        source = f"a Python {type(value).__qualname__} saved by Client.save_artifact"
        self._record_external(name, artifact_version_id, saved, source)
        return artifact_version_id

    def _record_external(
        self, name: str, artifact_version_id: UUID, saved: SavedArtifact, source: str
    ) -> None:
        """Record bytes already written and hashed as a new version of ``name``."""
        self._change(
            name,
            lambda a: a.register_external_version(
                artifact_version_id=artifact_version_id,
                source=source,
                uri=saved.uri,
                materializer=saved.materializer,
                data_type=saved.data_type,
                artifact_type=saved.artifact_type,
                content_hash=saved.content_hash,
                size=saved.size,
                metadata={**saved.metadata, "source": source},
                visualizations=saved.visualizations,
            ),
            create=True,
        )

    # -- delete --------------------------------------------------------------------------

    def delete(self, name: str, version: int, reason: str = "") -> bool:
        """Tombstone ``name:version`` (``VersionDeleted``), then remove its bytes.

        Deleting a deleted version records nothing but still removes bytes a
        crashed delete left behind. Returns whether a tombstone was recorded.
        """
        self.context.catch_up()
        record = self.context.queries.get_artifact_version(name, version)
        recorded = self._change(
            name, lambda a: a.delete_version(version, record.uri, reason or "deleted by the user")
        )
        _remove_folder(self.context.artifacts, record.uri)
        self.context.catch_up()
        return recorded

    # -- gc and prune ------------------------------------------------------------------

    def gc(self, *, apply: bool = False, min_age_s: float = DEFAULT_GC_MIN_AGE_S) -> GcReport:
        """Find (and with ``apply`` remove) artifact folders no live version points to.

        The store is listed *before* the views catch up, so bytes whose event
        was recorded in between count as live; folders younger than
        ``min_age_s`` are spared, since a writer records its event after
        writing its bytes.
        """
        store = self.context.artifacts
        folders = _version_folders(store)
        self.context.catch_up()
        live, deleted = self.queries.stored_uris()
        decisions = plan_gc(
            folders,
            {_norm(store, u) for u in live},
            {_norm(store, u): label for u, label in deleted.items()},
            min_age_s,
        )
        if apply:
            for decision in decisions:
                if decision.action == "remove":
                    _remove_folder(store, decision.uri)
        return GcReport(decisions, applied=apply)

    def prune(
        self, *, keep: int, name: str | None = None, apply: bool = False, force: bool = False
    ) -> PruneReport:
        """Plan (and with ``apply`` carry out) deleting old untagged versions.

        Keeps the newest ``keep`` live versions of each name (or of ``name``),
        every tagged version, and, unless ``force``, every version a kept one
        was derived from, however many steps upstream.
        """
        self.context.catch_up()
        if name is not None:
            self.context.queries.get_artifact_version(name)  # an unknown name is an error
        decisions = plan_prune(
            self.queries.version_facts(), self.queries.derivations(), keep, force=force
        )
        if name is not None:
            decisions = [d for d in decisions if d.version.name == name]
        if apply:
            for decision in decisions:
                if decision.action == "delete":
                    self.delete(
                        decision.version.name,
                        decision.version.version,
                        reason=f"pruned (keep {keep}): {decision.reason}",
                    )
        return PruneReport(decisions, applied=apply)

    # -- events ---------------------------------------------------------------------------

    def _change(
        self, name: str, command: Callable[[ArtifactName], _T], *, create: bool = False
    ) -> _T:
        """Run ``command`` on the name's aggregate and save it, retrying on a racing writer."""
        events = self.context.events
        for _ in range(_MAX_RETRIES):
            aggregate: ArtifactName | None = events.get(artifact_name_id(name))
            if aggregate is None:
                if not create:
                    raise ArtifactNotFoundError(
                        f"no artifact named {name!r}; list the names with "
                        "`lineagelog artifacts list`"
                    )
                aggregate = ArtifactName.register_name(name)
            result = command(aggregate)
            try:
                events.save(aggregate)
            except ConcurrencyConflict:
                continue  # another writer appended to this name first: reload and retry
            self.context.catch_up()
            return result
        raise LineageError(
            f"could not change artifact {name!r} after {_MAX_RETRIES} attempts; too many "
            "concurrent writers on one name, try again"
        )


@contextlib.contextmanager
def _local_copy(store: ArtifactStore, source: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a local path to ``source``: itself when local, else a download to a temp folder."""
    text = os.fspath(source)
    if "://" not in text or text.startswith("file://"):
        local = Path(text.removeprefix("file://")).expanduser().resolve()
        if not local.exists():
            raise ArtifactNotFoundError(
                f"nothing to register at {text!r}: no such file or folder; give an "
                "existing local path or a path in the artifact store"
            )
        yield local
        return
    if not store.exists(text):
        raise ArtifactNotFoundError(
            f"nothing to register at {text!r}: the artifact store {store.root!r} has no "
            "file or folder there"
        )
    base = text.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="lineagelog-register-") as temp:
        target = Path(temp) / (base.rsplit("/", 1)[-1] or "data")
        if store.isdir(base):
            target.mkdir()
            for file in store.walk_files(base):
                destination = target / store.relpath(file, base)
                destination.parent.mkdir(parents=True, exist_ok=True)
                store.download(file, destination)
        else:
            store.download(base, target)
        yield target


def _norm(store: ArtifactStore, uri: str) -> str:
    try:
        return store.check_within_root(uri).rstrip("/")
    except StorageError:
        return uri.rstrip("/")  # recorded in another store: it can never match a folder here


def _version_folders(store: ArtifactStore) -> list[StoredFolder]:
    """List the ``<root>/<name>/<uuid>`` folders, each with the age of its newest file."""
    root = store.root
    if not store.exists(root):
        return []
    now = time.time()
    folders = []
    for name_folder in store.listdir(root):
        if not store.isdir(name_folder):
            continue
        for candidate in store.listdir(name_folder):
            if not _is_uuid(candidate.rstrip("/").rsplit("/", 1)[-1]) or not store.isdir(candidate):
                continue
            times = [store.modified(f) for f in store.walk_files(candidate)] or [None]
            known = [m for m in times if m is not None]
            age = now - max(known) if known and len(known) == len(times) else None
            folders.append(StoredFolder(store.check_within_root(candidate).rstrip("/"), age))
    return folders


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def _remove_folder(store: ArtifactStore, uri: str) -> None:
    try:
        if store.exists(uri):
            store.rmtree(uri)
    except OSError as e:
        raise StorageError(
            f"could not remove the artifact folder {uri!r} ({e}); the version is tombstoned, "
            "so `lineagelog gc --apply` will remove the bytes later"
        ) from e
