"""Queries of the artifact catalog and the cache index, as of any position.

Artifact versions come back with the tags they had at the position asked for
and with ``deleted`` as it stood then. A cache lookup reads the executions
recorded under a cache key with their outputs' versions, in one query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, func, or_, select

from lineagelog.domain.errors import ArtifactNotFoundError
from lineagelog.projections import schema as t
from lineagelog.projections.records import ArtifactVersionRecord, CachedExecution, TagRecord
from lineagelog.projections.view_reader import ViewReader, as_utc, tag_held, visible

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["ArtifactQueries"]

# The query of every cache decision, built once: constructing a statement
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


class ArtifactQueries(ViewReader):
    """Artifact versions, names, consumers and cached executions, read from the views."""

    def cached_executions(self, cache_key: str) -> list[CachedExecution]:
        """Succeeded executions with ``cache_key``, newest first, deleted outputs included.

        One query: the cache entry, its step run's run, and its outputs' versions.
        These are candidates only: the runner checks each against the log, which
        also says whether an output was deleted (and so why it is not served).
        """
        with self._connect() as conn:
            rows = conn.execute(_CACHED_EXECUTIONS, {"cache_key": cache_key}).all()
        executions: dict[str, CachedExecution] = {}
        for row in rows:
            execution = executions.setdefault(
                row.step_run_id, CachedExecution(row.step_run_id, row.run_id, {})
            )
            if row.output_name is not None:
                execution.outputs[row.output_name] = self._artifact_record(row, (), None)
        return list(executions.values())

    def last_reused(self, artifact_version_ids: Sequence[str]) -> dict[str, datetime]:
        """When each version was last served by a cache hit (versions never reused are left out).

        The time a hit reusing it succeeded, from the runs view (the rows the
        hit's ``CacheDecided`` wrote); retention policies read it to spare
        versions still in use.
        """
        if not artifact_version_ids:
            return {}
        query = (
            select(_so.c.artifact_version_id, func.max(_sr.c.ended_at).label("at"))
            .join(_sr, _sr.c.id == _so.c.step_run_id)
            .where(
                _so.c.reused.is_(True),
                _so.c.artifact_version_id.in_(list(artifact_version_ids)),
                _sr.c.ended_at.is_not(None),
            )
            .group_by(_so.c.artifact_version_id)
        )
        with self._connect() as conn:
            rows = conn.execute(query).all()
        reused: dict[str, datetime] = {}
        for row in rows:
            at = as_utc(row.at)
            if at is not None:
                reused[row.artifact_version_id] = at
        return reused

    # -- artifacts ---------------------------------------------------------------------

    def _artifact_record(
        self, row: Row[Any], tags: Sequence[str], as_of: int | None
    ) -> ArtifactVersionRecord:
        m = row._asdict()
        deleted = visible(m["deleted_pos"], as_of)
        return ArtifactVersionRecord(
            id=m["id"],
            name=m["name"],
            version=m["version_name"],
            number=m["version"],
            uri=m["uri"],
            materializer=m["materializer"],
            data_type=m["data_type"],
            artifact_type=m["artifact_type"],
            content_hash=m["content_hash"],
            size=m["size"],
            metadata=m["metadata"],
            visualizations=m["visualizations"],
            run_metadata=m["run_metadata"],
            producer_step_run_id=m["producer_step_run_id"],
            output_name=m["output_name"],
            created_at=m["created_at"],
            position=m["position"],
            deleted=deleted,
            tags=tuple(sorted(tags)),
            deleted_at=m["deleted_at"] if deleted else None,
            deleted_reason=m["deleted_reason"] if deleted else None,
        )

    def _tags(self, conn: Any, ids: Sequence[str], as_of: int | None) -> dict[str, list[str]]:
        tg = t.artifact_tags
        where = [tg.c.artifact_version_id.in_(ids), *tag_held(tg, as_of)]
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
        self, name: str, version: str | int | None = None, as_of: int | None = None
    ) -> ArtifactVersionRecord:
        """Version ``version`` of artifact ``name`` (the latest when None).

        ``version`` is a version name (``"1.0"``, ``"3"``) or a number (``3``);
        a version named by its number is found either way.
        """
        av = t.artifact_versions
        query = select(av).where(av.c.name == name)
        if as_of is not None:
            query = query.where(av.c.position <= as_of)
        if version is None:
            query = query.order_by(av.c.version.desc()).limit(1)
        else:
            query = query.where(av.c.version_name == str(version))
        with self._connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                raise self._not_found(conn, name, version, as_of)
            tags = self._tags(conn, [row.id], as_of)
        return self._artifact_record(row, tags.get(row.id, []), as_of)

    def _not_found(
        self, conn: Any, name: str, version: str | int | None, as_of: int | None
    ) -> ArtifactNotFoundError:
        av = t.artifact_versions
        query = select(av.c.version_name).where(av.c.name == name).order_by(av.c.version)
        if as_of is not None:
            query = query.where(av.c.position <= as_of)
        names = list(conn.scalars(query.limit(21)))
        if not names:
            return ArtifactNotFoundError(
                f"no artifact named {name!r}; list the names with `lineagelog artifacts list`"
            )
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        return ArtifactNotFoundError(
            f"artifact {name!r} has no version {str(version)!r}; its versions are {shown} "
            f"(see `lineagelog artifacts list {name}`)"
        )

    def list_artifact_versions(
        self,
        name: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        include_deleted: bool = True,
        as_of: int | None = None,
        offset: int = 0,
    ) -> list[ArtifactVersionRecord]:
        """Artifact versions, by name then version, optionally with a tag.

        ``offset`` skips that many versions of the ordered list in the query
        itself, so a page deep in a large catalog reads only its own rows.
        """
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
        if offset:
            query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        with self._connect() as conn:
            rows = conn.execute(query).all()
            tags = self._tags(conn, [r.id for r in rows], as_of) if rows else {}
        records = [self._artifact_record(r, tags.get(r.id, []), as_of) for r in rows]
        return records if include_deleted else [r for r in records if not r.deleted]

    def latest_artifact_versions(
        self, name: str | None = None, as_of: int | None = None
    ) -> list[ArtifactVersionRecord]:
        """The version of each artifact name registered last, in name order (one query).

        "Last" is by log position, so it holds whatever versions are called.
        """
        av = t.artifact_versions
        where: list[ColumnElement[bool]] = []
        if name is not None:
            where.append(av.c.name == name)
        if as_of is not None:
            where.append(av.c.position <= as_of)
        latest = (
            select(func.max(av.c.position).label("position"))
            .where(*where)
            .group_by(av.c.name)
            .subquery()
        )
        query = select(av).join(latest, av.c.position == latest.c.position).order_by(av.c.name)
        with self._connect() as conn:
            rows = conn.execute(query).all()
            tags = self._tags(conn, [r.id for r in rows], as_of) if rows else {}
        return [self._artifact_record(r, tags.get(r.id, []), as_of) for r in rows]

    def artifact_names(
        self, as_of: int | None = None, limit: int | None = None, offset: int = 0
    ) -> list[tuple[str, int, int]]:
        """Each artifact name with its number of versions and latest version, by name.

        ``limit`` and ``offset`` page through the names in the query itself.
        """
        av = t.artifact_versions
        query = (
            select(av.c.name, func.count(), func.max(av.c.version))
            .group_by(av.c.name)
            .order_by(av.c.name)
        )
        if as_of is not None:
            query = query.where(av.c.position <= as_of)
        if offset:
            query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
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

    def list_tags(self, as_of: int | None = None) -> list[TagRecord]:
        """Every tag used or created so far (as of ``as_of``), by name."""
        tg = t.tags
        query = select(tg).order_by(tg.c.name)
        if as_of is not None:
            query = query.where(tg.c.position <= as_of)
        with self._connect() as conn:
            return [
                TagRecord(
                    name=row.name,
                    exclusive=bool(row.exclusive),
                    created_at=as_utc(row.created_at),  # type: ignore[arg-type]
                    position=row.position,
                )
                for row in conn.execute(query)
            ]
