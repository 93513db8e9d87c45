"""Graphviz drawing of a comparison: the aligned upstream graphs, differences highlighted.

Each node stands for an artifact version or step run of one history together
with its counterpart in the other (``raw:4 -> raw:5``). Nodes that differ are
drawn red, root causes thick and labelled with what changed; the rest grey.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lineagelog.domain.comparison import RunComparison
    from lineagelog.domain.root_causes import ArtifactComparison

__all__ = ["comparison_dot", "run_comparison_dot"]

_FONT = "Helvetica"
_SAME = {"color": "#9e9e9e", "fontcolor": "#616161", "fillcolor": "#f5f5f5"}
_DIFFERS = {"color": "#c62828", "fontcolor": "#b71c1c", "fillcolor": "#ffebee"}
_CAUSE = {"color": "#b71c1c", "fontcolor": "#b71c1c", "fillcolor": "#ffcdd2", "penwidth": "3"}
_CAUSE_TEXT = 70


def comparison_dot(comparison: ArtifactComparison, rankdir: str = "LR") -> str:
    """DOT text of the aligned upstream graphs of an artifact comparison.

    Examples:
        >>> from lineagelog.domain.comparison import VersionFacts
        >>> from lineagelog.domain.root_causes import trace_root_causes
        >>> v = lambda i, ver, h: VersionFacts(i, "raw", ver, h, "M", "list", 1, {}, None)
        >>> compared = trace_root_causes(v("a", "1", "h1"), v("b", "2", "h2"), {}, {}, {})
        >>> dot = comparison_dot(compared)
        >>> "raw:1 -> raw:2" in dot and "#b71c1c" in dot
        True
    """
    import graphviz

    causes: dict[str, list[str]] = {}
    for cause in comparison.root_causes:
        text = cause.description
        short = text if len(text) <= _CAUSE_TEXT else text[: _CAUSE_TEXT - 3] + "..."
        causes.setdefault(cause.path[0], []).append(short)
    title = f"{comparison.a.label} vs {comparison.b.label}: " + (
        "same content" if comparison.same_content else "content differs"
    )
    dot = graphviz.Digraph("comparison")
    dot.attr(rankdir=rankdir, label=title, labelloc="t", fontname=_FONT, fontsize="12")
    dot.attr("node", fontname=_FONT, fontsize="10", style="filled")
    dot.attr("edge", color="#616161")
    # DOT reads "a:b" in an edge as a node and a port: nodes get plain names.
    names = {key: f"n{index}" for index, key in enumerate(comparison.nodes)}
    for key, node in comparison.nodes.items():
        colors = _CAUSE if key in causes else _DIFFERS if node.differs else _SAME
        label = "\n".join([node.label, *causes.get(key, [])])
        shape = "note" if node.kind == "artifact" else "box"
        dot.node(names[key], label=label, shape=shape, **colors)
    for edge in comparison.edges:
        dot.edge(names[edge.src], names[edge.dst])
    return str(dot.source)


_CHANGE_COLORS = {
    "same": _SAME,
    "changed": _DIFFERS,
    "added": {"color": "#2e7d32", "fontcolor": "#1b5e20", "fillcolor": "#e8f5e9"},
    "removed": {"color": "#757575", "fontcolor": "#757575", "fillcolor": "#eeeeee"},
}


def run_comparison_dot(comparison: RunComparison, rankdir: str = "LR") -> str:
    """DOT text of two runs' steps, aligned by invocation id, coloured by what changed.

    An edge joins the step that wrote a version to each step of the same run that read it.
    """
    import graphviz

    title = f"run {comparison.a.name} vs {comparison.b.name}" + (
        ": no difference" if comparison.same else ""
    )
    dot = graphviz.Digraph("run_comparison")
    dot.attr(rankdir=rankdir, label=title, labelloc="t", fontname=_FONT, fontsize="12")
    dot.attr("node", fontname=_FONT, fontsize="10", style="filled,rounded", shape="box")
    writers: dict[str, str] = {}
    for step in comparison.steps:
        for side in (step.a, step.b):
            if side is not None:
                writers.update({vid: step.invocation_id for vid in side.outputs.values()})
    edges: set[tuple[str, str]] = set()
    for step in comparison.steps:
        reasons = [d.reason() or "" for d in step.differences]
        label = "\n".join([step.invocation_id, f"({step.change})", *reasons[:4]])
        dot.node(step.invocation_id, label=label, **_CHANGE_COLORS[step.change])
        for side in (step.a, step.b):
            if side is not None:
                edges |= {
                    (writers[vid], step.invocation_id)
                    for vid in side.inputs.values()
                    if vid in writers
                }
    for src, dst in sorted(edges):
        dot.edge(src, dst)
    return str(dot.source)
