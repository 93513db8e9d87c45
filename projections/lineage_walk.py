"""The SQL of a lineage walk: which edges it follows, and the statements that follow them.

The traversal runs in the database as a recursive CTE over ``lineage_edges``
(downstream through the primary key ``(src, dst, kind)``, upstream through
``ix_lineage_edges_dst``), so its cost grows with the answer, not the graph.
Every edge points downstream; one hop is one edge (artifact -> step run).

Which edges a walk follows:

- ``consumed`` (artifact -> step run), ``produced`` (step run -> artifact) and
  ``cached_from`` (original step run -> cache hit) in both directions.
- ``reused`` (cache hit -> the artifact version it served) only downstream,
  and only as a last hop: the walk from a cached step run reaches what it
  served but does not go on to that artifact's other consumers, which can be
  in any run, at any time. Upstream of an artifact are the step runs that
  produced it, never the later cache hits that merely served it again, so an
  upstream answer holds nothing younger than its root.
- ``stored_as`` (artifact -> the OpenLineage dataset its bytes are) and
  ``registered_from`` (dataset -> the artifact registered from it) in both
  directions: they join lineagelog's graph to other tools' (see
  ``projections.openlineage_view``).
- ``contains`` (run -> step run, job -> OpenLineage run) is never walked: from an artifact the walk
  does not go into a run and out to its sibling steps. A step run names its
  run in its attributes (``run_id``, ``run_label``), which is what diagrams
  cluster on. A run as the root stands for its step runs: they are the seeds
  of the walk (at depth 0), so upstream of a run is the union of upstream of
  its steps, and downstream likewise.

The answer holds the nodes reached and every edge among them (visible as of
the position asked for), including ``reused`` and ``contains`` edges.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CTE,
    Integer,
    String,
    bindparam,
    case,
    func,
    literal,
    select,
    union,
    union_all,
)

from lineagelog.projections import schema as t
from lineagelog.projections.run_status import all_steps_cached

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Row, Select

    from lineagelog.projections.lineage import LineageEdge

__all__ = ["hops_from_root", "reached_ids", "walk_statements"]

_UPSTREAM_KINDS = ("consumed", "produced", "cached_from", "stored_as", "registered_from")
_DOWNSTREAM_KINDS = (
    "consumed",
    "produced",
    "cached_from",
    "stored_as",
    "registered_from",
    "reused",
)
_LAST_HOP_KINDS = ("reused",)


@functools.cache
def walk_statements(direction: str, limited: bool, dated: bool) -> tuple[Select[Any], Select[Any]]:
    """Return the node and edge queries of one walk's shape, built once per shape.

    ``direction`` is ``"upstream"``, ``"downstream"`` or ``"both"``; ``limited``
    adds a hop limit and ``dated`` an ``as_of`` filter. The statements take the
    bound parameters ``root``, ``depth`` and ``as_of``. The node query joins the
    runs and catalog views for the nodes' attributes.
    """
    ways = ("upstream", "downstream") if direction == "both" else (direction,)
    ids = [select(_walk(way, limited, dated).c.id) for way in ways]
    reached = (union(*ids) if len(ids) > 1 else ids[0].distinct()).cte("reached")
    return _nodes_query(reached, dated), _edges_query(reached, direction, dated)


def _walk(direction: str, limited: bool, dated: bool, roots: tuple[str, ...] = ("root",)) -> CTE:
    e = t.lineage_edges
    visible = [e.c.position <= bindparam("as_of", type_=Integer)] if dated else []
    params = [bindparam(name, type_=String) for name in roots]
    zero = literal(0, Integer)
    # The seeds: the roots and, when a root is a run, its step runs.
    hops = [zero.label("hops")] if limited else []
    seed_rows = [select(root.label("id"), zero.label("stop"), *hops) for root in params]
    of_root = e.c.src == params[0] if len(params) == 1 else e.c.src.in_(params)
    step_cols: list[ColumnElement[Any]] = [e.c.dst.label("id"), zero.label("stop"), *hops]
    seeds = union_all(
        *seed_rows,
        select(*step_cols).where(of_root, e.c.kind == "contains", *visible),
    ).subquery(f"{direction}_seeds")
    walk = select(*seeds.c).cte(f"{direction}_walk", recursive=True)
    if direction == "upstream":
        step = select(e.c.src, zero).select_from(walk.join(e, e.c.dst == walk.c.id))
        step = step.where(e.c.kind.in_(_UPSTREAM_KINDS))
    else:
        stop = case((e.c.kind.in_(_LAST_HOP_KINDS), 1), else_=0)
        step = select(e.c.dst, stop).select_from(walk.join(e, e.c.src == walk.c.id))
        step = step.where(e.c.kind.in_(_DOWNSTREAM_KINDS), walk.c.stop == 0)
    step = step.where(*visible)
    if limited:
        step = step.add_columns(walk.c.hops + 1).where(
            walk.c.hops < bindparam("depth", type_=Integer)
        )
    return walk.union(step)


def _nodes_query(reached: CTE, dated: bool) -> Select[Any]:
    n, av, sr, r = t.lineage_nodes, t.artifact_versions, t.step_runs, t.runs
    ol, tl = t.openlineage_nodes, t.timeline
    query = select(
        n,
        tl.c.timestamp.label("created_at"),  # the moment of the event at the node's position
        av.c.name.label("av_name"),
        av.c.version_name.label("av_version"),
        av.c.content_hash.label("av_content_hash"),
        av.c.size.label("av_size"),
        av.c.data_type.label("av_data_type"),
        av.c.artifact_type.label("av_artifact_type"),
        av.c.materializer.label("av_materializer"),
        av.c.uri.label("av_uri"),
        av.c.deleted_pos.label("av_deleted_pos"),
        av.c.created_at.label("av_created_at"),
        av.c.producer_step_run_id.label("av_producer"),
        sr.c.invocation_id.label("sr_invocation_id"),
        sr.c.step_name.label("sr_step_name"),
        sr.c.pipeline.label("sr_pipeline"),
        sr.c.status.label("sr_status"),
        sr.c.ended_pos.label("sr_ended_pos"),
        sr.c.cache_outcome.label("sr_cache_outcome"),
        sr.c.original_step_run_id.label("sr_original"),
        sr.c.cache_pos.label("sr_cache_pos"),
        sr.c.started_at.label("sr_started_at"),
        r.c.pipeline.label("r_pipeline"),
        r.c.run_name.label("r_run_name"),
        r.c.status.label("r_status"),
        r.c.ended_pos.label("r_ended_pos"),
        # Only a run's own row needs it: a step row would scan its run's steps for nothing.
        case((n.c.kind == "run", all_steps_cached(r.c.id)), else_=False).label("r_fully_cached"),
        r.c.started_at.label("r_started_at"),
        ol.c.namespace.label("ol_namespace"),
        ol.c.name.label("ol_name"),
        ol.c.run_id.label("ol_run_id"),
        ol.c.status.label("ol_status"),
        ol.c.ended_pos.label("ol_ended_pos"),
    ).select_from(
        reached.join(n, n.c.id == reached.c.id)
        .outerjoin(av, av.c.id == n.c.id)
        .outerjoin(sr, sr.c.id == n.c.id)
        .outerjoin(r, r.c.id == n.c.run_id)  # a run's run_id is its own id
        .outerjoin(ol, ol.c.id == n.c.id)
        .outerjoin(tl, tl.c.position == n.c.position)
    )
    if dated:
        query = query.where(n.c.position <= bindparam("as_of", type_=Integer))
    return query


def _edges_query(reached: CTE, direction: str, dated: bool) -> Select[Any]:
    e = t.lineage_edges
    # Join on the side the walk came along, so the edges read are the ones walked.
    near, far = (e.c.src, e.c.dst) if direction == "downstream" else (e.c.dst, e.c.src)
    # coalesce(far, far) is far, but not an indexed column: given the bare column, SQLite
    # probes the primary key (src, dst) once per reached node *per member of the list*,
    # quadratic in the answer (12 s for a hub's 6,700 nodes, 0.06 s this way).
    tl = t.timeline
    query = (
        select(e.c.src, e.c.dst, e.c.kind, e.c.position, tl.c.timestamp.label("created_at"))
        .select_from(
            reached.join(e, near == reached.c.id).outerjoin(tl, tl.c.position == e.c.position)
        )
        .where(func.coalesce(far, far).in_(select(reached.c.id)))
    )
    if dated:
        query = query.where(e.c.position <= bindparam("as_of", type_=Integer))
    return query


def hops_from_root(
    root: str, rows: Iterable[Row[Any]], edges: Iterable[LineageEdge], direction: str
) -> dict[str, int]:
    """Return each node's fewest hops from the root, walking the edges the query walked."""
    seeds = {root}
    by_node: dict[str, list[tuple[str, str]]] = {}
    up: dict[str, list[tuple[str, str]]] = {}
    for edge in edges:
        if edge.kind == "contains" and edge.src == root:
            seeds.add(edge.dst)
        by_node.setdefault(edge.src, []).append((edge.dst, edge.kind))
        up.setdefault(edge.dst, []).append((edge.src, edge.kind))
    result: dict[str, int] = {}
    ways = [("upstream", up), ("downstream", by_node)]
    for way, neighbours in ways:
        if direction not in (way, "both"):
            continue
        kinds = _UPSTREAM_KINDS if way == "upstream" else _DOWNSTREAM_KINDS
        seen = dict.fromkeys(seeds, 0)
        queue = deque(seeds)
        while queue:
            node = queue.popleft()
            for other, kind in neighbours.get(node, ()):
                if kind in kinds and other not in seen:
                    seen[other] = seen[node] + 1
                    if kind not in _LAST_HOP_KINDS:
                        queue.append(other)
        for node, hops in seen.items():
            result[node] = min(hops, result.get(node, hops))
    known = {row.id for row in rows}
    return {node: hops for node, hops in result.items() if node in known}


@functools.cache
def reached_ids(direction: str, dated: bool, roots: tuple[str, ...] = ("root",)) -> CTE:
    """The ids of every node a walk from the roots reaches, as a CTE with one column, ``id``.

    The roots are bound parameters named by ``roots`` (a comparison walks upstream
    of two versions at once: a node upstream of both is read once); ``as_of`` is
    bound too when ``dated``. For callers that join the nodes' rows themselves.
    """
    return select(_walk(direction, False, dated, roots).c.id).distinct().cte("reached_ids")
