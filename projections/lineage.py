"""The lineage graph a query answers with, and its renderings.

A ``LineageGraph`` holds the nodes (artifact versions, step runs, runs) and
edges reached from its root, as the log stood at a position. It turns itself
into a ``networkx.DiGraph`` (for the algorithms of ``projections.graph``), into
JSON-able data, and into Graphviz DOT text with step runs clustered by run.
``projections.lineage_queries`` builds it from the views.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import networkx as nx

from lineagelog.projections import graph

__all__ = ["LineageEdge", "LineageGraph", "LineageNode"]


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


# -- JSON ----------------------------------------------------------------------------


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
