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
with a reason per folder or version either way. Neither breaks what is running:
``gc`` never removes a folder a writer holds a live write lease on
(``lineagelog.adapters.write_leases``), and ``prune`` keeps every version a
run still running uses and every version a cache hit reused within the reuse
window.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from lineagelog.adapters.processes import is_uuid
from lineagelog.adapters.write_leases import RESERVED_FOLDER, read_leases, write_lease
from lineagelog.api.recorded import VIEWS_DISAGREE, recorded_output
from lineagelog.api.tagging import as_tags, tag_artifact_version_in
from lineagelog.domain.artifact_name import ArtifactName, VersionInUseError
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    StorageError,
)
from lineagelog.domain.lifecycle import (
    GcDecision,
    PruneDecision,
    StoredFolder,
    check_seconds,
    plan_gc,
    plan_prune,
    versions_in_use,
)
from lineagelog.domain.names import artifact_name_id, check_artifact_name

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.adapters.materializers import BaseMaterializer, SavedArtifact
    from lineagelog.adapters.repository import Changes
    from lineagelog.api.context import LineageContext

__all__ = [
    "DEFAULT_GC_MIN_AGE_S",
    "DEFAULT_LEASE_MAX_AGE_S",
    "DEFAULT_REUSE_WINDOW_S",
    "ArtifactLifecycle",
    "GcReport",
    "PruneReport",
    "VersionSettings",
]

DEFAULT_GC_MIN_AGE_S = 3600.0
"""``gc`` spares orphan folders younger than this: a writer may not have recorded them yet."""

DEFAULT_LEASE_MAX_AGE_S = 86400.0
"""A write lease from another host (whose process ``gc`` cannot check) holds this long."""

DEFAULT_REUSE_WINDOW_S = 3600.0
"""``prune`` keeps versions a cache hit reused less than this long ago: its run may load them."""

_MAX_RETRIES = 50
_T = TypeVar("_T")


