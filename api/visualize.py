"""Showing an artifact version's visualizations: rich in Jupyter, as paths elsewhere.

Inside IPython (a Jupyter kernel, the IPython shell) each visualization goes
through ``IPython.display``: HTML as ``text/html``, Markdown as
``text/markdown``, images as ``image/png`` (``image/svg+xml`` for ``.svg``),
CSV as an HTML table, JSON as ``application/json``. Anywhere else the files'
paths are printed, so a script or a terminal can open them. IPython is
detected lazily: importing this module never imports it.
"""

from __future__ import annotations

import csv
import html
import io
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lineagelog.domain.errors import ArtifactNotFoundError

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = ["csv_to_html", "in_ipython", "visualize"]

_CSV_MAX_ROWS = 50


def in_ipython() -> bool:
    """Whether code runs inside an IPython shell or kernel (without importing IPython)."""
    module = sys.modules.get("IPython")
    if module is None:
        return False
    get_ipython = getattr(module, "get_ipython", None)
    return get_ipython is not None and get_ipython() is not None


def visualize(
    store: ArtifactStore,
    visualizations: Sequence[dict[str, str]],
    *,
    label: str,
    deleted: bool = False,
    echo: Callable[[str], Any] = print,
) -> None:
    """Display ``visualizations`` (``{"uri", "type"}`` dicts) of the artifact ``label``.

    Args:
        store: the artifact store holding the files.
        visualizations: as recorded with the version (``ArtifactVersion.visualizations``).
        label: ``name:version``, used in headings and messages.
        deleted: whether the version was deleted (its files are gone).
        echo: where the paths go outside IPython.

    Raises:
        ArtifactNotFoundError: when the version was deleted.

    """
    if deleted:
        raise ArtifactNotFoundError(
            f"artifact {label} was deleted, so its visualizations are gone; "
            "visualize a version that is not deleted"
        )
    if not visualizations:
        echo(f"{label} has no visualizations")
        return
    if in_ipython():
        from IPython.display import display

        for vis in visualizations:
            display(_displayable(store, vis))
        return
    echo(f"visualizations of {label}:")
    for vis in visualizations:
        uri = store.locate(vis["uri"])
        echo(f"  {vis['type']:<9} {store.local_path(uri) or uri}")


def _displayable(store: ArtifactStore, vis: dict[str, str]) -> Any:
    from IPython.display import HTML, JSON, SVG, Image, Markdown

    uri, kind = store.locate(vis["uri"]), vis["type"]
    if kind == "image":
        data = store.read_bytes(uri)
        if uri.lower().endswith(".svg"):
            return SVG(data=data.decode("utf-8"))
        return Image(data=data, format="jpeg" if uri.lower().endswith((".jpg", ".jpeg")) else "png")
    text = store.read_text(uri)
    if kind == "html":
        return HTML(text)
    if kind == "markdown":
        return Markdown(text)
    if kind == "csv":
        return HTML(csv_to_html(text))
    if kind == "json":
        return JSON(json.loads(text))
    return HTML(f"<pre>{html.escape(text)}</pre>")


def csv_to_html(text: str, max_rows: int = _CSV_MAX_ROWS) -> str:
    r"""Render CSV text as an HTML table (first row as header), escaping every cell.

    Examples:
        >>> csv_to_html("a\n<1>\n")
        '<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;1&gt;</td></tr></tbody></table>'

    """
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return "<table></table>"
    head, body = rows[0], rows[1:]
    more = len(body) - max_rows
    cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    lines = [
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in body[:max_rows]
    ]
    table = f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(lines)}</tbody></table>"
    return table + (f"<p>... {more} more rows</p>" if more > 0 else "")
