"""The post-execution ``Client``: runs, step runs, artifacts and lineage, from the views."""

from __future__ import annotations

from datetime import datetime

from uuid import UUID

from lineagelog.api.context import LineageContext, open_context
from lineagelog.api.models import ArtifactVersion, Run, StepRun
from lineagelog.domain.errors import LineageError, NotFoundError
from lineagelog.projections.lineage import LineageGraph, resolve_node

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
            raise LineageError(
                f"as_of takes a datetime or a log position (int), got {at!r}"
            )
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
            for k, v in self._context.queries.artifact_versions_by_id(sorted(ids), self._as_of).items()
        }
        return [StepRun.from_record(r, versions) for r in records]

    # -- artifacts ---------------------------------------------------------------------------

    def get_artifact_version(self, name: str, version: int | str | None = None) -> ArtifactVersion:
        """Version ``version`` of artifact ``name``; the latest when None."""
        self._fresh()
        number: int | None
        if version is None:
            number = None
        else:
            try:
                number = int(version)
            except (TypeError, ValueError):
                raise NotFoundError(
                    f"artifact version {version!r} of {name!r} is not a number; "
                    "versions are 1, 2, 3..."
                ) from None
        record = self._context.queries.get_artifact_version(name, number, as_of=self._as_of)
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
        self._fresh()
        node_id = resolve_node(self._context.queries, node, as_of=self._as_of)
        return self._context.lineage.lineage(node_id, direction=direction, depth=depth, as_of=self._as_of)

    def __repr__(self) -> str:
        when = "now" if self._as_of is None else f"as of position {self._as_of}"
        return f"Client({self._context.settings.database_url!r}, {when})"


