"""Lineage diagrams: the one place that decides how lineage is drawn in DOT.

How a diagram reads:

- artifact versions are notes (``name:version`` and a short id), step runs are
  rounded boxes (invocation, short id, status), a run given as the root with no
  step runs in view is a folder;
- each pipeline run is a frame (cluster) holding its whole DAG: its step runs,
  the artifacts they produced, and the artifacts its cache hits served again.
  A served artifact is drawn a second time inside the run that reused it
  (dashed), with a dotted line from the original, which stays in the run that
  made it; a cached step run has a dotted line from the step run it reused;
- the run's name and status head its frame as a text node placed before its
  first steps, not as the frame's label, which lines between runs would cross;
- failed steps are red, running ones amber, deleted artifacts grey and dotted;
  the root has a thick border;
- edges carry no labels (they would overlap where they cross between runs):
  their meaning is in the legend, and in tooltips;
- every node carries a tooltip (id, hash, times) that SVG viewers show on hover,
  and its lineage id as its SVG element id;
- a small legend explains each look the diagram uses, and only those
  (``lineagelog.projections.diagram_legend``); the layout runs left to right.

Building DOT text needs only the ``graphviz`` Python package (no program);
``LineageGraph.to_dot`` and the CLI's ``--format dot`` both come from here, and
``lineagelog.adapters.graphviz`` renders the text to SVG, PNG or PDF with ``dot``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lineagelog.projections.diagram_legend import draw_legend
from lineagelog.projections.diagram_style import LOOKS, Look, artifact_look, step_look
from lineagelog.projections.graph import collapse_invocations

if TYPE_CHECKING:
    from collections.abc import Mapping

    import graphviz
    import networkx as nx

__all__ = ["DiagramOptions", "DrawnLineage", "lineage_diagram", "lineage_dot", "served_node_id"]


class DrawnLineage(Protocol):
    """What a diagram needs of a lineage graph (``LineageGraph`` has it)."""

    @property
    def root(self) -> str:
        """The node the lineage was asked about."""

    @property
    def as_of(self) -> int | None:
        """The log position the graph stands at (None: now)."""

    @property
    def direction(self) -> str:
        """``upstream``, ``downstream`` or ``both``."""

    @property
    def depth(self) -> int | None:
        """The depth asked for (None: unbounded)."""

    @property
    def nodes(self) -> Mapping[str, Any]:
        """Node id -> node with ``label``, ``position`` and ``id``."""

    def to_networkx(self) -> nx.DiGraph:
        """The graph with node attributes kind/label/attributes and edge attribute kind."""


_FONT = "Helvetica"


@dataclass(frozen=True)
class DiagramOptions:
    """How to draw a lineage diagram.

    ``rankdir`` is Graphviz's layout direction (``LR`` left to right, ``TB`` top
    to bottom); ``collapse`` merges repeated invocations of a step in one run
    into one node; ``legend`` adds the key; ``title`` replaces the default one.
    """

    rankdir: str = "LR"
    collapse: bool = False
    legend: bool = True
    title: str | None = None


def served_node_id(run_id: str, artifact_version_id: str) -> str:
    """Return the DOT id of an artifact version drawn again in a run whose cache hit served it."""
    return f"served_{run_id}_{artifact_version_id}"


def _short(value: object) -> str:
    return str(value)[:8]


def _time(value: object) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)


def _attributes(data: Mapping[str, Any]) -> dict[str, Any]:
    return dict(data.get("attributes") or {})


@dataclass
class _Plan:
    """Where each node goes: its run's frame (``home``) or none, and the served copies."""

    home: dict[str, str | None] = field(default_factory=dict)
    served: dict[tuple[str, str], str] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    def look(self, key: str) -> dict[str, str]:
        self.used.add(key)
        return dict(LOOKS[key].attrs)


def _run_of_step(data: Mapping[str, Any]) -> str | None:
    run_id = _attributes(data).get("run_id")
    return None if run_id is None else str(run_id)


