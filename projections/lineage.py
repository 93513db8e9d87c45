"""Lineage queries: the graph upstream and downstream of a node, as of any position.

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
- ``contains`` (run -> step run) is never walked: from an artifact the walk
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
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import networkx as nx
from sqlalchemy import CTE, Integer, String, bindparam, case, literal, select, union, union_all
from sqlalchemy.exc import SQLAlchemyError

from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    InvalidLineageQueryError,
    LineageNodeNotFoundError,
    StorageError,
)
from lineagelog.projections import graph
from lineagelog.projections import schema as t
from lineagelog.projections.graph import check_depth

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Connection, Engine, Row, Select

    from lineagelog.projections.queries import ViewQueries

__all__ = [
    "DIRECTIONS",
    "Direction",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "LineageQueries",
    "resolve_node",
]

Direction = Literal["upstream", "downstream", "both"]
DIRECTIONS: tuple[str, ...] = ("upstream", "downstream", "both")

_UPSTREAM_KINDS = ("consumed", "produced", "cached_from")
_DOWNSTREAM_KINDS = ("consumed", "produced", "cached_from", "reused")
_LAST_HOP_KINDS = ("reused",)
_VERSIONED = re.compile(r"^(?P<name>.+):(?P<version>[0-9]+)$")
_FIND_IDS = (
    "node ids are artifact version ids, step run ids and run ids: find them with "
    "`lineagelog artifacts list`, `lineagelog runs list` and `lineagelog runs show RUN`, "
    "or name an artifact as 'name:version' or 'name'"
)


@dataclass(frozen=True)
class LineageNode:
    """A node of a lineage graph: an artifact version, a step run or a run.

    ``attributes`` hold, for artifacts: name, version, content_hash, size,
    data_type, artifact_type, materializer, uri, deleted, created_at and
    producer_step_run_id; for step runs: invocation_id, step_name, pipeline,
    status, cache_outcome, original_step_run_id, run_id, run_label and
    started_at; for runs: pipeline, run_name, status and started_at. Statuses
    are as of the graph's ``as_of``. ``depth`` is the fewest hops from the root.
    """

    id: str
    kind: str
    label: str
    attributes: dict[str, Any]
    position: int
    created_at: datetime
    depth: int | None = None


@dataclass(frozen=True)
class LineageEdge:
    """An edge of a lineage graph; ``src`` is upstream of ``dst``."""

    src: str
    dst: str
    kind: str
    position: int
    created_at: datetime


@dataclass(frozen=True)
class LineageGraph:
    """The lineage around ``root``, as the log stood at position ``as_of`` (None: now)."""

    root: str
    nodes: dict[str, LineageNode]
    edges: list[LineageEdge]
    as_of: int | None = None
    direction: str = "upstream"
    depth: int | None = None

    def to_networkx(self) -> nx.DiGraph:
        """Return a new ``DiGraph``: node attributes kind/label/attributes, edge attribute kind."""
        g = nx.DiGraph(root=self.root, as_of=self.as_of)
        for node in self.nodes.values():
            g.add_node(node.id, kind=node.kind, label=node.label, attributes=node.attributes)
        for edge in self.edges:
            g.add_edge(edge.src, edge.dst, kind=edge.kind)
        return g

    @cached_property
    def _graph(self) -> nx.DiGraph:
        return self.to_networkx()

    def ancestors_of(self, node: str, depth: int | None = None) -> set[str]:
        """Return the nodes of this graph upstream of ``node`` (see ``graph.ancestors_of``)."""
        return graph.ancestors_of(self._graph, node, depth)

    def descendants_of(self, node: str, depth: int | None = None) -> set[str]:
        """Return the nodes of this graph downstream of ``node`` (see ``graph.descendants_of``)."""
        return graph.descendants_of(self._graph, node, depth)

    def path(self, a: str, b: str) -> list[str]:
        """Return a shortest directed path between two nodes, upstream end first.

        Raises:
            LineageNodeNotFoundError: ``a`` or ``b`` is not in this graph.
            NoLineagePathError: neither is upstream of the other here.

        """
        return graph.lineage_path(self._graph, a, b)

    def to_dot(self, *, collapse: bool = False) -> str:
        """Render the graph as Graphviz DOT text, step runs clustered by run.

        ``collapse`` merges repeated invocations of a step in a run (see
        ``graph.collapse_invocations``). The text is plain DOT; rendering it
        needs the ``dot`` program, or the Graphviz adapter.
        """
        g = graph.collapse_invocations(self._graph) if collapse else self._graph
        return _dot(self, g)

    def to_dict(self) -> dict[str, Any]:
        """Return the graph as JSON-able data (datetimes as ISO 8601 text)."""
        return {
            "root": self.root,
            "as_of": self.as_of,
            "direction": self.direction,
            "depth": self.depth,
            "nodes": [
                {
                    "id": n.id,
                    "kind": n.kind,
                    "label": n.label,
                    "attributes": _jsonable(n.attributes),
                    "position": n.position,
                    "created_at": n.created_at.isoformat(),
                    "depth": n.depth,
                }
                for n in _ordered_nodes(self.nodes.values())
            ],
            "edges": [
                {
                    "src": e.src,
                    "dst": e.dst,
                    "kind": e.kind,
                    "position": e.position,
                    "created_at": e.created_at.isoformat(),
                }
                for e in self.edges
            ],
        }


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
        nodes_query, edges_query = _statements(direction, depth is not None, as_of is not None)
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
        hops = _hops(root, rows, edges, direction)
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
        return LineageGraph(root, nodes, edges, as_of, direction, depth)

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
    """Turn what a user typed into a lineage node id.

    Accepts an artifact version id, a step run id or a run id (as text or
    ``UUID``), ``"name:version"``, or ``"name"`` for the latest version of a
    name. Names may themselves hold ``:`` (``training::load::output``), so only
    a trailing ``:<digits>`` is a version; when ``"name:7"`` has no version 7,
    the whole text is tried as a name before giving up.

    Raises:
        LineageNodeNotFoundError: nothing matches, naming ``node``.

    """
    text = str(node).strip()
    try:
        candidate: str | None = str(UUID(text))
    except ValueError:
        candidate = None
    if candidate is not None:
        n = t.lineage_nodes
        query = select(n.c.id).where(n.c.id == candidate)
        if as_of is not None:
            query = query.where(n.c.position <= as_of)
        with queries.engine.connect() as conn:
            if conn.scalar(query) is not None:
                return candidate
    attempts: list[tuple[str, int | None]] = []
    match = _VERSIONED.match(text)
    if match:
        attempts.append((match.group("name"), int(match.group("version"))))
    attempts.append((text, None))
    first_error: ArtifactNotFoundError | None = None
    for name, version in attempts:
        try:
            return queries.get_artifact_version(name, version, as_of=as_of).id
        except ArtifactNotFoundError as e:
            first_error = first_error or e
    raise LineageNodeNotFoundError(
        f"{text!r} names no lineage node"
        + (f" as of position {as_of}" if as_of is not None else "")
        + f" ({first_error}); {_FIND_IDS}"
    ) from first_error


# -- helpers -------------------------------------------------------------------------


@functools.cache
def _statements(direction: str, limited: bool, dated: bool) -> tuple[Select[Any], Select[Any]]:
    """Build the node and edge queries of one shape, once: they take bound parameters."""
    ways = ("upstream", "downstream") if direction == "both" else (direction,)
    ids = [select(_walk(way, limited, dated).c.id) for way in ways]
    reached = (union(*ids) if len(ids) > 1 else ids[0].distinct()).cte("reached")
    return _nodes_query(reached, dated), _edges_query(reached, direction, dated)


def _walk(direction: str, limited: bool, dated: bool) -> CTE:
    e = t.lineage_edges
    visible = [e.c.position <= bindparam("as_of", type_=Integer)] if dated else []
    root = bindparam("root", type_=String)
    zero = literal(0, Integer)
    # The seeds: the root and, when the root is a run, its step runs.
    seed_cols: list[ColumnElement[Any]] = [
        root.label("id"),
        zero.label("stop"),
    ]
    step_cols: list[ColumnElement[Any]] = [e.c.dst.label("id"), zero.label("stop")]
    if limited:
        seed_cols.append(zero.label("hops"))
        step_cols.append(zero.label("hops"))
    seeds = union_all(
        select(*seed_cols),
        select(*step_cols).where(e.c.src == root, e.c.kind == "contains", *visible),
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
    query = select(
        n,
        av.c.name.label("av_name"),
        av.c.version.label("av_version"),
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
        r.c.started_at.label("r_started_at"),
    ).select_from(
        reached.join(n, n.c.id == reached.c.id)
        .outerjoin(av, av.c.id == n.c.id)
        .outerjoin(sr, sr.c.id == n.c.id)
        .outerjoin(r, r.c.id == n.c.run_id)  # a run's run_id is its own id
    )
    if dated:
        query = query.where(n.c.position <= bindparam("as_of", type_=Integer))
    return query


def _edges_query(reached: CTE, direction: str, dated: bool) -> Select[Any]:
    e = t.lineage_edges
    # Join on the side the walk came along, so the edges read are the ones walked.
    near, far = (e.c.src, e.c.dst) if direction == "downstream" else (e.c.dst, e.c.src)
    query = (
        select(e.c.src, e.c.dst, e.c.kind, e.c.position, e.c.created_at)
        .select_from(reached.join(e, near == reached.c.id))
        .where(far.in_(select(reached.c.id)))
    )
    if dated:
        query = query.where(e.c.position <= bindparam("as_of", type_=Integer))
    return query


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


def _visible(position: int | None, as_of: int | None) -> bool:
    return position is not None and (as_of is None or position <= as_of)


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
            "deleted": _visible(row.av_deleted_pos, as_of),
            "created_at": _utc(row.av_created_at),
            "producer_step_run_id": row.av_producer,
        }
    if row.kind == "step_run":
        decided = _visible(row.sr_cache_pos, as_of)
        attributes: dict[str, Any] = {
            "invocation_id": row.sr_invocation_id or row.label,
            "run_id": row.run_id,
            "run_label": None if row.r_pipeline is None else f"{row.r_pipeline} / {row.r_run_name}",
        }
        if row.sr_status is not None:
            attributes.update(
                step_name=row.sr_step_name,
                pipeline=row.sr_pipeline,
                status=row.sr_status if _visible(row.sr_ended_pos, as_of) else "running",
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
        "status": row.r_status if _visible(row.r_ended_pos, as_of) else "running",
        "started_at": _utc(row.r_started_at),
    }


def _hops(
    root: str, rows: Iterable[Row[Any]], edges: Iterable[LineageEdge], direction: str
) -> dict[str, int]:
    """Fewest hops from the root, walking the same edges the query walked."""
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


def _ordered_nodes(nodes: Iterable[LineageNode]) -> list[LineageNode]:
    return sorted(nodes, key=lambda n: (n.position, n.id))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


# -- DOT -----------------------------------------------------------------------------


def _quote(text: object) -> str:
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _attrs(**values: object) -> str:
    return "[" + ", ".join(f"{key}={_quote(value)}" for key, value in values.items()) + "]"


_SHAPES = {"artifact": "note", "step_run": "box", "run": "folder"}
_EDGE_STYLES = {
    "consumed": {},
    "produced": {},
    "reused": {"style": "dashed", "label": "reused"},
    "cached_from": {"style": "dotted", "label": "cached from"},
}
"""How each edge kind is drawn; ``contains`` edges are drawn as run clusters instead."""


def _dot_node(node: str, data: dict[str, Any], root: str) -> str:
    attributes = data.get("attributes") or {}
    kind = data.get("kind", "")
    style: dict[str, object] = {"label": data.get("label", node), "shape": _SHAPES.get(kind, "box")}
    styles = []
    if kind == "step_run" and attributes.get("cache_outcome") == "hit":
        styles.append("dashed")
    if kind == "artifact" and attributes.get("deleted"):
        styles.append("dotted")
    if styles:
        style["style"] = ",".join(styles)
    if node == root:
        style["penwidth"] = 2
    return f"    {_quote(node)} {_attrs(**style)};"


def _dot(lineage: LineageGraph, g: nx.DiGraph) -> str:
    title = f"lineage of {lineage.root}" + (
        f" as of position {lineage.as_of}" if lineage.as_of is not None else ""
    )
    lines = [
        "digraph lineage {",
        f"    graph {_attrs(rankdir='LR', label=title, fontsize=10)};",
        f"    node {_attrs(fontsize=10)};",
    ]
    clusters: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    order = {n.id: (n.position, n.id) for n in lineage.nodes.values()}
    for node in sorted(g.nodes, key=lambda n: order.get(n, (0, str(n)))):
        data = g.nodes[node]
        attributes = data.get("attributes") or {}
        run_id = attributes.get("run_id") if data.get("kind") == "step_run" else None
        if data.get("kind") == "run":
            run_id = node
            labels[node] = str(data.get("label", node))
        line = _dot_node(node, data, lineage.root)
        if run_id is None:
            lines.append(line)
            continue
        clusters.setdefault(str(run_id), []).append(line)
        labels.setdefault(str(run_id), str(attributes.get("run_label") or run_id))
    for index, (run_id, members) in enumerate(clusters.items()):
        lines.append(f"    subgraph {_quote(f'cluster_{index}')} {{")
        lines.append(
            f"        graph {_attrs(label=labels[run_id], style='rounded', color='grey')};"
        )
        lines.extend("    " + member for member in members)
        lines.append("    }")
    for src, dst, data in sorted(g.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
        if data.get("kind") == "contains":
            continue
        style = dict(_EDGE_STYLES.get(str(data.get("kind")), {}))
        suffix = f" {_attrs(**style)}" if style else ""
        lines.append(f"    {_quote(src)} -> {_quote(dst)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
