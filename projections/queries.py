"""Read queries over the views. Queries read views, never aggregates.

Every query takes ``as_of``: a log position. ``None`` means now. Rows created
after the position are filtered out and changes made after it are undone on
the way out, so a past moment is read from the same tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    and_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    RunNotFoundError,
    StepRunNotFoundError,
    StorageError,
)
from lineagelog.projections import schema as t
from lineagelog.projections.records import (
    ArtifactVersionRecord,
    CachedExecution,
    RunRecord,
    StepRunRecord,
)

__all__ = ["ViewQueries"]

_ENDED = {"completed", "failed", "interrupted", "cached"}


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _visible(position: int | None, as_of: int | None) -> bool:
    return position is not None and (as_of is None or position <= as_of)


# The two queries of every cache decision, built once: constructing a statement
# costs more than running it on a warm SQLite file.
_ce, _sr, _so, _av = t.cache_entries, t.step_runs, t.step_outputs, t.artifact_versions
_CACHED_EXECUTIONS = (
    select(_ce.c.step_run_id, _sr.c.run_id, _so.c.output_name, _av)
    .select_from(_ce)
    .join(_sr, _sr.c.id == _ce.c.step_run_id)
    .outerjoin(_so, and_(_so.c.step_run_id == _ce.c.step_run_id, _so.c.reused.is_(False)))
    .outerjoin(_av, _av.c.id == _so.c.artifact_version_id)
    .where(_ce.c.cache_key == bindparam("cache_key"), _ce.c.succeeded_pos.is_not(None))
    .order_by(_ce.c.succeeded_pos.desc())
)
_NO_LIMIT = 2**62
_LATEST_INGREDIENTS = (
    select(_sr.c.id, _sr.c.ingredients)
    .where(
        _sr.c.pipeline == bindparam("pipeline"),
        _sr.c.invocation_id == bindparam("invocation_id"),
        _sr.c.ingredients.is_not(None),
        _sr.c.started_pos < bindparam("before"),
    )
    .order_by(_sr.c.started_pos.desc())
    .limit(1)
)


class ViewQueries:
    """The queries the Client, the CLI and the runner ask of the views."""

    def __init__(self, engine: Engine) -> None:
        """Query the views reached through ``engine``."""
        self.engine = engine

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A connection whose driver errors become one clear StorageError."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as e:
            reason = getattr(e, "orig", None) or e
            raise StorageError(
                f"could not read the views: {reason}; if they are damaged, rebuild them from "
                "the log with `lineagelog projections rebuild`"
            ) from e

    # -- positions and time ------------------------------------------------------

    def position_at(self, moment: datetime) -> int:
        """The last log position recorded at or before ``moment`` (0 if none)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        with self._connect() as conn:
            value = conn.scalar(
                select(func.max(t.timeline.c.position)).where(
                    t.timeline.c.timestamp <= moment.astimezone(UTC)
                )
            )
        return int(value or 0)

    # -- runs ------------------------------------------------------------------------

    def _run_record(
        self, row: Row[Any], as_of: int | None, steps: dict[str, StepRunRecord]
    ) -> RunRecord:
        ended = _visible(row.ended_pos, as_of)
        return RunRecord(
            id=row.id,
            pipeline=row.pipeline,
            run_name=row.run_name,
            status=row.status if ended else "running",
            parameters=row.parameters,
            dag=row.dag,
            environment=row.environment,
            started_at=_utc(row.started_at),  # type: ignore[arg-type]
            ended_at=_utc(row.ended_at) if ended else None,
            failed_step=row.failed_step if ended else None,
            error=row.error if ended else None,
            started_pos=row.started_pos,
            steps=steps,
        )

    def _step_record(
        self,
        row: Row[Any],
        outputs: dict[str, str],
        as_of: int | None,
        with_ingredients: bool = False,
    ) -> StepRunRecord:
        m = row._asdict()  # one dict instead of ~25 attribute lookups on the Row
        decided = _visible(m["cache_pos"], as_of)
        ended = _visible(m["ended_pos"], as_of)
        return StepRunRecord(
            id=m["id"],
            run_id=m["run_id"],
            pipeline=m["pipeline"],
            name=m["invocation_id"],
            step_name=m["step_name"],
            source_ref=m["source_ref"],
            code_hash=m["code_hash"],
            status=m["status"] if ended else "running",
            parameters=m["parameters"],
            inputs=m["inputs"],
            outputs=outputs,
            started_at=m["started_at"],
            ended_at=m["ended_at"] if ended else None,
            duration_s=m["duration_s"] if ended else None,
            cache_key=m["cache_key"] if decided else None,
            cache_outcome=m["cache_outcome"] if decided else None,
            cache_reason=m["cache_reason"] if decided else None,
            ingredients=m.get("ingredients") if decided and with_ingredients else None,
            original_step_run_id=m["original_step_run_id"] if decided else None,
            error_type=m["error_type"] if ended else None,
            error_message=m["error_message"] if ended else None,
            traceback=m["traceback"] if ended else None,
            started_pos=m["started_pos"],
        )

    def _steps_of(
        self,
        conn: Any,
        run_ids: Sequence[str],
        as_of: int | None,
        with_ingredients: bool = False,
    ) -> dict[str, list[StepRunRecord]]:
        """The step runs of ``run_ids`` and their outputs, in two queries.

        The cache ingredients (the largest column) are read only when asked for.
        """
        sr, so = t.step_runs, t.step_outputs
        columns = [c for c in sr.c if with_ingredients or c.name != "ingredients"]
        where: list[ColumnElement[bool]] = [sr.c.run_id.in_(run_ids)]
        if as_of is not None:
            where.append(sr.c.started_pos <= as_of)
        step_rows = conn.execute(select(*columns).where(*where).order_by(sr.c.started_pos)).all()
        outputs: dict[str, dict[str, str]] = defaultdict(dict)
        if step_rows:
            out_query = (
                select(so.c.step_run_id, so.c.output_name, so.c.artifact_version_id)
                .join(sr, sr.c.id == so.c.step_run_id)
                .where(sr.c.run_id.in_(run_ids))
            )
            if as_of is not None:
                out_query = out_query.where(so.c.position <= as_of)
            for out in conn.execute(out_query):
                outputs[out.step_run_id][out.output_name] = out.artifact_version_id
        by_run: dict[str, list[StepRunRecord]] = defaultdict(list)
        for row in step_rows:
            by_run[row.run_id].append(
                self._step_record(row, outputs[row.id], as_of, with_ingredients)
            )
        return by_run

    def get_run(self, run_id: str, as_of: int | None = None) -> RunRecord:
        """One run with its steps (two queries, whatever the number of steps)."""
        with self._connect() as conn:
            row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).first()
            if row is None or not _visible(row.started_pos, as_of):
                raise RunNotFoundError(
                    f"no pipeline run with id {run_id!r}"
                    + (f" as of position {as_of}" if as_of is not None else "")
                    + "; list runs with `lineagelog runs list`"
                )
            steps = self._steps_of(conn, [run_id], as_of)[run_id]
        return self._run_record(row, as_of, {s.name: s for s in steps})

    def list_runs(
        self,
        pipeline: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        as_of: int | None = None,
        with_steps: bool = True,
    ) -> list[RunRecord]:
        """Runs, newest first, filtered by pipeline name and status."""
        r = t.runs
        query = select(r).order_by(r.c.started_pos.desc())
        if pipeline is not None:
            query = query.where(r.c.pipeline == pipeline)
        if as_of is not None:
            query = query.where(r.c.started_pos <= as_of)
            if status is not None:
                ended = and_(r.c.ended_pos.is_not(None), r.c.ended_pos <= as_of)
                query = query.where(
                    and_(ended, r.c.status == status)
                    if status != "running"
                    else or_(r.c.ended_pos.is_(None), r.c.ended_pos > as_of)
                )
        elif status is not None:
            query = query.where(r.c.status == status)
        if offset:
            query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            rows = conn.execute(query).all()
            steps = (
                self._steps_of(conn, [row.id for row in rows], as_of) if with_steps and rows else {}
            )
        return [
            self._run_record(row, as_of, {s.name: s for s in steps.get(row.id, [])}) for row in rows
        ]

    def get_step_run(self, step_run_id: str, as_of: int | None = None) -> StepRunRecord:
        """One step run by id."""
        with self._connect() as conn:
            row = conn.execute(select(t.step_runs).where(t.step_runs.c.id == step_run_id)).first()
            if row is None or not _visible(row.started_pos, as_of):
                raise StepRunNotFoundError(
                    f"no step run with id {step_run_id!r}; see the step ids with "
                    "`lineagelog runs show RUN`"
                )
            steps = self._steps_of(conn, [row.run_id], as_of, with_ingredients=True)[row.run_id]
        return next(s for s in steps if s.id == step_run_id)

    def list_step_runs(
        self,
        cache_key: str | None = None,
        status: str | None = None,
        pipeline: str | None = None,
        invocation_id: str | None = None,
        limit: int | None = None,
        as_of: int | None = None,
    ) -> list[StepRunRecord]:
        """Step runs, newest first, filtered by cache key, status, pipeline or invocation."""
        sr = t.step_runs
        query = select(sr.c.id, sr.c.run_id).order_by(sr.c.started_pos.desc())
        if cache_key is not None:
            query = query.where(sr.c.cache_key == cache_key)
        if pipeline is not None:
            query = query.where(sr.c.pipeline == pipeline)
        if invocation_id is not None:
            query = query.where(sr.c.invocation_id == invocation_id)
        if as_of is not None:
            query = query.where(sr.c.started_pos <= as_of)
        with self._connect() as conn:
            ids = conn.execute(query).all()
            by_run = self._steps_of(conn, sorted({row.run_id for row in ids}), as_of) if ids else {}
        by_id = {s.id: s for steps in by_run.values() for s in steps}
        records = [by_id[row.id] for row in ids if row.id in by_id]
        if status is not None:
            records = [s for s in records if s.status == status]
        return records[:limit] if limit is not None else records

    def latest_ingredients(
        self, pipeline: str, invocation_id: str, before_position: int | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        """The latest earlier execution of a step invocation with a cache decision."""
        params = {
            "pipeline": pipeline,
            "invocation_id": invocation_id,
            "before": before_position if before_position is not None else _NO_LIMIT,
        }
        with self._connect() as conn:
            row = conn.execute(_LATEST_INGREDIENTS, params).first()
        return None if row is None else (row.id, row.ingredients)

    # -- cache -----------------------------------------------------------------------

    def cached_executions(self, cache_key: str) -> list[CachedExecution]:
        """Succeeded executions with ``cache_key``, newest first, whose outputs are not deleted.

        One query: the cache entry, its step run's run, and its outputs' versions.
        """
        with self._connect() as conn:
            rows = conn.execute(_CACHED_EXECUTIONS, {"cache_key": cache_key}).all()
        executions: dict[str, CachedExecution] = {}
        deleted: set[str] = set()
        for row in rows:
            execution = executions.setdefault(
                row.step_run_id, CachedExecution(row.step_run_id, row.run_id, {})
            )
            if row.output_name is None:
                continue
            record = self._artifact_record(row, (), None)
            if record.deleted:
                deleted.add(row.step_run_id)
            execution.outputs[row.output_name] = record
        return [e for step_run_id, e in executions.items() if step_run_id not in deleted]

    # -- artifacts ---------------------------------------------------------------------

    def _artifact_record(
        self, row: Row[Any], tags: Sequence[str], as_of: int | None
    ) -> ArtifactVersionRecord:
        m = row._asdict()
        return ArtifactVersionRecord(
            id=m["id"],
            name=m["name"],
            version=m["version"],
            uri=m["uri"],
            materializer=m["materializer"],
            data_type=m["data_type"],
            artifact_type=m["artifact_type"],
            content_hash=m["content_hash"],
            size=m["size"],
            metadata=m["metadata"],
            visualizations=m["visualizations"],
            producer_step_run_id=m["producer_step_run_id"],
            output_name=m["output_name"],
            created_at=m["created_at"],
            position=m["position"],
            deleted=_visible(m["deleted_pos"], as_of),
            tags=tuple(sorted(tags)),
        )

    def _tags(self, conn: Any, ids: Sequence[str], as_of: int | None) -> dict[str, list[str]]:
        tg = t.artifact_tags
        where: list[ColumnElement[bool]] = [tg.c.artifact_version_id.in_(ids)]
        if as_of is None:
            where.append(tg.c.removed_pos.is_(None))
        else:
            where += [
                tg.c.added_pos <= as_of,
                or_(tg.c.removed_pos.is_(None), tg.c.removed_pos > as_of),
            ]
        tags: dict[str, list[str]] = defaultdict(list)
        for row in conn.execute(select(tg.c.artifact_version_id, tg.c.tag).where(*where)):
            tags[row.artifact_version_id].append(row.tag)
        return tags

    def _versions_by_id(
        self, conn: Any, ids: Sequence[str], as_of: int | None
    ) -> dict[str, ArtifactVersionRecord]:
        if not ids:
            return {}
        av = t.artifact_versions
        where: list[ColumnElement[bool]] = [av.c.id.in_(list(ids))]
        if as_of is not None:
            where.append(av.c.position <= as_of)
        rows = conn.execute(select(av).where(*where)).all()
        tags = self._tags(conn, [r.id for r in rows], as_of)
        return {r.id: self._artifact_record(r, tags.get(r.id, []), as_of) for r in rows}

    def artifact_versions_of_runs(
        self, run_ids: Sequence[str], as_of: int | None = None
    ) -> dict[str, ArtifactVersionRecord]:
        """Every artifact version the steps of ``run_ids`` consumed or produced, by id.

        A step's inputs are always outputs (produced or reused) of earlier steps of
        its own run, so the run's ``step_outputs`` reach them all: two joined
        queries, however many steps.
        """
        av, so, sr, tg = t.artifact_versions, t.step_outputs, t.step_runs, t.artifact_tags
        of_runs = (
            select(so.c.artifact_version_id)
            .join(sr, sr.c.id == so.c.step_run_id)
            .where(sr.c.run_id.in_(run_ids))
        )
        if as_of is not None:
            of_runs = of_runs.where(so.c.position <= as_of)
        versions = select(av).where(av.c.id.in_(of_runs))
        tags = select(tg.c.artifact_version_id, tg.c.tag).where(
            tg.c.artifact_version_id.in_(of_runs)
        )
        if as_of is None:
            tags = tags.where(tg.c.removed_pos.is_(None))
        else:
            versions = versions.where(av.c.position <= as_of)
            tags = tags.where(
                tg.c.added_pos <= as_of, or_(tg.c.removed_pos.is_(None), tg.c.removed_pos > as_of)
            )
        with self._connect() as conn:
            rows = conn.execute(versions).all()
            by_version: dict[str, list[str]] = defaultdict(list)
            for row in conn.execute(tags):
                by_version[row.artifact_version_id].append(row.tag)
        return {r.id: self._artifact_record(r, by_version.get(r.id, []), as_of) for r in rows}

    def artifact_versions_by_id(
        self, ids: Sequence[str], as_of: int | None = None
    ) -> dict[str, ArtifactVersionRecord]:
        """Artifact versions by id (missing ids are left out)."""
        with self._connect() as conn:
            return self._versions_by_id(conn, ids, as_of)

    def get_artifact_version(
        self, name: str, version: int | None = None, as_of: int | None = None
    ) -> ArtifactVersionRecord:
        """Version ``version`` of artifact ``name`` (the latest when None)."""
        av = t.artifact_versions
        query = select(av).where(av.c.name == name)
        if as_of is not None:
            query = query.where(av.c.position <= as_of)
        if version is None:
            query = query.order_by(av.c.version.desc()).limit(1)
        else:
            query = query.where(av.c.version == version)
        with self._connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                raise self._not_found(conn, name, version, as_of)
            tags = self._tags(conn, [row.id], as_of)
        return self._artifact_record(row, tags.get(row.id, []), as_of)

    def _not_found(
        self, conn: Any, name: str, version: int | None, as_of: int | None
    ) -> ArtifactNotFoundError:
        av = t.artifact_versions
        query = select(func.max(av.c.version)).where(av.c.name == name)
        if as_of is not None:
            query = query.where(av.c.position <= as_of)
        latest = conn.scalar(query)
        if latest is None:
            return ArtifactNotFoundError(
                f"no artifact named {name!r}; list the names with `lineagelog artifacts list`"
            )
        return ArtifactNotFoundError(
            f"artifact {name!r} has no version {version!r}; it has versions 1 to {latest}"
        )

    def list_artifact_versions(
        self,
        name: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        include_deleted: bool = True,
        as_of: int | None = None,
    ) -> list[ArtifactVersionRecord]:
        """Artifact versions, by name then version, optionally with a tag."""
        av, tg = t.artifact_versions, t.artifact_tags
        query = select(av).order_by(av.c.name, av.c.version)
        if name is not None:
            query = query.where(av.c.name == name)
        if as_of is not None:
            query = query.where(av.c.position <= as_of)
        if tag is not None:
            tagged = select(tg.c.artifact_version_id).where(tg.c.tag == tag)
            if as_of is None:
                tagged = tagged.where(tg.c.removed_pos.is_(None))
            else:
                tagged = tagged.where(
                    tg.c.added_pos <= as_of,
                    or_(tg.c.removed_pos.is_(None), tg.c.removed_pos > as_of),
                )
            query = query.where(av.c.id.in_(tagged))
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            rows = conn.execute(query).all()
            tags = self._tags(conn, [r.id for r in rows], as_of) if rows else {}
        records = [self._artifact_record(r, tags.get(r.id, []), as_of) for r in rows]
        return records if include_deleted else [r for r in records if not r.deleted]

    def artifact_names(self, as_of: int | None = None) -> list[tuple[str, int, int]]:
        """Each artifact name with its number of versions and latest version."""
        av = t.artifact_versions
        query = (
            select(av.c.name, func.count(), func.max(av.c.version))
            .group_by(av.c.name)
            .order_by(av.c.name)
        )
        if as_of is not None:
            query = query.where(av.c.position <= as_of)
        with self._connect() as conn:
            return [(row[0], int(row[1]), int(row[2])) for row in conn.execute(query)]

    def consumers_of(self, artifact_version_id: str, as_of: int | None = None) -> list[str]:
        """Ids of the step runs that consumed an artifact version."""
        e = t.lineage_edges
        query = select(e.c.dst).where(e.c.src == artifact_version_id, e.c.kind == "consumed")
        if as_of is not None:
            query = query.where(e.c.position <= as_of)
        with self._connect() as conn:
            return list(conn.scalars(query))