def _plan(g: nx.DiGraph, order: Mapping[str, tuple[int, str]]) -> _Plan:
    plan = _Plan()
    step_runs = {n: _run_of_step(d) for n, d in g.nodes(data=True) if d.get("kind") == "step_run"}
    for node_id in sorted(g.nodes, key=lambda n: order.get(n, (0, str(n)))):
        kind = g.nodes[node_id].get("kind")
        if kind == "step_run":
            plan.home[node_id] = step_runs[node_id]
        elif kind == "artifact":  # in the frame of the run whose step produced it
            producers = [
                p for p in g.predecessors(node_id) if g.edges[p, node_id].get("kind") == "produced"
            ]
            plan.home[node_id] = step_runs.get(producers[0]) if producers else None
        elif node_id not in step_runs.values():
            plan.home[node_id] = None  # a run with no steps in view is a node of its own
    for src, dst, data in g.edges(data=True):
        if data.get("kind") != "reused" or src not in plan.home or dst not in plan.home:
            continue
        run_id = plan.home[src]
        if run_id is not None and run_id != plan.home[dst]:
            plan.served[(run_id, dst)] = served_node_id(run_id, dst)
    return plan


def _artifact_node(node_id: str, data: Mapping[str, Any], plan: _Plan) -> dict[str, str]:
    attributes = _attributes(data)
    name, version = attributes.get("name"), attributes.get("version")
    title = f"{name}:{version}" if name is not None else str(data.get("label", node_id))
    deleted = bool(attributes.get("deleted"))
    attrs = plan.look(artifact_look(deleted=deleted, served=False).key)
    lines = [title, _short(node_id)] + (["deleted"] if deleted else [])
    tooltip = [f"artifact {node_id}"]
    if attributes.get("content_hash"):
        tooltip.append(f"sha256 {attributes['content_hash']}")
    for key in ("data_type", "size", "uri", "producer_step_run_id", "created_at"):
        if attributes.get(key) is not None:
            tooltip.append(f"{key.replace('_', ' ')}: {_time(attributes[key])}")
    return {**attrs, "label": "\n".join(lines), "tooltip": "\n".join(tooltip)}


def _served_node(artifact_id: str, data: Mapping[str, Any], plan: _Plan) -> dict[str, str]:
    attributes = _attributes(data)
    name, version = attributes.get("name"), attributes.get("version")
    title = f"{name}:{version}" if name is not None else str(data.get("label", artifact_id))
    attrs = plan.look(artifact_look(deleted=False, served=True).key)
    tooltip = f"artifact {artifact_id}\nserved from cache in this run; made by step run " + str(
        attributes.get("producer_step_run_id") or "(unknown)"
    )
    lines = [title, f"{_short(artifact_id)} · from cache"]
    return {**attrs, "label": "\n".join(lines), "tooltip": tooltip}


def _step_node(node_id: str, data: Mapping[str, Any], plan: _Plan) -> dict[str, str]:
    attributes = _attributes(data)
    look: Look = step_look(attributes)
    attrs = plan.look(look.key)
    invocation = data.get("label") if data.get("members") else None
    invocation = invocation or attributes.get("invocation_id") or data.get("label", node_id)
    status = str(attributes.get("status") or "running")
    lines = [str(invocation), f"{_short(node_id)} · {status}"]
    original = attributes.get("original_step_run_id")
    if attributes.get("cache_outcome") == "hit":
        lines.append(f"cached from {_short(original)}" if original else "cached")
    if look.key == "step_failed":
        lines.append("FAILED")
    tooltip = [f"step_run {node_id}"]
    for key in ("step_name", "status", "cache_outcome", "original_step_run_id", "run_id"):
        if attributes.get(key) is not None:
            tooltip.append(f"{key.replace('_', ' ')}: {attributes[key]}")
    if attributes.get("started_at") is not None:
        tooltip.append(f"started: {_time(attributes['started_at'])}")
    if data.get("members"):
        tooltip.append("invocations: " + ", ".join(map(str, data["members"])))
    return {**attrs, "label": "\n".join(lines), "tooltip": "\n".join(tooltip)}


