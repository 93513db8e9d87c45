"""Lineage queries: the graph upstream and downstream of a node, as of any position.

``LineageQueries.lineage`` checks its arguments, runs the walk of
``lineagelog.projections.lineage_walk`` (two statements, whatever the size of
the answer) and turns the rows into a ``LineageGraph``, with each node's
attributes as they stood at the position asked for. ``resolve_node`` turns
what a user typed (an id, ``name:version`` or ``name``) into a node id,
through ``projections.references``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from lineagelog.domain.errors import (
    InvalidLineageQueryError,
    LineageNodeNotFoundError,
    StorageError,
)
from lineagelog.projections import schema as t
from lineagelog.projections.graph import check_depth
from lineagelog.projections.lineage import LineageEdge, LineageGraph, LineageNode
from lineagelog.projections.lineage_walk import hops_from_root, walk_statements
from lineagelog.projections.queries import ViewQueries
from lineagelog.projections.references import References
from lineagelog.projections.run_status import reported_run_status
from lineagelog.projections.view_reader import visible

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, Row


__all__ = ["DIRECTIONS", "Direction", "LineageQueries", "resolve_node"]

Direction = Literal["upstream", "downstream", "both"]
DIRECTIONS: tuple[str, ...] = ("upstream", "downstream", "both")
_FIND_IDS = (
    "node ids are artifact version ids, step run ids and run ids: find them with "
    "`lineagelog artifacts list`, `lineagelog runs list` and `lineagelog runs show RUN`, "
    "or name an artifact as 'name:version' or 'name'"
)


class LineageQueries:
    """Lineage graphs read from the lineage view (and the runs and catalog views)."""

    def __init__(self, engine: Engine) -> None:
        """Query the views reached through ``engine``."""
        self.engine = engine

    def lineage(
        self,
        node_id: str | UUID,
        direction: Direction = "upstream",
        depth: int | None = None,
        as_of: int | None = None,
    ) -> LineageGraph:
        """Return the lineage of a node: what it came from, what came of it, or both.

        ``node_id`` is an artifact version id, a step run id or a run id (turn a
        ``name:version`` into an id with ``resolve_node``). ``depth`` limits the
        hops from the root (None: no limit); ``as_of`` reads the graph as it
        stood at that log position (None: now). Two queries, whatever the size.

        Raises:
            LineageNodeNotFoundError: no such node (as of ``as_of``).
            InvalidLineageQueryError: a bad ``direction``, ``depth`` or ``as_of``.
            StorageError: the database failed.

        """
        root = str(node_id)
        direction = _check_direction(direction)
        depth = check_depth(depth)
        as_of = _check_as_of(as_of)
        nodes_query, edges_query = walk_statements(direction, depth is not None, as_of is not None)
        params = {"root": root, "depth": depth, "as_of": as_of}
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(nodes_query, params).all()
                if not any(row.id == root for row in rows):
                    raise self._not_found(conn, root, as_of)
                edge_rows = conn.execute(edges_query, params).all()
        except SQLAlchemyError as e:
            raise StorageError(f"could not read the lineage of {root!r}: {e}") from e
        edges = sorted(
            (LineageEdge(r.src, r.dst, r.kind, r.position, _utc(r.created_at)) for r in edge_rows),
            key=lambda e: (e.position, e.src, e.dst, e.kind),
        )
        hops = hops_from_root(root, rows, edges, direction)
        nodes = {
            row.id: LineageNode(
                id=row.id,
                kind=row.kind,
                label=row.label,
                attributes=_attributes(row, as_of),
                position=row.position,
                created_at=_utc(row.created_at),
                depth=hops.get(row.id),
            )
            for row in rows
        }
        resolve = References(ViewQueries(self.engine), as_of).node
        return LineageGraph(root, nodes, edges, as_of, direction, depth, resolve)

    def _not_found(
        self, conn: Connection, root: str, as_of: int | None
    ) -> LineageNodeNotFoundError:
        n = t.lineage_nodes
        created = conn.scalar(select(n.c.position).where(n.c.id == root))
        if created is not None and as_of is not None:
            return LineageNodeNotFoundError(
                f"lineage node {root!r} did not exist yet as of position {as_of}: it was "
                f"recorded at position {created}; ask for as_of >= {created} or for now"
            )
        return LineageNodeNotFoundError(f"no lineage node with id {root!r}; {_FIND_IDS}")


def resolve_node(queries: ViewQueries, node: str | UUID, *, as_of: int | None = None) -> str:
    """Turn what a user typed into a lineage node id (see ``projections.references``).

    Accepts an artifact version, step run or run id (as text or ``UUID``) or a
    unique prefix of one, ``"name:version"``, ``"name"`` for the latest version
    of a name, or a run's name.

    Raises:
        LineageNodeNotFoundError: nothing matches, naming ``node``.
        AmbiguousReferenceError: an id prefix matching several nodes.

    """
    return References(queries, as_of).node(node)


# -- helpers -------------------------------------------------------------------------


def _check_direction(direction: object) -> Direction:
    if direction == "upstream" or direction == "downstream" or direction == "both":
        return direction
    raise InvalidLineageQueryError(
        f"direction {direction!r} is not one of {', '.join(map(repr, DIRECTIONS))}; "
        "'upstream' is what a node came from, 'downstream' what came of it"
    )


def _check_as_of(as_of: object) -> int | None:
    if as_of is None:
        return None
    if isinstance(as_of, bool) or not isinstance(as_of, int) or as_of < 0:
        raise InvalidLineageQueryError(
            f"as_of {as_of!r} is not a log position; use a whole number >= 0, or turn a "
            "moment into one with ViewQueries.position_at(datetime)"
        )
    return as_of


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _attributes(row: Row[Any], as_of: int | None) -> dict[str, Any]:
    if row.kind == "artifact":
        if row.av_name is None:  # the catalog view is behind the lineage view
            return {}
        return {
            "name": row.av_name,
            "version": row.av_version,
            "content_hash": row.av_content_hash,
            "size": row.av_size,
            "data_type": row.av_data_type,
            "artifact_type": row.av_artifact_type,
            "materializer": row.av_materializer,
            "uri": row.av_uri,
            "deleted": visible(row.av_deleted_pos, as_of),
            "created_at": _utc(row.av_created_at),
            "producer_step_run_id": row.av_producer,
        }
    if row.kind in ("dataset", "job"):
        return {"namespace": row.ol_namespace, "name": row.ol_name}
    if row.kind == "openlineage_run":
        return {
            "job_namespace": row.ol_namespace,
            "job_name": row.ol_name,
            "run_id": row.ol_run_id,
            "status": row.ol_status if visible(row.ol_ended_pos, as_of) else "running",
        }
    if row.kind == "step_run":
        decided = visible(row.sr_cache_pos, as_of)
        attributes: dict[str, Any] = {
            "invocation_id": row.sr_invocation_id or row.label,
            "run_id": row.run_id,
            "run_label": None if row.r_pipeline is None else f"{row.r_pipeline} / {row.r_run_name}",
        }
        if row.sr_status is not None:
            attributes.update(
                step_name=row.sr_step_name,
                pipeline=row.sr_pipeline,
                status=row.sr_status if visible(row.sr_ended_pos, as_of) else "running",
                cache_outcome=row.sr_cache_outcome if decided else None,
                original_step_run_id=row.sr_original if decided else None,
                started_at=_utc(row.sr_started_at),
            )
        return attributes
    if row.r_pipeline is None:
        return {}
    return {
        "pipeline": row.r_pipeline,
        "run_name": row.r_run_name,
        "status": reported_run_status(
            row.r_status, ended=visible(row.r_ended_pos, as_of), fully_cached=row.r_fully_cached
        ),
        "started_at": _utc(row.r_started_at),
    }
