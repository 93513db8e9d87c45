"""``lineagelog projections status|rebuild``: the views and where they stand on the log.

Other command modules add their commands to ``projections_app`` (``run``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.help_format import CommandGroup
from lineagelog.api.cli.output import JsonFlag
from lineagelog.domain.errors import LineageError

if TYPE_CHECKING:
    from lineagelog.projections.projector import Projector

__all__ = ["projections_app"]

projections_app = CommandGroup(
    help="The views built from the event log: their status (how far behind they are), "
    "rebuild them, run the projection process that keeps them current.",
    no_args_is_help=True,
)
app.add_typer(projections_app, name="projections")


@projections_app.command("status")
def status(
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Show each view's position on the log and how many events it lags behind."""
    from lineagelog.api.cli.output import emit_json, print_table
    from lineagelog.api.cli.session import open_context_for

    context = open_context_for(database_url, artifact_store, catch_up=False)
    rows = context.projector.status()
    if as_json:
        emit_json(
            [
                {
                    "view": s.view,
                    "position": s.position,
                    "log_position": s.log_position,
                    "lag": s.lag,
                }
                for s in rows
            ]
        )
        return
    print_table(
        None,
        ["VIEW", "POSITION", "LOG", "LAG"],
        [(s.view, s.position, s.log_position, s.lag) for s in rows],
        empty="no views",
    )
    from lineagelog.api.cli.openlineage import delivery_lines

    for line in delivery_lines(context.engine):
        typer.echo(line)


@projections_app.command("rebuild")
def rebuild(
    views: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[VIEW]...",
            help="Views to rebuild; all of them when left out.",
            show_default=False,
        ),
    ] = None,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help=(
                "Load copies of the views beside the live ones in short transactions and "
                "switch them in at the end: pipelines keep writing and queries answer from "
                "the old views meanwhile. Slower; a rerun resumes one cut short."
            ),
        ),
    ] = False,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Drop the views and replay the whole event log into them, with a progress bar.

    Offline (the default) the views are loaded in bulk, holding the database's write
    lock for long stretches; ``--online`` keeps writers and readers going.
    """
    from lineagelog.api.cli.output import emit_json
    from lineagelog.api.cli.session import open_context_for
    from lineagelog.projections.views import VIEWS

    chosen = tuple(views) if views else tuple(VIEWS)
    unknown = [v for v in chosen if v not in VIEWS]
    if unknown:
        raise LineageError(f"unknown view {unknown[0]!r}; the views are: {', '.join(VIEWS)}")
    context = open_context_for(database_url, artifact_store, catch_up=False)
    if as_json:
        count, seconds = context.projector.rebuild(chosen, online=online)
    else:
        count, seconds = _rebuild_with_progress(context.projector, chosen, online)
    rate = count / seconds if seconds > 0 else 0.0
    if as_json:
        emit_json(
            {
                "views": list(chosen),
                "online": online,
                "events": count,
                "seconds": round(seconds, 3),
                "events_per_second": round(rate),
            }
        )
        return
    how = " online" if online else ""
    typer.echo(
        f"rebuilt {', '.join(chosen)}{how} from {count} events in {seconds:.2f}s "
        f"({rate:,.0f} events/s)"
    )


def _rebuild_with_progress(
    projector: Projector, views: tuple[str, ...], online: bool
) -> tuple[int, float]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from lineagelog.api.cli.output import console

    columns = (
        TextColumn("[bold]rebuilding[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console(), transient=True) as bar:
        task = bar.add_task("rebuild", total=None, rate="")

        def advance(done: int, total: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{done / elapsed:,.0f} events/s" if elapsed > 0 else ""
            bar.update(task, completed=done, total=total, rate=rate)

        return projector.rebuild(views, progress=advance, online=online)
