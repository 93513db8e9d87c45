"""``lineagelog graph RUN``: a run's step DAG with the artifacts it read and wrote."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.lineage import FORMATS, Collapse, NoLegend, OutputFile, Rankdir
from lineagelog.api.cli.output import JsonFlag

__all__ = ["graph"]


@app.command("graph")
def graph(
    run: Annotated[
        str,
        typer.Argument(
            metavar="RUN", help="A run id, a unique id prefix (4+ characters), or a run name."
        ),
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help=f"Output: {', '.join(FORMATS)} (default dot, or from -o).",
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
    """Draw a run's step DAG with its input and output artifacts (DOT on stdout by default).

    Cache hits are dashed; what they served is drawn again in the run, dotted to its original.

    Failed steps are red; the legend lists only the looks the diagram uses.

    For example:

      lineagelog graph 34b2b35a -o run.svg

      lineagelog graph 34b2b35a | dot -Tpng > run.png
    """
    from lineagelog.api.cli.lineage import choose_format, diagram_options, write_lineage
    from lineagelog.api.cli.session import open_client

    chosen = choose_format(fmt, output, "dot", as_json=as_json)
    options = diagram_options(rankdir, collapse, no_legend)
    client = open_client(database_url, artifact_store)
    found = client.get_pipeline_run(run)  # an unknown run is a RunNotFoundError naming it
    lineage = client.lineage(str(found.id), "both", depth=1)
    title = f"run {found.pipeline_name} / {found.run_name} ({str(found.id)[:8]}): {found.status}"
    options = replace(options, title=title)
    written = write_lineage(lineage, chosen, output, options, f"run-{str(found.id)[:8]}")
    if written is not None:
        typer.echo(f"run graph written to {written}")
