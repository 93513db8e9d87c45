"""What the artifact lifecycle (prune, gc) reads from the views, in a few queries."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import select

from lineagelog.domain.lifecycle import VersionFacts
from lineagelog.projections import schema as t

if TYPE_CHECKING:
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
        query = select(av.c.id, av.c.name, av.c.version, av.c.deleted_pos)
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

    def stored_uris(self) -> tuple[set[str], dict[str, str]]:
        """URIs of live versions, and URI -> ``name:version`` of deleted ones."""
        av = t.artifact_versions
        live: set[str] = set()
        deleted: dict[str, str] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(select(av.c.uri, av.c.name, av.c.version, av.c.deleted_pos)):
                if row.deleted_pos is None:
                    live.add(row.uri)
                else:
                    deleted[row.uri] = f"{row.name}:{row.version}"
        return live, deleted
