"""Lineage diagrams to download: the CLI's Graphviz drawing, as SVG or DOT."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from fastapi.responses import Response

if TYPE_CHECKING:
    from lineagelog.projections.lineage import LineageGraph

__all__ = ["DiagramFormat", "diagram_response"]

DiagramFormat = Literal["svg", "dot"]
_MEDIA = {"svg": "image/svg+xml", "dot": "text/vnd.graphviz; charset=utf-8"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def diagram_response(
    graph: LineageGraph, fmt: DiagramFormat, name: str, title: str | None = None
) -> Response:
    """The diagram of ``graph`` (``projections.diagram``; SVG rendered by ``dot``), as a file.

    Raises:
        GraphvizNotFoundError: SVG was asked for and ``dot`` is not installed.

    """
    from lineagelog.adapters.graphviz import DiagramOptions, lineage_dot, render_dot

    text = lineage_dot(graph, DiagramOptions(title=title))
    body = text.encode() if fmt == "dot" else render_dot(text, "svg")
    filename = f"{_SAFE_NAME.sub('_', name)}.{fmt}"
    return Response(
        body,
        media_type=_MEDIA[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            # an SVG opened on its own runs no script and loads nothing
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        },
    )
