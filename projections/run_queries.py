"""Queries of the runs view: pipeline runs and their step runs, as of any position.

A run is read with its step runs and their outputs in two queries, whatever
the number of steps. Step runs also answer the cache's question of which
ingredients the latest earlier execution of a step had, to explain a miss.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, case, func, not_, or_, select

from lineagelog.domain.errors import RunNotFoundError, StepRunNotFoundError
from lineagelog.projections import schema as t
from lineagelog.projections.records import (
    AttemptRecord,
    PipelineRecord,
    RunRecord,
    StepRunRecord,
)
from lineagelog.projections.run_status import all_steps_cached, reported_run_status
from lineagelog.projections.view_reader import ViewReader, as_utc, tag_held, visible

__all__ = ["RunQueries"]

# Built once, like every statement a cache decision runs: constructing a
# statement costs more than running it on a warm SQLite file.
_sr = t.step_runs
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


_ALL_STEPS_CACHED = all_steps_cached(t.runs.c.id)
_FULLY_CACHED = _ALL_STEPS_CACHED.label("fully_cached")


def _status_is(status: str) -> ColumnElement[bool]:
    """Runs whose reported status is ``status``: ``cached`` is a completed run of cached steps."""
    r = t.runs
    if status == "cached":
        return and_(r.c.status == "completed", _ALL_STEPS_CACHED)
    if status == "completed":
        return and_(r.c.status == "completed", not_(_ALL_STEPS_CACHED))
    return r.c.status == status


_PLACE = (
    t.step_places.c.executor.label("place_executor"),
    t.step_places.c.worker.label("place_worker"),
)
"""Where a step run's body runs (``StepStarted``), read beside its row."""


def _placed(query: Select[Any]) -> Select[Any]:
    """``query`` of step runs, joined to where each runs (none for older step runs)."""
    return query.outerjoin(t.step_places, t.step_places.c.step_run_id == t.step_runs.c.id)


