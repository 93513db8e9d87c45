"""The ``--format text`` of ``lineagelog lineage``: a readable tree, root first."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineagelog.projections.lineage import LineageGraph, LineageNode

__all__ = ["describe_node", "lineage_tree"]

_UPSTREAM = {
    "produced": "produced by",
    "consumed": "input",
    "cached_from": "cache hit of",
    "reused": "reused",
    "contains": "step",
}
_DOWNSTREAM = {
    "produced": "output",
    "consumed": "consumed by",
    "cached_from": "served again by cache hit",
    "reused": "served from cache",
    "contains": "step",
}


def describe_node(node: LineageNode) -> str:
    """Describe a node in one line: what it is, its short id, its status."""
    a: dict[str, Any] = node.attributes
    short = node.id[:8]
    if node.kind == "artifact":
        name = f"{a['name']}:{a['version']}" if a.get("name") else node.label
        return f"{name}  (artifact {short})" + ("  [deleted]" if a.get("deleted") else "")
    if node.kind == "step_run":
        text = f"{a.get('invocation_id') or node.label}  (step run {short}, {a.get('status', '?')}"
        if a.get("cache_outcome") == "hit" and a.get("original_step_run_id"):
            text += f", cached from {str(a['original_step_run_id'])[:8]}"
        return text + ")"
    name = f"{a['pipeline']} / {a['run_name']}" if a.get("pipeline") else node.label
    return f"{name}  (run {short}, {a.get('status', '?')})"


def lineage_tree(lineage: LineageGraph) -> list[str]:
    """Draw the graph as an indented tree from the root, one line per node.

    Upstream trees follow edges against their direction (what a node came
    from), downstream trees along it; ``both`` draws one of each. A node met
    a second time is named with ``(see above)`` instead of being drawn again.
    """
    ways = ("upstream", "downstream") if lineage.direction == "both" else (lineage.direction,)
    root = lineage.nodes.get(lineage.root)
    lines = [describe_node(root) if root is not None else lineage.root]
    for way in ways:
        children = _children(lineage, way)
        if len(ways) > 1:
            lines.append(f"{way}:")
        seen = {lineage.root}
        lines += _branch(lineage, children, lineage.root, "", seen)
        if not children.get(lineage.root):
            lines.append(f"  (nothing {way})")
    return lines


def _children(lineage: LineageGraph, way: str) -> dict[str, list[tuple[str, str]]]:
    labels = _UPSTREAM if way == "upstream" else _DOWNSTREAM
    order = {n.id: (n.position, n.id) for n in lineage.nodes.values()}
    children: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for edge in lineage.edges:
        if edge.src not in lineage.nodes or edge.dst not in lineage.nodes:
            continue
        if edge.kind == "contains":
            if edge.src == lineage.root:  # a run stands for its step runs
                children[edge.src].append((edge.dst, labels["contains"]))
            continue
        if way == "upstream" and edge.kind != "reused":
            children[edge.dst].append((edge.src, labels[edge.kind]))
        elif way == "downstream":
            children[edge.src].append((edge.dst, labels.get(edge.kind, edge.kind)))
    for items in children.values():
        items.sort(key=lambda item: order.get(item[0], (0, item[0])))
    return children


def _branch(
    lineage: LineageGraph,
    children: dict[str, list[tuple[str, str]]],
    node: str,
    prefix: str,
    seen: set[str],
    hops: int = 0,
) -> list[str]:
    lines: list[str] = []
    items = children.get(node, [])
    if lineage.depth is not None and hops >= lineage.depth:
        items = [item for item in items if item[1] == "step"]  # a run's steps cost no hop
    for index, (child, label) in enumerate(items):
        last = index == len(items) - 1
        text = describe_node(lineage.nodes[child])
        again = child in seen
        lines.append(
            f"{prefix}{'└── ' if last else '├── '}{label}: {text}"
            + (" (see above)" if again else "")
        )
        if again or label == _DOWNSTREAM["reused"]:  # what a cache hit served ends a walk
            seen.add(child)
            continue
        seen.add(child)
        step = 0 if label == "step" else 1
        indent = prefix + ("    " if last else "│   ")
        lines += _branch(lineage, children, child, indent, seen, hops + step)
    return lines
