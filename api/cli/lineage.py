"""``lineagelog lineage NODE``: what a node came from and what came of it, as text or a diagram."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lineagelog.api.cli.common import MAX_COUNT, ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.output import JsonFlag
from lineagelog.domain.errors import LineageError

if TYPE_CHECKING:
    from lineagelog.adapters.graphviz import DiagramOptions
    from lineagelog.projections.lineage import LineageGraph

__all__ = ["FORMATS", "choose_format", "write_lineage"]

FORMATS: tuple[str, ...] = ("text", "json", "dot", "svg", "png", "pdf")
_SUFFIXES = {
    ".txt": "text",
    ".json": "json",
    ".dot": "dot",
    ".gv": "dot",
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
}
_BINARY = ("png", "pdf")

OutputFile = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to FILE (format from its suffix unless --format is given).",
        dir_okay=False,
        metavar="FILE",
    ),
]
Rankdir = Annotated[
    str, typer.Option("--rankdir", help="Diagram layout: LR (left to right) or TB (top to bottom).")
]
Collapse = Annotated[
    bool,
    typer.Option("--collapse", help="Draw repeated invocations of a step in a run as one node."),
]
NoLegend = Annotated[bool, typer.Option("--no-legend", help="Leave the legend off the diagram.")]


def choose_format(
    fmt: str | None, output: Path | None, default: str, *, as_json: bool = False
) -> str:
    """Pick the output format: ``--json``, ``--format``, the output file's suffix, or ``default``.

    Raises:
        LineageError: an unknown format, a file suffix that names none, or
            ``--json`` with another ``--format``.

    """
    if as_json:
        if fmt is not None and fmt.strip().lower() != "json":
            raise LineageError(f"--json and --format {fmt} ask for two formats; pass one of them")
        return "json"
    if fmt is not None:
        chosen = fmt.strip().lower()
        if chosen not in FORMATS:
            raise LineageError(
                f"unknown format {fmt!r}; use one of {', '.join(FORMATS)} "
                "(dot, svg, png and pdf are Graphviz diagrams)"
            )
        return chosen
    if output is None:
        return default
    suffix = output.suffix.lower()
    if suffix not in _SUFFIXES:
        raise LineageError(
            f"cannot tell the format of {str(output)!r} from its suffix; pass --format "
            f"({', '.join(FORMATS)}) or use a .svg, .png, .pdf, .dot or .json file"
        )
    return _SUFFIXES[suffix]


def write_lineage(
    lineage: LineageGraph,
    fmt: str,
    output: Path | None,
    options: DiagramOptions,
    default_name: str,
) -> Path | None:
    """Write ``lineage`` as ``fmt`` to ``output`` (or stdout); return the file written.

    PNG and PDF never go to a terminal: without ``-o`` they are written to
    ``default_name`` plus the suffix in the current folder.
    """
    import json

    from lineagelog.adapters.graphviz import lineage_dot, render_dot
    from lineagelog.api.cli.lineage_text import lineage_tree
    from lineagelog.api.cli.output import printable

    data: bytes | str
    if fmt == "text":
        data = "\n".join(printable(line) for line in lineage_tree(lineage)) + "\n"
    elif fmt == "json":
        data = json.dumps(lineage.to_dict(), indent=2, default=str) + "\n"
    elif fmt == "dot":
        data = lineage_dot(lineage, options)
    else:
        data = render_dot(lineage_dot(lineage, options), fmt)
    if output is None and fmt in _BINARY:
        output = Path(f"{default_name}.{fmt}")
    if output is None:
        typer.echo(data if isinstance(data, str) else data.decode(), nl=False)
        return None
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            output.write_text(data, encoding="utf-8")
        else:
            output.write_bytes(data)
    except OSError as e:
        raise LineageError(f"cannot write {str(output)!r}: {e.strerror or e}") from e
    return output


def diagram_options(rankdir: str, collapse: bool, no_legend: bool) -> DiagramOptions:
    """Check ``--rankdir`` and bundle the diagram options."""
    from lineagelog.adapters.graphviz import DiagramOptions

    direction = rankdir.strip().upper()
    if direction not in ("LR", "TB", "RL", "BT"):
        raise LineageError(f"unknown --rankdir {rankdir!r}; use LR, TB, RL or BT")
    return DiagramOptions(rankdir=direction, collapse=collapse, legend=not no_legend)


@app.command("lineage")
def lineage(
    node: Annotated[
        str,
        typer.Argument(
            metavar="NODE",
            help="An artifact as NAME or NAME:VERSION, a run name, or an artifact version, "
            "step run or run id (a unique prefix of at least 4 characters will do).",
        ),
    ],
    upstream: Annotated[
        bool, typer.Option("--upstream", help="What NODE came from (the default).")
    ] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="What came of NODE.")] = False,
    both: Annotated[bool, typer.Option("--both", help="Upstream and downstream.")] = False,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth",
            "-d",
            min=0,
            max=MAX_COUNT,
            help="Follow at most N hops (artifact to step is one).",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="TIME|POSITION",
            help="The graph as it stood at an ISO time (UTC) or a log position.",
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help=f"Output: {', '.join(FORMATS)} (default text, or from -o).",
            metavar="FORMAT",
        ),
    ] = None,
    output: OutputFile = None,
    rankdir: Rankdir = "LR",
    collapse: Collapse = False,
    no_legend: NoLegend = False,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Show the lineage of an artifact, step run or run: a tree, JSON, or a Graphviz diagram.

    For example:

      lineagelog lineage model                      # where the latest model came from

      lineagelog lineage dataset:1 --downstream     # everything built from it

      lineagelog lineage model -o model.svg         # a diagram (needs Graphviz `dot`)

      lineagelog lineage model --format dot | dot -Tpng > model.png
    """
    from lineagelog.api.cli.session import open_client, parse_as_of

    if upstream + downstream + both > 1:
        raise LineageError("choose one of --upstream, --downstream and --both")
    direction = "downstream" if downstream else "both" if both else "upstream"
    chosen = choose_format(fmt, output, "text", as_json=as_json)
    options = diagram_options(rankdir, collapse, no_legend)
    client = open_client(database_url, artifact_store)
    at = parse_as_of(as_of)
    graph = client.lineage(node, direction, depth, as_of=at)
    written = write_lineage(graph, chosen, output, options, f"lineage-{graph.root[:8]}")
    if written is not None:
        what = "lineage diagram" if chosen in ("dot", "svg", "png", "pdf") else "lineage"
        typer.echo(f"{what} written to {written}")