class RunQueries(ViewReader):
    """Runs and step runs read from the runs view.

    A completed run whose every step was served from the cache reports the
    status ``cached``, as in ZenML; it is derived when read, so the log and the
    views hold ``completed`` for it.
    """

    def _reported_status(self, row: Row[Any], ended: bool) -> str:
        fully_cached = bool(getattr(row, "fully_cached", False))
        return reported_run_status(str(row.status), ended=ended, fully_cached=fully_cached)

    def _run_tags(
        self, conn: Any, run_ids: Sequence[str], as_of: int | None
    ) -> dict[str, list[str]]:
        """The tags each of ``run_ids`` had as of ``as_of``."""
        rt = t.run_tags
        tags: dict[str, list[str]] = defaultdict(list)
        query = select(rt.c.run_id, rt.c.tag).where(rt.c.run_id.in_(run_ids), *tag_held(rt, as_of))
        for row in conn.execute(query):
            tags[row.run_id].append(row.tag)
        return tags

    def _run_record(
        self,
        row: Row[Any],
        as_of: int | None,
        steps: dict[str, StepRunRecord],
        tags: Sequence[str] = (),
    ) -> RunRecord:
        ended = visible(row.ended_pos, as_of)
        return RunRecord(
            id=row.id,
            pipeline=row.pipeline,
            run_name=row.run_name,
            status=self._reported_status(row, ended),
            parameters=row.parameters,
            dag=row.dag,
            environment=row.environment,
            started_at=as_utc(row.started_at),  # type: ignore[arg-type]
            ended_at=as_utc(row.ended_at) if ended else None,
            failed_step=row.failed_step if ended else None,
            error=row.error if ended else None,
            started_pos=row.started_pos,
            steps=steps,
            tags=tuple(sorted(tags)),
        )

    def _step_record(
        self,
        row: Row[Any],
        outputs: dict[str, str],
        as_of: int | None,
        with_ingredients: bool = False,
        attempts: tuple[AttemptRecord, ...] = (),
    ) -> StepRunRecord:
        m = row._asdict()  # one dict instead of ~25 attribute lookups on the Row
        decided = visible(m["cache_pos"], as_of)
        ended = visible(m["ended_pos"], as_of)
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
            attempts=attempts,
            executor=m.get("place_executor"),
            started_worker=m.get("place_worker"),
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
        step_rows = conn.execute(
            _placed(select(*columns, *_PLACE)).where(*where).order_by(sr.c.started_pos)
        ).all()
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
        attempts = self._attempts_of(conn, run_ids, as_of) if step_rows else {}
        by_run: dict[str, list[StepRunRecord]] = defaultdict(list)
        for row in step_rows:
            by_run[row.run_id].append(
                self._step_record(
                    row, outputs[row.id], as_of, with_ingredients, tuple(attempts.get(row.id, ()))
                )
            )
        return by_run

    def _attempts_of(
        self, conn: Any, run_ids: Sequence[str], as_of: int | None
    ) -> dict[str, list[AttemptRecord]]:
        """The attempts of the step runs of ``run_ids`` on an executor's workers, in order."""
        sr, sa = t.step_runs, t.step_attempts
        query = (
            select(sa)
            .join(sr, sr.c.id == sa.c.step_run_id)
            .where(sr.c.run_id.in_(run_ids))
            .order_by(sa.c.step_run_id, sa.c.attempt)
        )
        if as_of is not None:
            query = query.where(sa.c.position <= as_of)
        found: dict[str, list[AttemptRecord]] = defaultdict(list)
        for row in conn.execute(query):
            found[row.step_run_id].append(
                AttemptRecord(
                    row.attempt, row.worker, row.executor, as_utc(row.started_at) or row.started_at
                )
            )
        return found

    def get_run(
        self, run_id: str, as_of: int | None = None, with_ingredients: bool = False
    ) -> RunRecord:
        """One run with its steps (two queries, whatever the number of steps).

        ``with_ingredients`` also reads each step's cache ingredients.
        """
        with self._connect() as conn:
            row = conn.execute(select(t.runs, _FULLY_CACHED).where(t.runs.c.id == run_id)).first()
            if row is None or not visible(row.started_pos, as_of):
                raise RunNotFoundError(
                    f"no pipeline run with id {run_id!r}"
                    + (f" as of position {as_of}" if as_of is not None else "")
                    + "; list runs with `lineagelog runs list`"
                )
            steps = self._steps_of(conn, [run_id], as_of, with_ingredients)[run_id]
            tags = self._run_tags(conn, [run_id], as_of)[run_id]
        return self._run_record(row, as_of, {s.name: s for s in steps}, tags)

    def list_runs(
        self,
        pipeline: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        as_of: int | None = None,
        with_steps: bool = True,
        tag: str | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, filtered by pipeline name, status and a tag they had."""
        r, rt = t.runs, t.run_tags
        query = select(r, _FULLY_CACHED).order_by(r.c.started_pos.desc())
        if pipeline is not None:
            query = query.where(r.c.pipeline == pipeline)
        if tag is not None:
            tagged = select(rt.c.run_id).where(rt.c.tag == tag, *tag_held(rt, as_of))
            query = query.where(r.c.id.in_(tagged))
        if as_of is not None:
            query = query.where(r.c.started_pos <= as_of)
            if status is not None:
                ended = and_(r.c.ended_pos.is_not(None), r.c.ended_pos <= as_of)
                query = query.where(
                    and_(ended, _status_is(status))
                    if status != "running"
                    else or_(r.c.ended_pos.is_(None), r.c.ended_pos > as_of)
                )
        elif status is not None:
            query = query.where(_status_is(status))
        if offset:
            query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            rows = conn.execute(query).all()
            ids = [row.id for row in rows]
            steps = self._steps_of(conn, ids, as_of) if with_steps and rows else {}
            tags = self._run_tags(conn, ids, as_of) if rows else {}
        return [
            self._run_record(
                row, as_of, {s.name: s for s in steps.get(row.id, [])}, tags.get(row.id, [])
            )
            for row in rows
        ]

    def list_pipelines(
        self, name: str | None = None, as_of: int | None = None
    ) -> list[PipelineRecord]:
        """Pipelines with at least one run, by their first run (oldest first).

        Pipelines are not recorded apart from their runs: each is the group of
        runs under one pipeline name, read in one query with its newest run.
        """
        r = t.runs
        where: list[ColumnElement[bool]] = []
        if name is not None:
            where.append(r.c.pipeline == name)
        if as_of is not None:
            where.append(r.c.started_pos <= as_of)
        ended = r.c.ended_at if as_of is None else case((r.c.ended_pos <= as_of, r.c.ended_at))
        groups = (
            select(
                func.count().label("num_runs"),
                func.min(r.c.started_at).label("created"),
                func.max(r.c.started_at).label("last_started"),
                func.max(ended).label("last_ended"),
                func.max(r.c.started_pos).label("latest_pos"),
            )
            .where(*where)
            .group_by(r.c.pipeline)
            .subquery()
        )
        query = (
            select(groups, r.c.id, r.c.pipeline, r.c.status, r.c.ended_pos, _FULLY_CACHED)
            .join(r, r.c.started_pos == groups.c.latest_pos)
            .order_by(groups.c.created, r.c.pipeline)
        )
        with self._connect() as conn:
            rows = conn.execute(query).all()
        records = []
        for row in rows:
            created = as_utc(row.created)
            updated = max(filter(None, [as_utc(row.last_started), as_utc(row.last_ended)]))
            records.append(
                PipelineRecord(
                    name=row.pipeline,
                    num_runs=int(row.num_runs),
                    created=created,  # type: ignore[arg-type]  # a run always has a start
                    updated=updated,
                    latest_run_id=row.id,
                    latest_run_status=self._reported_status(row, visible(row.ended_pos, as_of)),
                )
            )
        return records

    def run_dags(self, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The recorded DAG spec of each run in ``run_ids`` (a run's DAG never changes)."""
        if not run_ids:
            return {}
        with self._connect() as conn:
            rows = conn.execute(select(t.runs.c.id, t.runs.c.dag).where(t.runs.c.id.in_(run_ids)))
            return {row.id: row.dag for row in rows}

    def get_step_run(self, step_run_id: str, as_of: int | None = None) -> StepRunRecord:
        """One step run by id."""
        with self._connect() as conn:
            row = conn.execute(select(t.step_runs).where(t.step_runs.c.id == step_run_id)).first()
            if row is None or not visible(row.started_pos, as_of):
                raise StepRunNotFoundError(
                    f"no step run with id {step_run_id!r}; see the step ids with "
                    "`lineagelog runs show RUN`"
                )
            steps = self._steps_of(conn, [row.run_id], as_of, with_ingredients=True)[row.run_id]
        return next(s for s in steps if s.id == step_run_id)

    def step_runs_by_id(
        self, ids: Sequence[str], as_of: int | None = None
    ) -> dict[str, StepRunRecord]:
        """Step runs by id, with their ingredients and outputs (ids not seen are left out)."""
        sr, so = t.step_runs, t.step_outputs
        where: list[ColumnElement[bool]] = [sr.c.id.in_(list(ids))]
        out_where: list[ColumnElement[bool]] = [so.c.step_run_id.in_(list(ids))]
        if as_of is not None:
            where.append(sr.c.started_pos <= as_of)
            out_where.append(so.c.position <= as_of)
        outputs: dict[str, dict[str, str]] = defaultdict(dict)
        with self._connect() as conn:
            rows = conn.execute(_placed(select(sr, *_PLACE)).where(*where)).all()
            query = select(so.c.step_run_id, so.c.output_name, so.c.artifact_version_id)
            for out in conn.execute(query.where(*out_where)):
                outputs[out.step_run_id][out.output_name] = out.artifact_version_id
        return {row.id: self._step_record(row, outputs[row.id], as_of, True) for row in rows}

    def code_sources(
        self, code_hashes: Sequence[str], as_of: int | None = None
    ) -> dict[str, str | None]:
        """The recorded source of each code hash (None: unreadable; absent: never recorded)."""
        sc = t.step_code
        query = select(sc.c.code_hash, sc.c.source).where(sc.c.code_hash.in_(list(code_hashes)))
        if as_of is not None:
            query = query.where(sc.c.position <= as_of)
        with self._connect() as conn:
            return {row.code_hash: row.source for row in conn.execute(query)}

    def list_step_runs(
        self,
        cache_key: str | None = None,
        status: str | None = None,
        pipeline: str | None = None,
        invocation_id: str | None = None,
        limit: int | None = None,
        as_of: int | None = None,
        cache_outcome: str | None = None,
    ) -> list[StepRunRecord]:
        """Step runs, newest first, filtered by key, status, pipeline, invocation or outcome."""
        sr = t.step_runs
        query = select(sr.c.id, sr.c.run_id).order_by(sr.c.started_pos.desc())
        if cache_key is not None:
            query = query.where(sr.c.cache_key == cache_key)
        if pipeline is not None:
            query = query.where(sr.c.pipeline == pipeline)
        if invocation_id is not None:
            query = query.where(sr.c.invocation_id == invocation_id)
        if cache_outcome is not None:
            query = query.where(sr.c.cache_outcome == cache_outcome)
            if as_of is not None:
                query = query.where(sr.c.cache_pos <= as_of)
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
