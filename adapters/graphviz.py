"""Rendering lineage diagrams with the Graphviz ``dot`` program (SVG, PNG, PDF).

How a diagram is drawn is decided in ``lineagelog.projections.diagram`` (re-exported
here); this module runs ``dot`` over its text. Building DOT text needs only the
``graphviz`` Python package; rendering needs the ``dot`` program, and its absence
is a ``GraphvizNotFoundError`` saying how to install it.
"""

from __future__ import annotations

from lineagelog.domain.errors import (
    DiagramRenderError,
    GraphvizNotFoundError,
    UnknownFormatError,
)
from lineagelog.projections.diagram import DiagramOptions, lineage_diagram, lineage_dot

__all__ = [
    "RENDERED_FORMATS",
    "DiagramOptions",
    "DiagramRenderError",
    "GraphvizNotFoundError",
    "UnknownFormatError",
    "lineage_diagram",
    "lineage_dot",
    "render_dot",
]

RENDERED_FORMATS: tuple[str, ...] = ("svg", "png", "pdf")
"""Formats ``dot`` renders; ``dot`` itself is DOT text and needs no program."""

_INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install "
    "graphviz`, conda: `conda install graphviz`), or write DOT text with `--format dot`, "
    "which needs no Graphviz"
)


def render_dot(source: str, fmt: str) -> bytes:
    """Render DOT text to ``fmt`` (``svg``, ``png`` or ``pdf``) with the ``dot`` program.

    Raises:
        UnknownFormatError: ``fmt`` is not one of ``RENDERED_FORMATS``.
        GraphvizNotFoundError: ``dot`` is not installed (or not on PATH).
        DiagramRenderError: ``dot`` rejected the input.

    """
    import graphviz

    if fmt not in RENDERED_FORMATS:
        raise UnknownFormatError(
            f"cannot render format {fmt!r}; Graphviz renders {', '.join(RENDERED_FORMATS)} "
            "here, and `dot` gives the DOT text"
        )
    try:
        return bytes(graphviz.Source(source).pipe(format=fmt))
    except graphviz.ExecutableNotFound as e:
        raise GraphvizNotFoundError(
            f"rendering {fmt} needs the Graphviz `dot` program, which is not on PATH; "
            + _INSTALL_HINT
        ) from e
    except graphviz.CalledProcessError as e:
        detail = (e.stderr or b"").decode(errors="replace").strip().splitlines()
        raise DiagramRenderError(
            f"Graphviz `dot` failed to render {fmt}: {detail[0] if detail else e}; "
            "write the DOT text with `--format dot` to inspect it"
        ) from e
