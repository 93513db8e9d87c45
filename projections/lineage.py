"""The lineage graph a query answers with, and its renderings.

A ``LineageGraph`` holds the nodes (artifact versions, step runs, runs) and
edges reached from its root, as the log stood at a position. It turns itself
into a ``networkx.DiGraph`` (for the algorithms of ``projections.graph``), into
JSON-able data, and into Graphviz DOT text with step runs clustered by run.
``projections.lineage_queries`` builds it from the views.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import networkx as nx

from lineagelog.projections import graph
from lineagelog.projections.jsonable import json_ready

__all__ = ["LineageEdge", "LineageGraph", "LineageNode"]


@dataclass(frozen=True)
class LineageNode:
    """A node of a lineage graph: an artifact version, a step run or a run.

    ``attributes`` hold, for artifacts: name, version, content_hash, size,
    data_type, artifact_type, materializer, uri, deleted, created_at and
    producer_step_run_id; for step runs: invocation_id, step_name, pipeline,
    status, cache_outcome, original_step_run_id, run_id, run_label and
    started_at; for runs: pipeline, run_name, status and started_at; for the
    ``dataset`` and ``job`` nodes of OpenLineage events: namespace and name;
    for an ``openlineage_run``: job_namespace, job_name and run_id. Statuses
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
    """The lineage around ``root``, as the log stood at position ``as_of`` (None: now).

    ``resolve`` turns a node reference into a node id as ``Client.lineage``
    does (an id prefix, ``name:version``, a run name); graphs from
    ``LineageQueries`` carry it, so ``path`` and friends take the same
    references as the query that made the graph.
    """

    root: str
    nodes: dict[str, LineageNode]
    edges: list[LineageEdge]
    as_of: int | None = None
    direction: str = "upstream"
    depth: int | None = None
    resolve: Callable[[str | UUID], str] | None = field(default=None, compare=False, repr=False)

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

    def node_id(self, node: str | UUID) -> str:
        """The id ``node`` names: an id in this graph, or any reference ``resolve`` takes.

        Raises:
            LineageNodeNotFoundError: ``node`` names nothing (``graph`` functions also
                raise it for a node that exists but is not in this graph).
            AmbiguousReferenceError: an id prefix names several nodes.

        """
        text = str(node)
        if text in self.nodes or self.resolve is None:
            return text
        return self.resolve(node)

    def ancestors_of(self, node: str | UUID, depth: int | None = None) -> set[str]:
        """Return the nodes of this graph upstream of ``node`` (see ``graph.ancestors_of``)."""
        return graph.ancestors_of(self._graph, self.node_id(node), depth)

    def descendants_of(self, node: str | UUID, depth: int | None = None) -> set[str]:
        """Return the nodes of this graph downstream of ``node`` (see ``graph.descendants_of``)."""
        return graph.descendants_of(self._graph, self.node_id(node), depth)

    def path(self, a: str | UUID, b: str | UUID) -> list[str]:
        """Return a shortest directed path between two nodes, upstream end first.

        ``a`` and ``b`` are node references as ``Client.lineage`` takes them: ids,
        unique id prefixes, ``"name:version"``, ``"name"`` or a run's name.

        Raises:
            LineageNodeNotFoundError: ``a`` or ``b`` names nothing in this graph.
            NoLineagePathError: neither is upstream of the other here.

        """
        return graph.lineage_path(self._graph, self.node_id(a), self.node_id(b))

    def to_dot(self, *, collapse: bool = False) -> str:
        """Render the graph as Graphviz DOT text, as ``lineagelog lineage --format dot`` does.

        ``collapse`` merges repeated invocations of a step in a run (see
        ``graph.collapse_invocations``). The text is plain DOT, drawn by
        ``projections.diagram``; rendering it needs the ``dot`` program, or the
        Graphviz adapter.
        """
        from lineagelog.projections.diagram import DiagramOptions, lineage_dot

        return lineage_dot(self, DiagramOptions(collapse=collapse))

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
                    "attributes": json_ready(n.attributes),
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
