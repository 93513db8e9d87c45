"""The post-execution ``Client``: runs, step runs, artifacts and lineage, from the views."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.api.models import Artifact, ArtifactVersion, PipelineModel, Run, StepRun
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    DeletedVersionError,
    InvalidTagError,
    LineageError,
    PipelineNotFoundError,
)
from lineagelog.projections.choices import (
    CACHE_OUTCOMES,
    RUN_STATUSES,
    STEP_STATUSES,
    check_choice,
)

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
    from lineagelog.domain.comparison import RunComparison
    from lineagelog.domain.root_causes import ArtifactComparison
    from lineagelog.projections.lineage import LineageGraph
    from lineagelog.projections.records import TagRecord
    from lineagelog.projections.references import References

__all__ = ["Client"]


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

    Things are named as on the command line (``lineagelog.projections.references``):
    a run by its id, a unique id prefix (at least four characters) or its run
    name; a step run by its id or prefix; an artifact version by ``name``
    (latest), ``name:version``, its id or prefix.
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

    def _fresh(self) -> References:
        """Bring the views up to date (unless reading the past); the resolver to use."""
        from lineagelog.projections.references import References  # SQLAlchemy: on first use

        if self._as_of is None:
            self._context.catch_up()
        return References(self._context.queries, self._as_of)

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

    # -- pipelines and runs -------------------------------------------------------------

    def get_pipeline(self, name_id_or_prefix: str) -> PipelineModel:
        """The pipeline named ``name_id_or_prefix``, known by its runs (ZenML's ``get_pipeline``).

        Pipelines are not recorded apart from their runs, so they have no id of
        their own: the argument is the pipeline's name.

        Raises:
            PipelineNotFoundError: no run of a pipeline with that name; says so
                when it is a run's name instead.

        """
        references = self._fresh()
        found = self._context.queries.list_pipelines(name=name_id_or_prefix, as_of=self._as_of)
        if found:
            return PipelineModel.from_record(self, found[0])
        try:
            run = self._context.queries.get_run(references.run(name_id_or_prefix), self._as_of)
        except LineageError:
            run = None
        hint = (
            f"{name_id_or_prefix!r} names a run of pipeline {run.pipeline!r}, not a pipeline; "
            f"use get_pipeline({run.pipeline!r}) or get_pipeline_run({name_id_or_prefix!r})"
            if run is not None
            else f"no pipeline named {name_id_or_prefix!r} has run"
            + (f" as of position {self._as_of}" if self._as_of is not None else "")
            + "; list them with Client().list_pipelines() or `lineagelog runs list`"
        )
        raise PipelineNotFoundError(hint)

    def list_pipelines(self) -> list[PipelineModel]:
        """Every pipeline with at least one run, by its first run (oldest first)."""
        self._fresh()
        records = self._context.queries.list_pipelines(as_of=self._as_of)
        return [PipelineModel.from_record(self, r) for r in records]

    def get_pipeline_run(self, name_id_or_prefix: UUID | str) -> Run:
        """One run with its steps: by id, unique id prefix or run name (ZenML's name).

        Raises:
            RunNotFoundError: nothing matches; says when it is a pipeline name.
            AmbiguousReferenceError: the prefix or run name matches several runs.

        """
        run_id = self._fresh().run(name_id_or_prefix)
        record = self._context.queries.get_run(run_id, as_of=self._as_of)
        return Run.from_record(self._context, record, as_of=self._as_of)

    def get_run(self, run: UUID | str) -> Run:
        """One run with its steps; ``run`` as ``get_pipeline_run`` takes it."""
        return self.get_pipeline_run(run)

    def list_runs(
        self,
        pipeline: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        tag: str | None = None,
    ) -> list[Run]:
        """Runs, newest first; with ``tag``, only the runs that have it (then, when ``as_of``).

        Raises:
            InvalidFilterError: ``status`` is not a run status (they are listed).

        """
        check_choice("run status", status, RUN_STATUSES)
        self._fresh()
        records = self._context.queries.list_runs(
            pipeline=pipeline,
            status=status,
            limit=limit,
            offset=offset,
            as_of=self._as_of,
            tag=tag,
        )
        return [Run.from_record(self._context, r, as_of=self._as_of) for r in records]

    def tag_run(self, run_id: UUID | str, tag: str, *more: str) -> Run:
        """Add ``tag`` (and ``more``) to a run in one append (``RunTagged``).

        An exclusive tag leaves the pipeline's other run that held it.
        """
        from lineagelog.api.tagging import Tag, Tagger

        self._lifecycle("tag")
        tags = [Tag(name) for name in (tag, *more)]
        Tagger(self._context).tag_run(UUID(self._fresh().run(run_id)), tags)
        return self.get_run(run_id)

    def untag_run(self, run_id: UUID | str, tag: str, *more: str) -> Run:
        """Remove ``tag`` (and ``more``) from a run in one append (no-ops for absent ones)."""
        from lineagelog.api.tagging import Tagger

        self._lifecycle("untag")
        Tagger(self._context).untag_run(UUID(self._fresh().run(run_id)), [tag, *more])
        return self.get_run(run_id)

    def create_tag(self, name: str, exclusive: bool = False) -> TagRecord:
        """Create a tag before its first use, e.g. an exclusive one (``TagCreated``), as ZenML."""
        from lineagelog.api.tagging import Tagger

        self._lifecycle("create a tag")
        if not isinstance(exclusive, bool):
            raise InvalidTagError(f"create_tag(exclusive={exclusive!r}) must be True or False")
        Tagger(self._context).create_tag(name, exclusive=exclusive)
        return next(tag for tag in self.list_tags() if tag.name == name)

    def list_tags(self) -> list[TagRecord]:
        """Every tag used or created, by name, with whether it is exclusive."""
        self._fresh()
        return self._context.queries.list_tags(as_of=self._as_of)

    def get_step_run(self, step_run: UUID | str) -> StepRun:
        """One step run by id or unique id prefix."""
        step_run_id = self._fresh().step_run(step_run)
        record = self._context.queries.get_step_run(step_run_id, as_of=self._as_of)
        return self.get_run(record.run_id).steps[record.name]

    def list_step_runs(
        self,
        cache_key: str | None = None,
        status: str | None = None,
        pipeline: str | None = None,
        limit: int | None = None,
        cache_outcome: str | None = None,
    ) -> list[StepRun]:
        """Step runs, newest first, filtered by cache key, status, pipeline or cache outcome.

        Raises:
            InvalidFilterError: ``status`` or ``cache_outcome`` is not one of its values
                (they are listed).

        """
        check_choice("step status", status, STEP_STATUSES)
        check_choice("cache outcome", cache_outcome, CACHE_OUTCOMES)
        self._fresh()
        records = self._context.queries.list_step_runs(
            cache_key=cache_key,
            status=status,
            pipeline=pipeline,
            limit=limit,
            as_of=self._as_of,
            cache_outcome=cache_outcome,
        )
        ids = {v for s in records for v in (*s.inputs.values(), *s.outputs.values())}
        versions = {
            k: ArtifactVersion.from_record(self._context, v, self._as_of)
            for k, v in self._context.queries.artifact_versions_by_id(
                sorted(ids), self._as_of
            ).items()
        }
        specs = self._context.queries.run_dags(sorted({s.run_id for s in records}))
        logged = self._context.queries.logged_metadata([r.id for r in records], self._as_of)
        return [
            StepRun.from_record(
                r,
                versions,
                specs.get(r.run_id, {}).get("steps", {}).get(r.name),
                run_metadata=logged.get(r.id, {}),
            )
            for r in records
        ]

    # -- artifacts ---------------------------------------------------------------------------

    def get_artifact_version(
        self, name_id_or_prefix: UUID | str, version: int | str | None = None
    ) -> ArtifactVersion:
        """An artifact version, as ZenML's ``get_artifact_version`` takes it.

        With ``version``, ``name_id_or_prefix`` is the artifact's name. Without
        it: an id, ``"name:version"``, a name (its latest version) or a unique id
        prefix.

        Raises:
            ArtifactNotFoundError: nothing matches, naming what exists.
            AmbiguousReferenceError: the id prefix matches several versions.

        """
        record = self._fresh().artifact_version(name_id_or_prefix, version)
        return ArtifactVersion.from_record(self._context, record, self._as_of)

    def get_artifact(self, name_id_or_prefix: str) -> Artifact:
        """The artifact named ``name_id_or_prefix``, with its ``versions`` (ZenML's name).

        Takes the artifact's name; one version is ``get_artifact_version``'s.

        Raises:
            ArtifactNotFoundError: no artifact has that name.

        """
        self._fresh()
        latest = self._context.queries.latest_artifact_versions(
            name=name_id_or_prefix, as_of=self._as_of
        )
        if not latest:
            raise ArtifactNotFoundError(
                f"no artifact named {name_id_or_prefix!r}"
                + (f" as of position {self._as_of}" if self._as_of is not None else "")
                + "; get_artifact takes a name (for one version by id or 'name:version' use "
                "get_artifact_version); list names with Client().list_artifacts()"
            )
        return Artifact.from_latest(self, latest[0])

    def list_artifacts(self) -> list[Artifact]:
        """Every artifact name, in name order."""
        self._fresh()
        latest = self._context.queries.latest_artifact_versions(as_of=self._as_of)
        return [Artifact.from_latest(self, v) for v in latest]

    def list_artifact_versions(
        self,
        name: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        *,
        offset: int = 0,
    ) -> list[ArtifactVersion]:
        """Artifact versions by name and version, optionally only those with ``tag``.

        ``limit`` and ``offset`` page through them (``offset`` versions skipped first).
        """
        self._fresh()
        records = self._context.queries.list_artifact_versions(
            name=name, tag=tag, limit=limit, offset=offset, as_of=self._as_of
        )
        return [ArtifactVersion.from_record(self._context, r, self._as_of) for r in records]

    # -- artifact lifecycle (api/lifecycle.py) --------------------------------------------

    def _lifecycle(self, action: str) -> ArtifactLifecycle:
        from lineagelog.api.lifecycle import ArtifactLifecycle

        if self._as_of is not None:
            raise LineageError(
                f"cannot {action} through a client reading as of position {self._as_of}; "
                "use Client() to change the present"
            )
        return ArtifactLifecycle(self._context)

    def tag_artifact(self, name: str, version: int | str, tag: str, *more: str) -> ArtifactVersion:
        """Add ``tag`` (and ``more``) to ``name:version`` in one append (``VersionTagged``).

        No-ops for tags already there; an exclusive tag moves here from another version.
        """
        from lineagelog.api.tagging import Tag, Tagger

        self._lifecycle("tag")
        tags = [Tag(t) for t in (tag, *more)]
        Tagger(self._context).tag_artifact_version(name, version, tags)
        return self.get_artifact_version(name, version)

    def untag_artifact(
        self, name: str, version: int | str, tag: str, *more: str
    ) -> ArtifactVersion:
        """Remove ``tag`` (and ``more``) from ``name:version`` in one append (no-ops if absent)."""
        from lineagelog.api.tagging import Tagger

        self._lifecycle("untag")
        Tagger(self._context).untag_artifact_version(name, version, [tag, *more])
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
        """The artifact version with id (or unique id prefix) ``artifact_version_id``.

        Raises:
            ArtifactNotFoundError: no version has that id.
            AmbiguousReferenceError: the prefix matches several versions.

        """
        return self.get_artifact_version(artifact_version_id)

    def delete_artifact_version(
        self, name: str, version: int | str, *, reason: str = ""
    ) -> ArtifactVersion:
        """Delete ``name:version``: a tombstone event first, then its bytes are removed.

        Lineage keeps the version, marked deleted; the cache never serves it again.

        Raises:
            DeletedVersionError: the version already was deleted (the message says
                when and why); nothing is recorded, and bytes a crashed delete
                left behind are removed.

        """
        recorded = self._lifecycle("delete").delete(name, version, reason)
        deleted = self.get_artifact_version(name, version)
        if not recorded:
            raise DeletedVersionError(
                f"artifact {deleted.name}:{deleted.version} is already {deleted.deletion}; "
                "nothing was recorded"
            )
        return deleted

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

    def recover_runs(self, timeout: float | None = None, apply: bool = False) -> RecoveryReport:
        """Find runs whose process is gone; with ``apply=True`` mark them ``interrupted``.

        A dry run by default, like ``lineagelog runs recover`` (``--apply``),
        ``gc`` and ``prune``: nothing changes unless asked.

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

        ``node`` is an artifact version id, a step run id, a run id or a unique
        prefix of one, ``"name:version"`` / ``"name"`` (latest) for an artifact,
        or a run's name. ``depth`` counts hops (artifact -> step run is one).
        ``as_of`` gives the graph as it stood then. The graph's ``path`` and
        ``ancestors_of`` take the same references.
        """
        if as_of is not None:
            return self.as_of(as_of).lineage(node, direction, depth)
        node_id = self._fresh().node(node)
        return self._context.lineage.lineage(
            node_id,
            direction=direction,  # type: ignore[arg-type]  # validated there, with a clear error
            depth=depth,
            as_of=self._as_of,
        )

    # -- comparison ---------------------------------------------------------------------

    def diff_runs(
        self, run_a: UUID | str, run_b: UUID | str, as_of: datetime | int | None = None
    ) -> RunComparison:
        """Compare run ``run_a`` (the baseline) with run ``run_b``, step by step.

        Runs are named by id, unique id prefix or run name. Steps are aligned by
        invocation id (added, removed, common); each common step shows its cache
        outcome in both runs, every ingredient that differs (parameters, code with
        a diff of the recorded source, inputs, materializers, artifact store,
        cache format), whether each output's content is the same, and the times.
        ``as_of`` compares the runs as they stood then.
        """
        if as_of is not None:
            return self.as_of(as_of).diff_runs(run_a, run_b)
        from lineagelog.api.diffing import diff_runs

        return diff_runs(self._context, self._fresh(), run_a, run_b)

    def diff_artifacts(
        self,
        version_a: UUID | str,
        version_b: UUID | str,
        as_of: datetime | int | None = None,
        compare_values: bool = True,
    ) -> ArtifactComparison:
        """Trace two artifact versions (``"model:2"``, ``"model:3"``, ids) to the root causes.

        Both versions' upstream lineage is aligned; the root causes are the
        upstream-most places the histories diverge, each with its path down to
        the two versions and the changes that are its consequences. With
        ``compare_values``, small JSON-like values are loaded to say where they
        differ; DataFrames and arrays compare by their recorded metadata.
        Deleted versions compare by what the log recorded about them.
        """
        if as_of is not None:
            return self.as_of(as_of).diff_artifacts(version_a, version_b, None, compare_values)
        from lineagelog.api.diffing import diff_artifacts

        return diff_artifacts(
            self._context, self._fresh(), version_a, version_b, compare_values=compare_values
        )

    def __repr__(self) -> str:
        when = "now" if self._as_of is None else f"as of position {self._as_of}"
        from lineagelog.domain.redaction import redact_url  # never show a password

        return f"Client({redact_url(self._context.settings.database_url)!r}, {when})"