def _run_node(node_id: str, data: Mapping[str, Any], plan: _Plan) -> dict[str, str]:
    attributes = _attributes(data)
    attrs = plan.look("run")
    lines = [
        str(attributes.get("run_name") or data.get("label", node_id)),
        f"run {_short(node_id)}",
    ]
    tooltip = [f"run {node_id}"]
    for key in ("pipeline", "status", "started_at"):
        if attributes.get(key) is not None:
            tooltip.append(f"{key.replace('_', ' ')}: {_time(attributes[key])}")
    return {**attrs, "label": "\n".join(lines), "tooltip": "\n".join(tooltip)}


def _node(node_id: str, data: Mapping[str, Any], plan: _Plan, root: str) -> dict[str, str]:
    kind = data.get("kind")
    if kind == "artifact":
        attrs = _artifact_node(node_id, data, plan)
    elif kind == "step_run":
        attrs = _step_node(node_id, data, plan)
    else:
        attrs = _run_node(node_id, data, plan)
    if node_id == root:
        plan.used.add("root")
        attrs["penwidth"] = LOOKS["root"].attrs["penwidth"]
        attrs["tooltip"] = attrs["tooltip"].replace("\n", " (root of this diagram)\n", 1)
    attrs["id"] = node_id
    return attrs


_EDGE_TOOLTIPS = {
    "consumed": "consumed",
    "produced": "produced",
    "reused": "served from cache",
    "cached_from": "cache hit of",
}


@dataclass(frozen=True)
class _Line:
    src: str
    dst: str
    look: str
    tooltip: str


def _lines(g: nx.DiGraph, plan: _Plan, order: Mapping[str, tuple[int, str]]) -> list[_Line]:
    """Every edge to draw, with served copies standing in for originals inside a reusing run."""
    lines: list[_Line] = []
    linked: set[str] = set()
    edges = sorted(g.edges(data=True), key=lambda e: (order.get(e[0], (0, "")), str(e[1])))
    for src, dst, data in edges:
        kind = str(data.get("kind"))
        if kind not in _EDGE_TOOLTIPS or src not in plan.home or dst not in plan.home:
            continue  # ``contains`` is the frame itself
        if kind == "cached_from":
            lines.append(_Line(src, dst, "cache", _EDGE_TOOLTIPS[kind]))
            continue
        if kind == "consumed":
            src = plan.served.get((str(plan.home[dst]), src), src)
        elif kind == "reused":
            copy = plan.served.get((str(plan.home[src]), dst))
            if copy is not None and copy not in linked:
                linked.add(copy)
                lines.append(_Line(dst, copy, "cache", "served again by a cache hit"))
            dst = copy or dst
        lines.append(_Line(src, dst, "flow", _EDGE_TOOLTIPS[kind]))
    return lines


def _title(lineage: DrawnLineage, options: DiagramOptions) -> str:
    if options.title is not None:
        return options.title
    root = lineage.nodes.get(lineage.root)
    name = root.label if root is not None else lineage.root
    text = f"{lineage.direction} lineage of {name} ({_short(lineage.root)})"
    if lineage.depth is not None:
        text += f", depth {lineage.depth}"
    if lineage.as_of is not None:
        text += f", as of log position {lineage.as_of}"
    return text