@dataclass(frozen=True)
class VersionSettings:
    """What the user chose for a new version: its name, tags, metadata, type and extras."""

    version: str | int | None = None
    tags: tuple[str, ...] = ()
    run_metadata: dict[str, Any] = field(default_factory=dict)
    artifact_type: str | None = None
    extract_metadata: bool = True
    include_visualizations: bool = True


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
        self.queries = context.lifecycle

    # -- tags ------------------------------------------------------------------------

    # -- register ----------------------------------------------------------------------

    def register(
        self,
        source: str | os.PathLike[str],
        name: str,
        settings: VersionSettings | None = None,
    ) -> UUID:
        """Register a file or folder as a new version of ``name``.

        Data outside the artifact store is copied to ``<root>/<name>/<new id>``
        through ``PathMaterializer`` (so ``load()`` gives a local path back).
        Data already inside the store (ZenML's pattern: write under
        ``<store>/<name>``, then register it) is referenced where it lies, never
        copied (see ``lineagelog.api.stored_data``). Either way it is hashed, then
        ``ExternalVersionRegistered`` is recorded; the source is left untouched.

        Raises:
            InvalidArtifactNameError: for a name that could escape the store root.
            ArtifactNotFoundError: when nothing exists at ``source``.
            ArtifactSourceError: ``source`` holds the artifact store itself.

        """
        from lineagelog.adapters.materializers import save_artifact
        from lineagelog.adapters.materializers.path import PathMaterializer
        from lineagelog.api.stored_data import check_not_holding_store, hash_in_place, inside_store

        check_artifact_name(name)
        store = self.context.artifacts
        check_not_holding_store(store, source)
        artifact_version_id = uuid.uuid4()
        in_store = inside_store(store, source)
        if in_store is not None:
            saved = hash_in_place(store, in_store)
            self._record_external(name, artifact_version_id, saved, os.fspath(source), settings)
            return artifact_version_id
        uri = store.version_uri(name, artifact_version_id)
        with _local_copy(store, source) as local, write_lease(store, artifact_version_id, name):
            saved = save_artifact(local, uri=uri, store=store, materializer_cls=PathMaterializer)
            self._record_external(name, artifact_version_id, saved, os.fspath(source), settings)
        return artifact_version_id

    def save_value(
        self,
        value: Any,
        name: str,
        materializer: type[BaseMaterializer] | None = None,
        settings: VersionSettings | None = None,
    ) -> UUID:
        """Write a Python value as a new version of ``name``, outside any pipeline.

        The value goes through ``materializer`` (default: the one registered for
        its type, as for a step's output) into ``<root>/<name>/<new id>``, is
        hashed, and ``ExternalVersionRegistered`` is recorded; ``load()`` gives
        the value back. A ``pathlib.Path`` is registered (``register``): data
        inside the store is referenced, not copied into itself.

        Raises:
            InvalidArtifactNameError: for a name that could escape the store root.
            MaterializerError: when no materializer takes the value's type, or it fails.

        """
        from lineagelog.adapters.materializers import materializer_for_value, save_artifact
        from lineagelog.api.config import pickle_fallback_enabled

        settings = settings or VersionSettings()
        if isinstance(value, Path) and materializer is None:
            return self.register(value, name, settings)
        check_artifact_name(name)
        store = self.context.artifacts
        artifact_version_id = uuid.uuid4()
        uri = store.version_uri(name, artifact_version_id)
        chosen = materializer or materializer_for_value(
            value, pickle_fallback=pickle_fallback_enabled()
        )
        source = f"a Python {type(value).__qualname__} saved by save_artifact"
        with write_lease(store, artifact_version_id, name):
            saved = save_artifact(
                value,
                uri=uri,
                store=store,
                materializer_cls=chosen,
                extract_metadata=settings.extract_metadata,
                include_visualizations=settings.include_visualizations,
            )
            self._record_external(name, artifact_version_id, saved, source, settings)
        return artifact_version_id

    def _record_external(
        self,
        name: str,
        artifact_version_id: UUID,
        saved: SavedArtifact,
        source: str,
        settings: VersionSettings | None,
    ) -> None:
        """Record bytes already written and hashed as a new version of ``name``.

        The settings' tags are ``VersionTagged`` events in the same append, through the
        tagging every path uses (an exclusive tag moves here from another version).
        """
        settings = settings or VersionSettings()
        saved = saved.as_recorded(self.context.artifacts)

        tags = as_tags(list(settings.tags), f"artifact {name!r}")

        def register(changes: Changes) -> None:
            a = changes.get(
                artifact_name_id(name),
                ArtifactName,
                create=lambda: ArtifactName.register_name(name),
                fastforward=True,
            )
            number = a.register_external_version(
                artifact_version_id=artifact_version_id,
                source=source,
                uri=saved.uri,
                materializer=saved.materializer,
                data_type=saved.data_type,
                artifact_type=settings.artifact_type or saved.artifact_type,
                content_hash=saved.content_hash,
                size=saved.size,
                metadata={**saved.metadata, "source": source},
                visualizations=saved.visualizations,
                version_name=settings.version,
                run_metadata=settings.run_metadata,
            )
            tag_artifact_version_in(changes, a, number, tags)  # exclusive ones move here

        self.context.repository.change_together(
            register, attempts=_MAX_RETRIES, what=f"register a version of artifact {name!r}"
        )
        self.context.catch_up()

    # -- delete --------------------------------------------------------------------------

    def delete(
        self,
        name: str,
        version: int | str,
        reason: str = "",
        *,
        unless_reused_since: datetime | None = None,
    ) -> bool:
        """Tombstone ``name:version`` (``VersionDeleted``), then remove its bytes.

        Deleting a deleted version records nothing but still removes bytes a
        crashed delete left behind. Returns whether a tombstone was recorded.
        """
        self.context.catch_up()
        record = self.context.queries.get_artifact_version(name, version)
        # The folder removed is the one the log recorded: a view row is no authority
        # over which bytes get deleted.
        logged = recorded_output(
            self.context.events,
            record.id,
            name=name,
            producer_step_run_id=record.producer_step_run_id,
        )
        if logged is None or (logged.name, logged.number) != (name, record.number):
            raise IntegrityError(
                f"artifact {name}:{version} ({record.id}) in the views is not what the log "
                f"recorded; nothing was deleted. {VIEWS_DISAGREE}"
            )
        recorded = self._change(
            name,
            lambda a: a.delete_version(
                logged.number,
                logged.uri,
                reason or "deleted by the user",
                unless_reused_since=unless_reused_since,
            ),
        )
        _remove_folder(self.context.artifacts, logged.location(self.context.artifacts))
        self.context.catch_up()
        return recorded

    # -- gc and prune ------------------------------------------------------------------

    def gc(
        self,
        *,
        apply: bool = False,
        min_age_s: float = DEFAULT_GC_MIN_AGE_S,
        lease_max_age_s: float = DEFAULT_LEASE_MAX_AGE_S,
    ) -> GcReport:
        """Find (and with ``apply`` remove) artifact folders no live version points to.

        A folder under a live write lease is never removed, whatever
        ``min_age_s`` says: its writer has not recorded it yet. A lease holds
        while its process lives (on this host) or, from another host, until it
        is ``lease_max_age_s`` old; stale leases are removed with ``apply``.

        The order of reads is what makes this safe: the store is listed, then
        the leases are read, then the views catch up. A listed folder's writer
        took its lease before making it and drops the lease only after its
        event is recorded, so either the lease or the event is seen.
        Orphans younger than ``min_age_s`` are spared too (writers of older
        versions, or other tools, take no lease).

        Raises:
            InvalidRetentionError: when ``min_age_s`` or ``lease_max_age_s`` is negative.

        """
        check_seconds(lease_max_age_s, "lease_max_age", "how long a remote write lease holds")
        store = self.context.artifacts
        folders, skipped = _version_folders(store)
        leases = read_leases(store)
        self.context.catch_up()
        live, deleted = self.queries.stored_uris()
        decisions = plan_gc(
            folders,
            {_norm(store, u) for u in live},
            {_norm(store, u): label for u, label in deleted.items()},
            min_age_s,
            leases,
            lease_max_age_s,
        )
        if apply:
            lease_uris = {lease.uri for lease in leases}
            for decision in decisions:
                if decision.action != "remove":
                    continue
                if decision.uri in lease_uris:
                    _remove_lease(store, decision.uri)
                else:
                    _remove_folder(store, decision.uri)
        return GcReport(decisions + skipped, applied=apply)

    def prune(
        self,
        *,
        keep: int,
        name: str | None = None,
        apply: bool = False,
        force: bool = False,
        reuse_window_s: float = DEFAULT_REUSE_WINDOW_S,
    ) -> PruneReport:
        """Plan (and with ``apply`` carry out) deleting old untagged versions.

        Keeps the newest ``keep`` live versions of each name (or of ``name``),
        every tagged version, every version in use (consumed or reused by a
        run still running, or reused by a cache hit less than
        ``reuse_window_s`` ago), and, unless ``force``, every version a kept
        one was derived from, however many steps upstream.

        Raises:
            InvalidRetentionError: when ``keep`` is not a positive whole number or
                ``reuse_window_s`` is not a number of seconds of 0 or more.
            ArtifactNotFoundError: when ``name`` is given and unknown.

        """
        check_seconds(reuse_window_s, "reuse_window", "how long a reused version stays in use")
        self.context.catch_up()
        if name is not None:
            self.context.queries.get_artifact_version(name)  # an unknown name is an error
        in_use = self._in_use(reuse_window_s)
        decisions = plan_prune(
            self.queries.version_facts(),
            self.queries.derivations(),
            keep,
            force=force,
            in_use=in_use,
        )
        if name is not None:
            decisions = [d for d in decisions if d.version.name == name]
        if apply:
            decisions = [self._carry_out(d, keep, reuse_window_s) for d in decisions]
        return PruneReport(decisions, applied=apply)

    def _in_use(self, reuse_window_s: float, version_id: str | None = None) -> dict[str, str]:
        """Versions in use now (all, or only ``version_id``), with why."""
        now = datetime.now(UTC)
        uses = self.queries.version_uses(
            now - timedelta(seconds=reuse_window_s),
            None if version_id is None else [version_id],
        )
        return versions_in_use(uses, now=now, reuse_window_s=reuse_window_s)

    def _carry_out(
        self, decision: PruneDecision, keep: int, reuse_window_s: float
    ) -> PruneDecision:
        """Delete a version the plan gave up, unless a run started using it since the plan."""
        if decision.action != "delete":
            return decision
        self.context.catch_up()
        in_use = self._in_use(reuse_window_s, decision.version.id).get(decision.version.id)
        if in_use is not None:
            return PruneDecision(decision.version, "keep", f"in use: {in_use}")
        window_start = datetime.now(UTC) - timedelta(seconds=reuse_window_s)
        try:
            # The name's stream decides: a hit that reused the version since the views
            # were read either shows in the aggregate or conflicts with the tombstone.
            self.delete(
                decision.version.name,
                decision.version.version,
                reason=f"pruned (keep {keep}): {decision.reason}",
                unless_reused_since=window_start,
            )
        except VersionInUseError as e:
            return PruneDecision(decision.version, "keep", f"in use: {e}")
        return decision

    # -- events ---------------------------------------------------------------------------

    def _change(
        self, name: str, command: Callable[[ArtifactName], _T], *, create: bool = False
    ) -> _T:
        """Run ``command`` on the name's aggregate and save it, retrying on a racing writer."""

        def missing() -> ArtifactName:
            if create:
                return ArtifactName.register_name(name)
            raise ArtifactNotFoundError(
                f"no artifact named {name!r}; list the names with `lineagelog artifacts list`"
            )

        result = self.context.repository.change(
            artifact_name_id(name),
            ArtifactName,
            command,
            create=missing,
            fastforward=True,  # tag, untag and delete refuse on what they see: it must be current
            attempts=_MAX_RETRIES,
            what=f"change artifact {name!r}",
        )
        self.context.catch_up()
        return result


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
        return store.locate(uri).rstrip("/")
    except StorageError:
        return uri.rstrip("/")  # recorded in another store: it can never match a folder here


