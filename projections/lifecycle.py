"""What the artifact lifecycle (prune, gc) reads from the views, in a few queries."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import or_, select

from lineagelog.domain.lifecycle import VersionFacts, VersionUse
from lineagelog.projections import schema as t

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

    from sqlalchemy import Engine

__all__ = ["LifecycleQueries"]


class LifecycleQueries:
    """Queries over the catalog and lineage views for retention decisions."""

    def __init__(self, engine: Engine) -> None:
        """Query the views reached through ``engine``."""
        self.engine = engine

    def version_facts(self, name: str | None = None) -> list[VersionFacts]:
        """Every version (of ``name``, or of all names) with its current tags."""
        av, tg = t.artifact_versions, t.artifact_tags
        query = select(av.c.id, av.c.name, av.c.version, av.c.version_name, av.c.deleted_pos)
        if name is not None:
            query = query.where(av.c.name == name)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            tags: dict[str, list[str]] = defaultdict(list)
            for row in conn.execute(
                select(tg.c.artifact_version_id, tg.c.tag).where(tg.c.removed_pos.is_(None))
            ):
                tags[row.artifact_version_id].append(row.tag)
        return [
            VersionFacts(
                id=r.id,
                name=r.name,
                version=r.version,
                version_name=r.version_name,
                tags=tuple(sorted(tags.get(r.id, []))),
                deleted=r.deleted_pos is not None,
            )
            for r in rows
        ]

    def derivations(self) -> dict[str, set[str]]:
        """Artifact version id -> the ids of the versions its producing step run consumed."""
        produced = t.lineage_edges.alias("produced")
        consumed = t.lineage_edges.alias("consumed")
        query = (
            select(produced.c.dst, consumed.c.src)
            .join(consumed, consumed.c.dst == produced.c.src)
            .where(produced.c.kind == "produced", consumed.c.kind == "consumed")
        )
        derived: dict[str, set[str]] = defaultdict(set)
        with self.engine.connect() as conn:
            for artifact, source in conn.execute(query):
                derived[artifact].add(source)
        return dict(derived)

    def version_uses(
        self, since: datetime, version_ids: Collection[str] | None = None
    ) -> list[VersionUse]:
        """Uses of versions that may keep them in use, from the lineage and runs views.

        Cache reuses (``reused`` edges, timed by their ``CacheDecided``) that
        happened at ``since`` or later, or in a run still running; and
        consumptions (``consumed`` edges, timed by their ``StepStarted``) in a
        run still running. With ``version_ids``, only the uses of those versions.
        """
        e, sr, r, tl = t.lineage_edges, t.step_runs, t.runs, t.timeline
        created_at = tl.c.timestamp  # the moment of the event at the edge's position
        running = r.c.ended_pos.is_(None)
        shapes: tuple[tuple[Literal["reused", "consumed"], Any, Any, Any], ...] = (
            # (kind, the edge end that is the version, the end that is the step run, filter)
            ("reused", e.c.dst, e.c.src, or_(running, created_at >= since)),
            ("consumed", e.c.src, e.c.dst, running),
        )
        uses = []
        with self.engine.connect() as conn:
            for kind, version_end, step_end, condition in shapes:
                query = (
                    select(version_end, created_at, sr.c.invocation_id, r.c.run_name, running)
                    .select_from(e)
                    .join(tl, tl.c.position == e.c.position)
                    .join(sr, sr.c.id == step_end)
                    .join(r, r.c.id == sr.c.run_id)
                    .where(e.c.kind == kind, condition)
                )
                if version_ids is not None:
                    query = query.where(version_end.in_(list(version_ids)))
                uses += [
                    VersionUse(row[0], kind, row[2], row[3], row[1], bool(row[4]))
                    for row in conn.execute(query)
                ]
        return uses

    def stored_uris(self) -> tuple[set[str], dict[str, str]]:
        """URIs of live versions, and URI -> ``name:version`` of deleted ones."""
        av = t.artifact_versions
        live: set[str] = set()
        deleted: dict[str, str] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(
                select(av.c.uri, av.c.name, av.c.version_name, av.c.deleted_pos)
            ):
                if row.deleted_pos is None:
                    live.add(row.uri)
                else:
                    deleted[row.uri] = f"{row.name}:{row.version_name}"
        return live, deleted
