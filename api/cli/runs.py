"""``lineagelog runs list|show``: pipeline runs and their steps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lineagelog.api.cli.common import MAX_COUNT, ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.help_format import CommandGroup
from lineagelog.api.cli.output import JsonFlag
from lineagelog.api.json_shapes import run_seconds, run_summary
from lineagelog.projections.choices import RUN_STATUSES

if TYPE_CHECKING:
    from lineagelog.api.models import Run, StepRun

__all__ = ["run_summary", "runs_app"]

runs_app = CommandGroup(
    help="Pipeline runs: list them, show one with its steps, cache outcomes and artifacts, "
    "tag and untag them, recover runs whose process is gone.",
    no_args_is_help=True,
)
app.add_typer(runs_app, name="runs")

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@runs_app.command("list")
def list_runs(
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Only runs of this pipeline.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", "-s", help=f"Only runs with this status ({', '.join(RUN_STATUSES)})."
        ),
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", "-t", help="Only runs with this tag.")] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", min=1, max=MAX_COUNT, help="Show at most N runs, newest first."
        ),
    ] = 20,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """List pipeline runs, newest first."""
    from lineagelog.api.cli.output import (
        emit_json,
        format_duration,
        format_time,
        print_table,
    )
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    runs = client.list_runs(pipeline=pipeline, status=status, limit=limit, tag=tag)
    if as_json:
        emit_json([run_summary(r) for r in runs])
        return
    print_table(
        None,
        ["RUN", "PIPELINE", "NAME", "STATUS", "STEPS", "CACHED", "STARTED", "DURATION", "TAGS"],
        [
            (
                str(r.id)[:8],
                r.pipeline_name,
                r.run_name,
                r.status,
                len(r.steps),
                sum(1 for s in r.steps.values() if s.cache_hit),
                format_time(r.started_at),
                format_duration(run_seconds(r)),
                ", ".join(r.tags) or "-",
            )
            for r in runs
        ],
        empty="no runs match"
        if pipeline or status or tag
        else "no runs yet; try `lineagelog demo`",
    )


_RunArgument = Annotated[
    str, typer.Argument(metavar="RUN", help="A run id, a unique id prefix, or a run name.")
]


@runs_app.command("tag")
def tag_run(
    run: _RunArgument,
    tags: Annotated[list[str], typer.Argument(metavar="TAG...", help="Tags to add.")],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Add tags to a run (recorded as events; an exclusive tag leaves its other run)."""
    _change_tags(run, tags, as_json, database_url, artifact_store, add=True)


@runs_app.command("untag")
def untag_run(
    run: _RunArgument,
    tags: Annotated[list[str], typer.Argument(metavar="TAG...", help="Tags to remove.")],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Remove tags from a run (recorded as events)."""
    _change_tags(run, tags, as_json, database_url, artifact_store, add=False)


def _change_tags(
    run: str,
    tags: list[str],
    as_json: bool,
    database_url: str | None,
    artifact_store: str | None,
    *,
    add: bool,
) -> None:
    from lineagelog.api.cli.output import emit_json
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    found = client.get_run(run)
    run_id = str(found.id)
    change = client.tag_run if add else client.untag_run
    found = change(run_id, *tags)  # one append for all of them
    if as_json:
        emit_json({"id": found.id, "run_name": found.run_name, "tags": list(found.tags)})
        return
    typer.echo(f"{found.run_name} tags: {', '.join(found.tags) or '-'}")


@runs_app.command("show")
def show_run(
    run: Annotated[
        str,
        typer.Argument(
            metavar="RUN", help="A run id, a unique id prefix (4+ characters), or a run name."
        ),
    ],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Show one run: each step's status, duration, cache outcome and reason, inputs, outputs."""
    from lineagelog.api.cli.output import emit_json
    from lineagelog.api.cli.session import open_client
    from lineagelog.api.json_shapes import run_detail

    client = open_client(database_url, artifact_store)
    found = client.get_pipeline_run(run)
    if as_json:
        emit_json(run_detail(found))
        return
    _print_run(found)


def _worker_cell(s: StepRun) -> str:
    """``tcp://10.0.0.5:4001``, with the attempts when a worker was lost (``(2 attempts)``)."""
    if not s.attempts:
        return "-"
    more = f" ({len(s.attempts)} attempts)" if len(s.attempts) > 1 else ""
    return f"{s.attempts[-1].worker}{more}"


def _executor_line(r: Run) -> str:
    """Where the steps ran: ``local, on host (pid 42)`` or ``dask tcp://...``; '' if unrecorded."""
    places = sorted(
        {(s.executor, s.started_worker) for s in r.steps.values() if s.executor is not None},
        key=str,
    )
    return ", ".join(f"{e}, on {w}" if w else e for e, w in places)


def _artifact_ref(v: Any) -> dict[str, Any]:
    return {"id": v.id, "name": v.name, "version": v.version}


def _print_run(r: Run) -> None:
    from rich.markup import escape
    from rich.table import Table

    from lineagelog.api.cli.output import console, format_duration, format_time, printable

    out = console()
    colour = {"completed": "green", "failed": "red", "running": "yellow"}.get(r.status, "white")
    out.print(
        f"[bold]{escape(printable(r.pipeline_name))} / {escape(printable(r.run_name))}[/bold]"
    )
    out.print(f"  id        {r.id}", markup=False)
    out.print(f"  status    [{colour}]{r.status}[/{colour}]")
    out.print(
        f"  started   {format_time(r.started_at)}   duration {format_duration(run_seconds(r))}"
    )
    if r.tags:
        out.print(f"  tags      {printable(', '.join(r.tags))}", markup=False)
    if r.parameters:
        params = ", ".join(f"{k}={v!r}" for k, v in r.parameters.items())
        out.print(f"  params    {printable(params)}", markup=False)
    if r.failed_step:
        out.print(f"  failed    step {printable(f'{r.failed_step}: {r.error}')}", markup=False)
    executor = _executor_line(r)
    if executor:
        out.print(f"  executor  {printable(executor)}", markup=False)
    table = Table(show_edge=False, pad_edge=False, title_justify="left")
    # Where each step ran, for runs whose steps went to an executor's workers.
    on_workers = any(s.attempts for s in r.steps.values())
    columns = ("STEP", "ID", "STATUS", "DURATION", "CACHE", "INPUTS", "OUTPUTS")
    for column in (*columns[:3], "WORKER", *columns[3:]) if on_workers else columns:
        table.add_column(column, overflow="fold")
    for s in r.steps.values():
        style = {"failed": "red", "cached": "dim", "running": "yellow"}.get(s.status, "")
        cache = s.cache_outcome or "-"
        if s.cache_reason:
            cache += f": {_UUID.sub(lambda m: m.group(0)[:8], s.cache_reason)}"
        where = [_worker_cell(s)] if on_workers else []
        table.add_row(
            escape(printable(s.name)),
            str(s.id)[:8],
            f"[{style}]{s.status}[/{style}]" if style else s.status,
            *where,
            format_duration(s.duration_s),
            escape(printable(cache)),
            escape(printable(_versions(s.inputs))),
            escape(printable(_versions(s.outputs))),
        )
    out.print()
    out.print(table)
    for s in r.steps.values():
        if s.status == "failed":
            error = escape(printable(f"{s.error_type}: {s.error_message}"))
            out.print(f"\n[red]{escape(printable(s.name))} failed:[/red] {error}")


def _versions(versions: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v.name}:{v.version}" for k, v in versions.items()) or "-"
