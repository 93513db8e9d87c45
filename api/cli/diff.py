"""``lineagelog diff A B``: two runs step by step, or two artifact versions to their root causes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.lineage import OutputFile, Rankdir, choose_format
from lineagelog.domain.errors import InvalidComparisonError, LineageError

if TYPE_CHECKING:
    from lineagelog.api.client import Client


@app.command("diff")
def diff(
    first: Annotated[
        str,
        typer.Argument(
            metavar="A",
            help="The baseline: a run (id, unique prefix, name) or an artifact version "
            "(NAME:VERSION, NAME, id).",
        ),
    ],
    second: Annotated[str, typer.Argument(metavar="B", help="What to compare with A.")],
    runs: Annotated[bool, typer.Option("--runs", help="A and B are runs.")] = False,
    artifacts: Annotated[
        bool, typer.Option("--artifacts", help="A and B are artifact versions.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="TIME|POSITION", help="Compare as of an ISO time or a log position."
        ),
    ] = None,
    no_values: Annotated[
        bool, typer.Option("--no-values", help="Do not load small JSON-like values to compare.")
    ] = False,
    output: OutputFile = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="text, json, dot, svg, png or pdf (or from -o).",
        ),
    ] = None,
    rankdir: Rankdir = "LR",
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Compare two runs, or trace two artifact versions to the root causes of their difference.

    For example:

      lineagelog diff 3f2a9c1e 77b0d4aa           # two runs: every step, what differs

      lineagelog diff model:2 model:3             # why model 3 differs from model 2

      lineagelog diff model:2 model:3 -o diff.svg # the aligned histories, drawn
    """
    from lineagelog.api.cli.session import open_client, parse_as_of
    from lineagelog.api.diffing import comparison_kind
    from lineagelog.projections.references import References

    if runs and artifacts:
        raise InvalidComparisonError("choose one of --runs and --artifacts")
    chosen = (
        "json" if as_json and fmt is None and output is None else choose_format(fmt, output, "text")
    )
    if as_json and chosen != "json":
        raise LineageError(f"--json and format {chosen!r} disagree; give one of them")
    client = open_client(database_url, artifact_store)
    at = parse_as_of(as_of)
    if at is not None:
        client = client.as_of(at)
    kind = "runs" if runs else "artifacts" if artifacts else None
    if kind is None:
        references = References(client.context.queries, client.as_of_position)
        kind = comparison_kind(references, first, second)
    _write(client, kind, first, second, chosen, output, rankdir, not no_values)


def _write(
    client: Client,
    kind: str,
    first: str,
    second: str,
    fmt: str,
    output: Path | None,
    rankdir: str,
    values: bool,
) -> None:
    import io
    import json

    from rich.console import Console

    from lineagelog.adapters.graphviz import render_dot
    from lineagelog.api.cli.diff_text import print_artifact_comparison, print_run_comparison
    from lineagelog.api.cli.lineage import diagram_options
    from lineagelog.api.cli.output import console
    from lineagelog.api.diff_json import artifact_comparison_dict, run_comparison_dict
    from lineagelog.projections.diff_diagram import comparison_dot, run_comparison_dot

    direction = diagram_options(rankdir, False, False).rankdir
    data: str | bytes
    as_dict: Callable[[], dict[str, Any]]
    dot: Callable[[], str]
    text: Callable[[Console], None]
    if kind == "runs":
        runs = client.diff_runs(first, second)
        as_dict = partial(run_comparison_dict, runs)
        dot = partial(run_comparison_dot, runs, direction)
        text = partial(print_run_comparison, comparison=runs)
    else:
        versions = client.diff_artifacts(first, second, compare_values=values)
        as_dict = partial(artifact_comparison_dict, versions)
        dot = partial(comparison_dot, versions, direction)
        text = partial(print_artifact_comparison, comparison=versions)
    if fmt == "text" and output is None:
        text(console())
        return
    if fmt == "text":
        buffer = io.StringIO()
        text(Console(file=buffer, width=120, no_color=True, highlight=False))
        data = buffer.getvalue()
    elif fmt == "json":
        data = json.dumps(as_dict(), indent=2, default=str) + "\n"
    elif fmt == "dot":
        data = dot()
    else:
        data = render_dot(dot(), fmt)
        if output is None:
            output = Path(f"diff.{fmt}")
    if output is None:
        typer.echo(data if isinstance(data, str) else data.decode(), nl=False)
        return
    try:
        if isinstance(data, str):
            output.write_text(data, encoding="utf-8")
        else:
            output.write_bytes(data)
    except OSError as e:
        raise LineageError(f"cannot write {str(output)!r}: {e.strerror or e}") from e
    typer.echo(f"comparison written to {output}")