def _version_folders(store: ArtifactStore) -> tuple[list[StoredFolder], list[GcDecision]]:
    """List the ``<root>/<name>/<uuid>`` folders, each with the age of its newest file.

    Entries that lead out of the store (symlinks planted in it) are not listed,
    not followed and never removed: each comes back as a ``skip`` decision.
    """
    root = store.root
    if not store.exists(root):
        return [], []
    now = time.time()
    folders: list[StoredFolder] = []
    skipped: list[GcDecision] = []
    for name_folder in store.listdir(root):
        if name_folder.rstrip("/").rsplit("/", 1)[-1] == RESERVED_FOLDER:
            continue  # the store's own folder (write leases), never an artifact's
        if _leads_out(store, name_folder, skipped) or not store.isdir(name_folder):
            continue
        for candidate in store.listdir(name_folder):
            if not is_uuid(candidate.rstrip("/").rsplit("/", 1)[-1]):
                continue
            if _leads_out(store, candidate, skipped) or not store.isdir(candidate):
                continue
            times = [store.modified(f) for f in store.walk_files(candidate)] or [None]
            known = [m for m in times if m is not None]
            age = now - max(known) if known and len(known) == len(times) else None
            folders.append(StoredFolder(store.check_within_root(candidate).rstrip("/"), age))
    return folders, skipped


def _leads_out(store: ArtifactStore, path: str, skipped: list[GcDecision]) -> bool:
    """Whether ``path`` resolves outside the store; if so, a ``skip`` decision says why."""
    try:
        store.check_within_root(path)
    except StorageError:
        reason = (
            "a symlink (or other entry) leading out of the artifact store; gc neither follows "
            "nor removes it: remove it by hand if nothing else needs it"
        )
        skipped.append(GcDecision(path.rstrip("/"), "skip", reason))
        return True
    return False


def _remove_lease(store: ArtifactStore, uri: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        store.remove(uri)


def _remove_folder(store: ArtifactStore, uri: str) -> None:
    try:
        if not store.exists(uri):
            return
        own = store.data_files(uri)
        if store.isdir(uri) and own != store.walk_files(uri):
            # Data registered where it lies shares its folder with other versions' folders.
            for file in own:
                store.remove(file)
            return
        store.rmtree(uri) if store.isdir(uri) else store.remove(uri)
    except OSError as e:
        raise StorageError(
            f"could not remove the artifact folder {uri!r} ({e}); the version is tombstoned, "
            "so `lineagelog gc --apply` will remove the bytes later"
        ) from e
