"""The post-execution ``Client``: runs, step runs, artifacts and lineage, from the views."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.api.models import ArtifactVersion, Run, StepRun
from lineagelog.domain.errors import LineageError, NotFoundError

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from lineagelog.adapters.audit import AuditReport
    from lineagelog.adapters.materializers import BaseMaterializer
    from lineagelog.adapters.sealing import SealResult
    from lineagelog.api.context import LineageContext
    from lineagelog.api.lifecycle import (
        ArtifactLifecycle,
        GcReport,
        PruneReport,
        VersionSettings,
    )
    from lineagelog.api.recovery import RecoveryReport
    from lineagelog.projections.lineage import LineageGraph

__all__ = ["Client"]


def _id_text(value: UUID | str, what: str) -> str:
    if isinstance(value, UUID):
        return str(value)
    try:
        return str(UUID(str(value)))
    except ValueError:
        raise NotFoundError(
            f"{what} id {value!r} is not a UUID; copy an id from `lineagelog runs list`"
        ) from None


def _with_tags(settings: VersionSettings | None, tags: Sequence[str]) -> VersionSettings:
    import dataclasses

    from lineagelog.api.artifact_config import checked_tags
    from lineagelog.api.lifecycle import VersionSettings

    chosen = settings or VersionSettings()
    return dataclasses.replace(chosen, tags=checked_tags([*chosen.tags, *tags]))


class Client:
    """Read the lineage history. Every query reads the views, brought up to date first.

    ``Client()`` uses the configured settings (``configure`` or the environment);
    pass ``database_url`` / ``artifact_store`` to read another store.
    """

    def __init__(
        self,
        database_url: str | None = None,
        artifact_store: str | None = None,
        *,
        home: str | None = None,
        _context: LineageContext | None = None,
        _as_of: int | None = None,
    ) -> None:
        """Open the stores (once per process per settings)."""
        from lineagelog.api.context import open_context  # SQLAlchemy loads on first use

        self._context = _context or open_context(database_url, artifact_store, home)
        self._as_of = _as_of

    @property
    def context(self) -> LineageContext:
        """The wired stores this client reads."""
        return self._context

    @property
    def as_of_position(self) -> int | None:
        """The log position this client answers as of (None: now)."""
        return self._as_of

    def _fresh(self) -> None:
        if self._as_of is None:
            self._context.catch_up()

    # -- time ---------------------------------------------------------------------------

    def as_of(self, at: datetime | int) -> Client:
        """A read-only client whose every query answers as of ``at``.

        ``at`` is a log position (notification id) or a datetime (naive means UTC).
        """
        self._context.catch_up()
        if isinstance(at, bool) or not isinstance(at, (int, datetime)):
            raise LineageError(f"as_of takes a datetime or a log position (int), got {at!r}")
        position = at if isinstance(at, int) else self._context.queries.position_at(at)
        if position < 0:
            raise LineageError(f"log position {position} is negative; positions start at 1")
        return Client(_context=self._context, _as_of=position)

    # -- runs ------------------------------------------------------------------------------

    def get_run(self, run_id: UUID | str) -> Run:
        """One run with its steps, inputs and outputs."""
        self._fresh()
        record = self._context.queries.get_run(_id_text(run_id, "run"), as_of=self._as_of)
        return Run.from_record(self._context, record, as_of=self._as_of)

    def list_runs(
        self,
        pipeline: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Run]:
        """Runs, newest first."""
        self._fresh()
        records = self._context.queries.list_runs(
            pipeline=pipeline, status=status, limit=limit, offset=offset, as_of=self._as_of
        )
        return [Run.from_record(self._context, r, as_of=self._as_of) for r in records]

    def get_step_run(self, step_run_id: UUID | str) -> StepRun:
        """One step run by id."""
        self._fresh()
        record = self._context.queries.get_step_run(
            _id_text(step_run_id, "step run"), as_of=self._as_of
        )
        return self.get_run(record.run_id).steps[record.name]

    def list_step_runs(
        self,
        cache_key: str | None = None,
        status: str | None = None,
        pipeline: str | None = None,
        limit: int | None = None,
    ) -> list[StepRun]:
        """Step runs, newest first, filtered by cache key, status or pipeline."""
        self._fresh()
        records = self._context.queries.list_step_runs(
            cache_key=cache_key, status=status, pipeline=pipeline, limit=limit, as_of=self._as_of
        )
        ids = {v for s in records for v in (*s.inputs.values(), *s.outputs.values())}
        versions = {
            k: ArtifactVersion.from_record(self._context, v)
            for k, v in self._context.queries.artifact_versions_by_id(
                sorted(ids), self._as_of
            ).items()
        }
        return [StepRun.from_record(r, versions) for r in records]

    # -- artifacts ---------------------------------------------------------------------------

    def get_artifact_version(self, name: str, version: int | str | None = None) -> ArtifactVersion:
        """Version ``version`` (a version name or number) of artifact ``name``; None: the latest."""
        self._fresh()
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int | str)
        ):
            raise NotFoundError(
                f"artifact version {version!r} of {name!r} is not a version name or number; "
                "use e.g. 3 or '1.0'"
            )
        record = self._context.queries.get_artifact_version(name, version, as_of=self._as_of)
        return ArtifactVersion.from_record(self._context, record)

    def list_artifact_versions(
        self, name: str | None = None, tag: str | None = None, limit: int | None = None
    ) -> list[ArtifactVersion]:
        """Artifact versions by name and version, optionally only those with ``tag``."""
        self._fresh()
        records = self._context.queries.list_artifact_versions(
            name=name, tag=tag, limit=limit, as_of=self._as_of
        )
        return [ArtifactVersion.from_record(self._context, r) for r in records]

    # -- artifact lifecycle (api/lifecycle.py) --------------------------------------------

    def _lifecycle(self, action: str) -> ArtifactLifecycle:
        from lineagelog.api.lifecycle import ArtifactLifecycle

        if self._as_of is not None:
            raise LineageError(
                f"cannot {action} through a client reading as of position {self._as_of}; "
                "use Client() to change the present"
            )
        return ArtifactLifecycle(self._context)

    def tag_artifact(self, name: str, version: int | str, tag: str) -> ArtifactVersion:
        """Add ``tag`` to ``name:version`` (an event; a no-op when it is already there)."""
        self._lifecycle("tag").tag(name, version, tag)
        return self.get_artifact_version(name, version)

    def untag_artifact(self, name: str, version: int | str, tag: str) -> ArtifactVersion:
        """Remove ``tag`` from ``name:version`` (an event; a no-op when it is not there)."""
        self._lifecycle("untag").untag(name, version, tag)
        return self.get_artifact_version(name, version)

    def register_artifact(
        self,
        source: str | os.PathLike[str],
        name: str,
        *,
        tags: Sequence[str] = (),
        settings: VersionSettings | None = None,
    ) -> ArtifactVersion:
        """Register an existing local file or folder, or a path in the store, as a new version.

        Local data is copied into the artifact store and hashed; data already
        in the store is hashed where it lies (never copied into itself); no
        step runs. ``load()`` on the result gives a local path. ``settings``
        names, tags and types the version (``lineagelog.api.register_artifact``).
        """
        lifecycle = self._lifecycle("register an artifact")
        chosen = _with_tags(settings, tags)
        return self.get_artifact_version_by_id(lifecycle.register(source, name, chosen))

    def save_artifact(
        self,
        value: Any,
        name: str,
        *,
        tags: Sequence[str] = (),
        materializer: type[BaseMaterializer] | None = None,
        settings: VersionSettings | None = None,
    ) -> ArtifactVersion:
        """Save a Python value as a new version of ``name``, outside any pipeline.

        The materializer registered for the value's type writes it (or
        ``materializer``), as for a step's output; ``load()`` on the result gives
        the value back. Like ``register_artifact``, the version has no producing
        step run. ``settings`` names, tags and types the version
        (``lineagelog.api.save_artifact``).
        """
        lifecycle = self._lifecycle("save an artifact")
        chosen = _with_tags(settings, tags)
        return self.get_artifact_version_by_id(
            lifecycle.save_value(value, name, materializer, chosen)
        )

    def get_artifact_version_by_id(self, artifact_version_id: UUID | str) -> ArtifactVersion:
        """The artifact version with id ``artifact_version_id``."""
        from lineagelog.domain.errors import ArtifactNotFoundError

        self._fresh()
        wanted = _id_text(artifact_version_id, "artifact version")
        found = self._context.queries.artifact_versions_by_id([wanted], self._as_of)
        if wanted not in found:
            raise ArtifactNotFoundError(
                f"no artifact version {wanted}; find ids with `lineagelog artifacts list NAME`"
            )
        return ArtifactVersion.from_record(self._context, found[wanted])

    def delete_artifact_version(
        self, name: str, version: int | str, *, reason: str = ""
    ) -> ArtifactVersion:
        """Delete ``name:version``: a tombstone event first, then its bytes are removed.

        Lineage keeps the version, marked deleted; the cache never serves it again.
        """
        self._lifecycle("delete").delete(name, version, reason)
        return self.get_artifact_version(name, version)

    def gc(
        self,
        *,
        apply: bool = False,
        min_age_s: float | None = None,
        lease_max_age_s: float | None = None,
    ) -> GcReport:
        """Orphan artifact folders no live version points to; removed only with ``apply``.

        A folder a writer holds a live write lease on is never removed, whatever
        ``min_age_s`` says; a lease from another host holds for ``lease_max_age_s``
        (default a day). See ``ArtifactLifecycle.gc``.
        """
        from lineagelog.api.lifecycle import DEFAULT_GC_MIN_AGE_S, DEFAULT_LEASE_MAX_AGE_S

        return self._lifecycle("collect garbage").gc(
            apply=apply,
            min_age_s=DEFAULT_GC_MIN_AGE_S if min_age_s is None else min_age_s,
            lease_max_age_s=(
                DEFAULT_LEASE_MAX_AGE_S if lease_max_age_s is None else lease_max_age_s
            ),
        )

    def prune(
        self,
        *,
        keep: int,
        name: str | None = None,
        apply: bool = False,
        force: bool = False,
        reuse_window_s: float | None = None,
    ) -> PruneReport:
        """Old untagged versions beyond the newest ``keep``; deleted only with ``apply``.

        Versions a kept version was derived from stay unless ``force``. Versions
        in use stay whatever ``force`` says: consumed or reused by a run still
        running, or reused by a cache hit less than ``reuse_window_s`` ago
        (default an hour).
        """
        from lineagelog.api.lifecycle import DEFAULT_REUSE_WINDOW_S

        return self._lifecycle("prune").prune(
            keep=keep,
            name=name,
            apply=apply,
            force=force,
            reuse_window_s=DEFAULT_REUSE_WINDOW_S if reuse_window_s is None else reuse_window_s,
        )

    # -- audit (api/audit.py) -----------------------------------------------------------------

    def audit(
        self, *, verify_artifacts: bool = True, views: bool = True, anchor: str | None = None
    ) -> AuditReport:
        """Verify the raw log (hash chains, seals), the artifacts' bytes and the views.

        ``verify_artifacts=False`` skips hashing the artifacts; ``views=False``
        skips comparing the views with a rebuild from the log (which costs a
        full rebuild into a scratch database). ``anchor`` (a path or fsspec URL
        written by ``seal(anchor=...)``) also proves the log still holds every
        anchored history: a cut-off tail or a re-hashed forgery fails it.
        """
        from lineagelog.api.audit import audit

        return audit(self._context, verify_artifacts=verify_artifacts, views=views, anchor=anchor)

    def seal(self, *, anchor: str | None = None) -> SealResult:
        """Seal every event recorded so far (runs seal themselves when they end).

        ``anchor``: a local path or fsspec URL to append the seal to, one JSON
        line, kept outside the log for ``audit(anchor=...)``.
        """
        from lineagelog.api.audit import seal

        return seal(self._context, anchor=anchor)

    def replay(self, until: datetime | int) -> Client:
        """A client on views rebuilt from the raw log up to ``until`` in a scratch database.

        ``until`` is a log position or a datetime (naive means UTC). The scratch
        database goes away with the returned client (or ``client.context.close()``).
        """
        from lineagelog.api.audit import replay_context

        return Client(_context=replay_context(self._context, until))

    def run_state(self, run_id: UUID | str, as_of: datetime | int | None = None) -> Any:
        """The ``PipelineRun`` aggregate rebuilt from its events up to ``as_of`` (now when None)."""
        from lineagelog.api.audit import run_state

        return run_state(self._context, run_id, self._as_of if as_of is None else as_of)

    def step_run_state(self, step_run_id: UUID | str, as_of: datetime | int | None = None) -> Any:
        """The ``StepRun`` aggregate rebuilt from its events up to ``as_of`` (now when None)."""
        from lineagelog.api.audit import step_run_state

        return step_run_state(self._context, step_run_id, self._as_of if as_of is None else as_of)

    # -- recovery (api/recovery.py) ----------------------------------------------------------

    def recover_runs(self, timeout: float | None = None, apply: bool = True) -> RecoveryReport:
        """Mark runs whose process is gone as ``interrupted``; ``apply=False`` only reports.

        A run started on this host is interrupted when its process is gone; one
        started elsewhere only when ``timeout`` is given and its last event is
        older than ``timeout`` seconds; otherwise it is reported ``unknown``.
        """
        from lineagelog.api.recovery import recover_runs

        if apply and self._as_of is not None:
            raise LineageError(
                f"cannot recover runs through a client reading as of position {self._as_of}; "
                "use Client() to change the present"
            )
        return recover_runs(self._context, timeout=timeout, apply=apply)

    # -- lineage ----------------------------------------------------------------------------

    def lineage(
        self,
        node: UUID | str,
        direction: str = "upstream",
        depth: int | None = None,
        as_of: datetime | int | None = None,
    ) -> LineageGraph:
        """The lineage graph around ``node``.

        ``node`` is an artifact version id, a step run id, a run id, or
        ``"name:version"`` / ``"name"`` (latest) for an artifact. ``depth`` counts
        hops (artifact -> step run is one). ``as_of`` gives the graph as it stood then.
        """
        if as_of is not None:
            return self.as_of(as_of).lineage(node, direction, depth)
        from lineagelog.projections.lineage_queries import resolve_node

        self._fresh()
        node_id = resolve_node(self._context.queries, node, as_of=self._as_of)
        return self._context.lineage.lineage(
            node_id,
            direction=direction,  # type: ignore[arg-type]  # validated there, with a clear error
            depth=depth,
            as_of=self._as_of,
        )

    def __repr__(self) -> str:
        when = "now" if self._as_of is None else f"as of position {self._as_of}"
        from lineagelog.domain.redaction import redact_url  # never show a password

        return f"Client({redact_url(self._context.settings.database_url)!r}, {when})"
