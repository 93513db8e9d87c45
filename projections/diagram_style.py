"""How each element of a lineage diagram looks, and what its legend entry says.

Every node, edge and run frame a diagram draws takes its Graphviz attributes from
one ``Look`` here, and the legend draws its samples from the same looks: the key
cannot drift from the diagram, and it shows exactly the looks a diagram used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["LOOKS", "Look", "artifact_look", "step_look"]

_GREY = "#616161"


@dataclass(frozen=True)
class Look:
    """One way of drawing an element: its Graphviz attributes and its legend text.

    ``element`` says what carries the look: a ``node``, an ``edge``, a run
    ``frame`` (a cluster), or a ``border`` laid over another look (the root).
    """

    key: str
    element: Literal["node", "edge", "frame", "border"]
    meaning: str
    attrs: dict[str, str] = field(default_factory=dict)


def _note(**attrs: str) -> dict[str, str]:
    return {"shape": "note", "style": "filled", "fillcolor": "#e8f1fb", "color": "#1565c0", **attrs}


def _box(**attrs: str) -> dict[str, str]:
    return {"shape": "box", "style": "rounded,filled", **attrs}


LOOKS: dict[str, Look] = {
    look.key: look
    for look in (
        Look("artifact", "node", "artifact version", _note()),
        Look(
            "artifact_served",
            "node",
            "artifact version\nserved from cache",
            _note(style="filled,dashed", fillcolor="#f3f3f3", color=_GREY),
        ),
        Look(
            "artifact_deleted",
            "node",
            "deleted artifact version",
            _note(style="filled,dotted", fillcolor="#eeeeee", fontcolor="#757575"),
        ),
        Look("step_completed", "node", "step run", _box(fillcolor="#e6f4ea", color="#2e7d32")),
        Look(
            "step_cached",
            "node",
            "cached step run",
            _box(style="rounded,filled,dashed", fillcolor="#f3f3f3", color=_GREY),
        ),
        Look(
            "step_failed",
            "node",
            "failed step run",
            _box(fillcolor="#fbe3e4", color="#c62828", fontcolor="#b71c1c", penwidth="2"),
        ),
        Look(
            "step_running", "node", "running step run", _box(fillcolor="#fff4d6", color="#ef6c00")
        ),
        Look(
            "step_interrupted",
            "node",
            "interrupted step run",
            _box(fillcolor="#eeeeee", color="#8d6e63", fontcolor="#5d4037"),
        ),
        Look("run", "node", "pipeline run (none of its steps shown)", {"shape": "folder"}),
        Look(
            "frame",
            "frame",
            "frame: one pipeline run",
            {"style": "rounded", "color": "#9e9e9e", "penwidth": "1"},
        ),
        Look(
            "root",
            "border",
            "thick border: the root,\nwhat was asked about",
            {"penwidth": "3", "color": "#212121"},
        ),
        Look("flow", "edge", "consumed / produced", {"color": "#424242"}),
        Look(
            "cache",
            "edge",
            "original to cache hit",
            {"style": "dotted", "color": _GREY, "constraint": "false", "penwidth": "1.5"},
        ),
    )
}
"""Every look, in the order the legend lists them."""


def step_look(attributes: dict[str, Any]) -> Look:
    """Return the look of a step run from its status and cache outcome.

    Examples:
        >>> step_look({"status": "cached", "cache_outcome": "hit"}).key
        'step_cached'
        >>> step_look({"status": "failed", "cache_outcome": "miss"}).key
        'step_failed'

    """
    status = str(attributes.get("status") or "running")
    if status == "failed":
        return LOOKS["step_failed"]
    if status in ("running", "started"):
        return LOOKS["step_running"]
    if status == "interrupted":
        return LOOKS["step_interrupted"]
    if attributes.get("cache_outcome") == "hit":
        return LOOKS["step_cached"]
    return LOOKS["step_completed"]


def artifact_look(*, deleted: bool, served: bool) -> Look:
    """Return the look of an artifact version: deleted, served again by a cache hit, or made."""
    if served:
        return LOOKS["artifact_served"]
    return LOOKS["artifact_deleted" if deleted else "artifact"]