def lineage_diagram(
    lineage: DrawnLineage, options: DiagramOptions | None = None
) -> graphviz.Digraph:
    """Build the Graphviz diagram of a lineage graph (no ``dot`` program needed).

    Examples:
        >>> from datetime import UTC, datetime
        >>> from lineagelog.projections.lineage import LineageGraph, LineageNode
        >>> when = datetime(2024, 1, 1, tzinfo=UTC)
        >>> node = LineageNode("a1", "artifact", "numbers:1", {"name": "numbers", "version": 1},
        ...                    1, when)
        >>> dot = lineage_diagram(LineageGraph("a1", {"a1": node}, []))
        >>> 'id=a1' in dot.source and 'rankdir=LR' in dot.source
        True

    """
    import graphviz

    options = options or DiagramOptions()
    g = lineage.to_networkx()
    if options.collapse:
        g = collapse_invocations(g)
    dot = graphviz.Digraph("lineage")
    dot.attr(
        rankdir=options.rankdir,
        label=_title(lineage, options),
        labelloc="t",
        fontname=_FONT,
        fontsize="12",
        newrank="true",
        compound="true",
    )
    dot.attr("node", fontname=_FONT, fontsize="10")
    dot.attr("edge", fontname=_FONT, fontsize="9")
    order = {n.id: (n.position, n.id) for n in lineage.nodes.values()}
    plan = _plan(g, order)
    frames: dict[str, list[str]] = {}
    for node_id, run_id in plan.home.items():
        if run_id is None:
            dot.node(node_id, **_node(node_id, g.nodes[node_id], plan, lineage.root))
        else:
            frames.setdefault(run_id, []).append(node_id)
    copies: dict[str, list[tuple[str, str]]] = {}
    for (run_id, artifact_id), copy in plan.served.items():
        frames.setdefault(run_id, [])
        copies.setdefault(run_id, []).append((artifact_id, copy))
    lines = _lines(g, plan, order)
    labels = _run_labels(g)
    for index, (run_id, members) in enumerate(frames.items()):
        with dot.subgraph(name=f"cluster_run_{index}") as frame:
            frame.attr(label="", tooltip=f"run {run_id}", id=f"run_{run_id}", **plan.look("frame"))
            if run_id == lineage.root:
                plan.used.add("root")
                frame.attr(penwidth=LOOKS["root"].attrs["penwidth"])
            header = f"header_{run_id}"
            text = labels.get(run_id, f"run {_short(run_id)}")
            frame.node(header, text, shape="plaintext", tooltip=f"run {run_id}")
            for node_id in members:
                frame.node(node_id, **_node(node_id, g.nodes[node_id], plan, lineage.root))
            for artifact_id, copy in copies.get(run_id, []):
                frame.node(copy, id=copy, **_served_node(artifact_id, g.nodes[artifact_id], plan))
            for first in _first_in_frame(members, copies.get(run_id, []), lines):
                frame.edge(header, first, style="invis")
    for line in lines:
        dot.edge(line.src, line.dst, tooltip=line.tooltip, **plan.look(line.look))
    if options.legend:
        draw_legend(dot, plan.used)
    return dot


def _first_in_frame(
    members: list[str], copies: list[tuple[str, str]], lines: list[_Line]
) -> list[str]:
    """The nodes of a run's frame that nothing in the frame points at.

    The run's name is a header node placed before them (left of them, or above
    them top to bottom) rather than the frame's label, which lines coming into
    the frame from other runs would cross.
    """
    inside = set(members) | {copy for _, copy in copies}
    pointed_at = {line.dst for line in lines if line.src in inside and line.dst in inside}
    return [node for node in [*members, *(copy for _, copy in copies)] if node not in pointed_at]


def _run_labels(g: nx.DiGraph) -> dict[str, str]:
    labels: dict[str, str] = {}
    for node_id, data in g.nodes(data=True):
        attributes = _attributes(data)
        if data.get("kind") == "step_run" and attributes.get("run_id"):
            run_id = str(attributes["run_id"])
            text = attributes.get("run_label") or "run"
            labels.setdefault(run_id, f"{text}\nrun {_short(run_id)}")
        elif data.get("kind") == "run":
            name = attributes.get("run_name") or data.get("label", node_id)
            pipeline = attributes.get("pipeline")
            text = f"{pipeline} / {name}" if pipeline else str(name)
            status = attributes.get("status")
            labels[str(node_id)] = f"{text}\nrun {_short(node_id)}" + (
                f" · {status}" if status else ""
            )
    return labels


def lineage_dot(lineage: DrawnLineage, options: DiagramOptions | None = None) -> str:
    """Return the DOT text of a lineage diagram (no ``dot`` program needed)."""
    return str(lineage_diagram(lineage, options).source)
