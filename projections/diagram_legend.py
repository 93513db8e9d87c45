"""The legend of a lineage diagram: one entry per look the diagram used, and no other.

Node looks are shown by a sample node whose label is their meaning; line looks by
a short line that ends at its meaning, so no entry joins two samples and the key
suggests no relation between kinds of nodes. The samples are drawn from the same
``Look`` as the diagram's elements, so the key cannot drift from what it explains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineagelog.projections.diagram_style import LOOKS

if TYPE_CHECKING:
    from collections.abc import Collection

    import graphviz

__all__ = ["LEGEND_CLUSTER", "draw_legend", "legend_entry_id"]

_PER_ROW = 5

LEGEND_CLUSTER = "cluster_legend"
"""The name of the legend's cluster in the DOT text."""


def legend_entry_id(look_key: str) -> str:
    """Return the DOT node id of the legend entry explaining ``look_key``."""
    return f"legend_{look_key}"


def draw_legend(dot: graphviz.Digraph, used: Collection[str]) -> None:
    """Add a legend to ``dot`` with one entry for each look key in ``used``, in ``LOOKS`` order.

    The entries are laid out in rows (columns, top to bottom) of at most five, so
    the key stays small beside a diagram of any width.
    """
    entries: list[str] = []
    with dot.subgraph(name=LEGEND_CLUSTER) as key:
        key.attr(
            label="legend",
            style="rounded",
            color="#bdbdbd",
            fontcolor="#757575",
            fontsize="9",
            id="legend",
        )
        key.attr("node", fontsize="8", height="0.25", margin="0.06,0.02")
        key.attr("edge", arrowsize="0.6")
        previous: str | None = None
        for look in LOOKS.values():
            if look.key not in used:
                continue
            entry = legend_entry_id(look.key)
            first = entry
            if look.element == "node":
                key.node(entry, look.meaning, **look.attrs)
            elif look.element == "frame":
                key.node(entry, look.meaning, shape="box", fontcolor="#616161", **look.attrs)
            elif look.element == "border":
                key.node(entry, look.meaning, shape="box", style="rounded", **look.attrs)
            else:  # a line: drawn from an invisible point to the words that explain it
                first = f"{entry}_start"
                key.node(first, "", shape="point", style="invis", width="0.01")
                key.node(entry, look.meaning, shape="plaintext")
                line = {name: value for name, value in look.attrs.items() if name != "constraint"}
                key.edge(first, entry, **line)
            if previous is not None and len(entries) % _PER_ROW:
                key.edge(previous, first, style="invis")  # next in its row (LR) or column (TB)
            previous = entry
            entries.append(entry)
