"""Lineage diagrams: the one place that decides how lineage is drawn in DOT.

How a diagram reads:

- artifact versions are notes (``name:version`` and a short id), step runs are
  rounded boxes (invocation, short id, status), a run given as the root with no
  step runs in view is a folder;
- step runs are grouped in one cluster per pipeline run; an artifact sits in
  the cluster of the step run that produced it;
- a cache hit is dashed and names the step run it reused; the artifact it served
  hangs off a dashed ``reused`` edge; failed steps are red, running ones amber,
  deleted artifacts grey and dotted; the root has a thick border;
- every node carries a tooltip (id, hash, times) that SVG viewers show on hover,
  and its lineage id as its SVG element id;
- a legend explains the shapes and lines; the layout runs left to right.

Building DOT text needs only the ``graphviz`` Python package (no program);
``LineageGraph.to_dot`` and the CLI's ``--format dot`` both come from here, and
``lineagelog.adapters.graphviz`` renders the text to SVG, PNG or PDF with ``dot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lineagelog.projections.graph import collapse_invocations

if TYPE_CHECKING:
    from collections.abc import Mapping

    import graphviz
    import networkx as nx

__all__ = ["DiagramOptions", "DrawnLineage", "lineage_diagram", "lineage_dot"]


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
_COLORS = {
    "artifact": "#e8f1fb",
    "artifact_deleted": "#eeeeee",
    "completed": "#e6f4ea",
    "cached": "#f3f3f3",
    "failed": "#fbe3e4",
    "running": "#fff4d6",
}


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


def _short(value: object) -> str:
    return str(value)[:8]


def _time(value: object) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)


def _step_style(attributes: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    status = str(attributes.get("status") or "running")
    outcome = attributes.get("cache_outcome")
    style = ["rounded", "filled"]
    extra: list[str] = []
    attrs = {"shape": "box", "fillcolor": _COLORS["completed"], "color": "#2e7d32"}
    if outcome == "hit":
        style.append("dashed")
        attrs.update(fillcolor=_COLORS["cached"], color="#616161")
        original = attributes.get("original_step_run_id")
        extra.append(f"cached from {_short(original)}" if original else "cached")
    if status == "failed":
        attrs.update(fillcolor=_COLORS["failed"], color="#c62828", fontcolor="#b71c1c")
        attrs["penwidth"] = "2"
        extra.append("FAILED")
    elif status in ("running", "started"):
        attrs.update(fillcolor=_COLORS["running"], color="#ef6c00")
        extra.append("running")
    attrs["style"] = ",".join(style)
    return attrs, extra


def _artifact_style(*, deleted: bool) -> dict[str, str]:
    attrs = {"shape": "note", "style": "filled", "fillcolor": _COLORS["artifact"]}
    attrs["color"] = "#1565c0"
    if deleted:
        attrs.update(style="filled,dotted", fillcolor=_COLORS["artifact_deleted"])
        attrs["fontcolor"] = "#757575"
    return attrs


def _node_attrs(node_id: str, data: dict[str, Any], root: str) -> dict[str, str]:
    kind = data.get("kind")
    attributes: dict[str, Any] = data.get("attributes") or {}
    label = str(data.get("label", node_id))
    tooltip = [f"{kind} {node_id}"]
    if kind == "artifact":
        name, version = attributes.get("name"), attributes.get("version")
        title = f"{name}:{version}" if name is not None else label
        lines = [title, _short(node_id)]
        attrs = _artifact_style(deleted=bool(attributes.get("deleted")))
        if attributes.get("deleted"):
            lines.append("deleted")
        if attributes.get("content_hash"):
            tooltip.append(f"sha256 {attributes['content_hash']}")
        for key in ("data_type", "size", "uri", "producer_step_run_id", "created_at"):
            if attributes.get(key) is not None:
                tooltip.append(f"{key.replace('_', ' ')}: {_time(attributes[key])}")
    elif kind == "step_run":
        invocation = label if data.get("members") else attributes.get("invocation_id") or label
        attrs, extra = _step_style(attributes)
        status = str(attributes.get("status") or "running")
        lines = [str(invocation), f"{_short(node_id)} · {status}", *extra]
        for key in ("step_name", "status", "cache_outcome", "original_step_run_id", "run_id"):
            if attributes.get(key) is not None:
                tooltip.append(f"{key.replace('_', ' ')}: {attributes[key]}")
        if attributes.get("started_at") is not None:
            tooltip.append(f"started: {_time(attributes['started_at'])}")
        if data.get("members"):
            tooltip.append("invocations: " + ", ".join(map(str, data["members"])))
    else:
        lines = [str(attributes.get("run_name") or label), f"run {_short(node_id)}"]
        attrs = {"shape": "folder", "style": "filled", "fillcolor": "#ffffff"}
        for key in ("pipeline", "status", "started_at"):
            if attributes.get(key) is not None:
                tooltip.append(f"{key.replace('_', ' ')}: {_time(attributes[key])}")
    if node_id == root:
        attrs["penwidth"] = "3"
        tooltip[0] += " (root of this diagram)"
    attrs["label"] = "\n".join(lines)
    attrs["tooltip"] = "\n".join(tooltip)
    attrs["id"] = node_id
    return attrs


def _edge_attrs(kind: str, src_data: dict[str, Any]) -> dict[str, str]:
    if kind == "reused":
        original = (src_data.get("attributes") or {}).get("original_step_run_id")
        label = f"reused from {_short(original)}" if original else "reused"
        return {"style": "dashed", "label": label, "color": "#616161", "fontcolor": "#616161"}
    if kind == "cached_from":
        return {"style": "dotted", "label": "cache hit of", "color": "#616161", "dir": "back"}
    return {"tooltip": kind}


def _cluster_of(node_id: str, data: dict[str, Any], g: nx.DiGraph) -> str | None:
    attributes: dict[str, Any] = data.get("attributes") or {}
    if data.get("kind") == "step_run":
        run_id = attributes.get("run_id")
        return None if run_id is None else str(run_id)
    if data.get("kind") == "artifact":
        producer = attributes.get("producer_step_run_id")
        if producer is not None and producer in g.nodes:
            producer_attributes = g.nodes[producer].get("attributes") or {}
            run_id = producer_attributes.get("run_id")
            return None if run_id is None else str(run_id)
    return None


def _legend(dot: graphviz.Digraph) -> None:
    with dot.subgraph(name="cluster_legend") as key:
        key.attr(label="legend", style="rounded", color="#9e9e9e", fontcolor="#616161")
        key.attr("node", fontsize="9")
        # Drawn with the same styles as the diagram's own nodes, so the key cannot drift.
        key.node(
            "legend_artifact", "artifact version\nname:version", **_artifact_style(deleted=False)
        )
        for name, label, attributes in (
            ("legend_step", "step run", {"status": "completed"}),
            (
                "legend_cached",
                "cached step run\n(reused an earlier one)",
                {"status": "completed", "cache_outcome": "hit"},
            ),
            ("legend_failed", "failed step run", {"status": "failed"}),
        ):
            key.node(name, label, **_step_style(attributes)[0])
        key.node("legend_deleted", "deleted artifact", **_artifact_style(deleted=True))
        key.edge("legend_artifact", "legend_step", label="consumed / produced", fontsize="8")
        key.edge(
            "legend_cached",
            "legend_deleted",
            label="reused (served from cache)",
            style="dashed",
            fontsize="8",
            color="#616161",
        )
        key.edge("legend_step", "legend_failed", style="invis")


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
    dot.attr("edge", fontname=_FONT, fontsize="9", color="#424242")
    order = {n.id: (n.position, n.id) for n in lineage.nodes.values()}
    clusters: dict[str, list[str]] = {}
    runs_with_steps = {
        str((data.get("attributes") or {}).get("run_id"))
        for _, data in g.nodes(data=True)
        if data.get("kind") == "step_run"
    }
    loose: list[str] = []
    for node_id in sorted(g.nodes, key=lambda n: order.get(n, (0, str(n)))):
        data = g.nodes[node_id]
        if data.get("kind") == "run" and node_id in runs_with_steps:
            continue  # the run is drawn as the cluster around its step runs
        cluster = _cluster_of(node_id, data, g)
        (clusters.setdefault(cluster, []) if cluster is not None else loose).append(node_id)
    for node_id in loose:
        dot.node(node_id, **_node_attrs(node_id, g.nodes[node_id], lineage.root))
    labels = _run_labels(g)
    for index, (run_id, members) in enumerate(clusters.items()):
        with dot.subgraph(name=f"cluster_run_{index}") as run:
            bold = run_id == lineage.root
            run.attr(
                label=labels.get(run_id, f"run {_short(run_id)}"),
                style="rounded",
                color="#212121" if bold else "#9e9e9e",
                penwidth="2" if bold else "1",
                tooltip=f"run {run_id}",
                id=f"run_{run_id}",
                fontsize="10",
            )
            for node_id in members:
                run.node(node_id, **_node_attrs(node_id, g.nodes[node_id], lineage.root))
    drawn = {n for cluster in clusters.values() for n in cluster} | set(loose)
    edges = sorted(g.edges(data=True), key=lambda e: (order.get(e[0], (0, "")), str(e[1])))
    for src, dst, data in edges:
        kind = str(data.get("kind"))
        if src not in drawn or dst not in drawn:
            continue
        dot.edge(src, dst, **_edge_attrs(kind, g.nodes[src]))
    if options.legend:
        _legend(dot)
    return dot


def _run_labels(g: nx.DiGraph) -> dict[str, str]:
    labels: dict[str, str] = {}
    for node_id, data in g.nodes(data=True):
        attributes: dict[str, Any] = data.get("attributes") or {}
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
