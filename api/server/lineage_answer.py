"""A lineage graph as the server answers it: capped, and saying so when it is cut."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineagelog.projections.lineage import LineageGraph

__all__ = ["MAX_NODES", "capped", "lineage_answer"]

MAX_NODES = 5000
"""The most nodes one lineage answer holds (a browser still draws it)."""


def capped(graph: LineageGraph, max_nodes: int) -> LineageGraph:
    """The graph cut to the ``max_nodes`` nodes nearest its root, with the edges between them.

    Nodes are kept by hops from the root, then by log position, so a cut graph
    is the near neighbourhood of the root and the same cut every time.
    """
    if len(graph.nodes) <= max_nodes:
        return graph
    far = 2**31
    order = sorted(
        graph.nodes.values(),
        key=lambda n: (far if n.depth is None else n.depth, n.position, n.id),
    )
    kept = {n.id: n for n in order[:max_nodes]}
    edges = [e for e in graph.edges if e.src in kept and e.dst in kept]
    return dataclasses.replace(graph, nodes=kept, edges=edges)


def lineage_answer(graph: LineageGraph, max_nodes: int) -> dict[str, Any]:
    """The ``Lineage`` response: ``LineageGraph.to_dict`` plus whether it was cut."""
    shown = capped(graph, max_nodes)
    return {
        **shown.to_dict(),
        "truncated": len(shown.nodes) < len(graph.nodes),
        "total_nodes": len(graph.nodes),
        "max_nodes": max_nodes,
    }
