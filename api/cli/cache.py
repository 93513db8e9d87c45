"""``lineagelog cache explain|list``: every cache decision and why it was made."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from lineagelog.api.cli.common import MAX_COUNT, ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.help_format import CommandGroup
from lineagelog.api.cli.output import JsonFlag
from lineagelog.api.json_shapes import cache_explanation, compare_ingredients
from lineagelog.projections.choices import CACHE_OUTCOMES, check_choice

__all__ = ["cache_app", "compare_ingredients"]

cache_app = CommandGroup(
    help="Cache decisions: list which steps were served from cache and which ran again, "
    "explain why.",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@cache_app.command("explain")
def explain(
    step_run: Annotated[
        str,
        typer.Argument(
            metavar="STEP_RUN", help="A step run id or a unique id prefix (4+ characters)."
        ),
    ],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Explain a cache decision: the reason, each ingredient beside the execution compared."""
    from lineagelog.api.cli.output import emit_json
    from lineagelog.api.cli.session import open_client

    result = cache_explanation(open_client(database_url, artifact_store), step_run)
    if as_json:
        emit_json(result)
        return
    _print_explanation(result)


def _print_explanation(r: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from lineagelog.api.cli.output import console, printable

    out = console()
    colour = {"hit": "green", "miss": "yellow", "disabled": "dim"}.get(str(r["outcome"]), "white")
    step = escape(printable(r["step"]))
    out.print(f"[bold]{step}[/bold] step run {r['step_run_id']} of run {r['run_id']}")
    out.print(f"  decision   [{colour}]{r['outcome'] or 'none recorded'}[/{colour}]")
    out.print(f"  reason     {escape(printable(r['reason'] or '-'))}")
    out.print(f"  cache key  {r['cache_key'] or '-'}")
    compared = r["compared_with"]
    out.print(
        f"  compared   {'step run ' + compared if compared else 'nothing: no earlier execution'}"
    )
    if not any(row["this"] is not None for row in r["ingredients"]):
        out.print("  no ingredients were recorded (caching was off for this step)")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("INGREDIENT", "THIS EXECUTION", "COMPARED WITH", ""):
        table.add_column(column, overflow="fold")
    for row in r["ingredients"]:
        mark = "[green]same[/green]" if row["same"] else "[yellow]differs[/yellow]"
        if compared is None:
            mark = ""
        table.add_row(escape(row["ingredient"]), _cell(row["this"]), _cell(row["compared"]), mark)
    out.print()
    out.print(table)


def _cell(value: Any) -> str:
    from rich.markup import escape

    from lineagelog.api.cli.output import printable
    from lineagelog.domain.cache import shown_value

    if value is None:
        return "-"
    text = shown_value(value) if not isinstance(value, str) else value
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        text = text[:16] + "..."  # a sha256: the start is enough to tell two apart
    return escape(printable(text if len(text) <= 60 else text[:57] + "..."))


@cache_app.command("list")
def list_decisions(
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Only steps of this pipeline.")
    ] = None,
    outcome: Annotated[
        str | None, typer.Option(help=f"Only this outcome ({', '.join(CACHE_OUTCOMES)}).")
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=1, max=MAX_COUNT, help="Show at most N decisions, newest first."
        ),
    ] = 50,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """List cache decisions, newest first: step run, outcome, reason and cache key."""
    from lineagelog.api.cli.output import emit_json, print_table
    from lineagelog.api.cli.session import open_context_for

    check_choice("cache outcome", outcome, CACHE_OUTCOMES)  # as Client.list_step_runs does
    context = open_context_for(database_url, artifact_store)
    steps = [
        s
        for s in context.queries.list_step_runs(pipeline=pipeline, cache_outcome=outcome)
        if s.cache_outcome is not None
    ][:limit]
    if as_json:
        emit_json(
            [
                {
                    "step_run_id": s.id,
                    "run_id": s.run_id,
                    "pipeline": s.pipeline,
                    "step": s.name,
                    "outcome": s.cache_outcome,
                    "reason": s.cache_reason,
                    "cache_key": s.cache_key,
                    "original_step_run_id": s.original_step_run_id,
                    "started_at": s.started_at,
                }
                for s in steps
            ]
        )
        return
    print_table(
        None,
        ["STEP RUN", "STEP", "RUN", "OUTCOME", "REASON", "KEY"],
        [
            (
                s.id[:8],
                s.name,
                s.run_id[:8],
                s.cache_outcome,
                _UUID.sub(lambda m: m.group(0)[:8], s.cache_reason or "-"),
                (s.cache_key or "-")[:12],
            )
            for s in steps
        ],
        empty="no cache decisions match" if pipeline or outcome else "no cache decisions yet",
    )
