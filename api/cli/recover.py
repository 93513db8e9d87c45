"""``lineagelog runs recover``: mark runs whose process vanished as interrupted."""

from __future__ import annotations

from typing import Annotated

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl
from lineagelog.api.cli.output import JsonFlag
from lineagelog.api.cli.runs import runs_app

__all__ = ["recover_runs"]


@runs_app.command("recover")
def recover_runs(
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0,
            help="Seconds without an event after which a run started on another host "
            "counts as interrupted. Without it such runs are reported unknown.",
        ),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Append the interruption events (default: dry run).")
    ] = False,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Find running runs whose process is gone and mark them interrupted (dry run unless --apply).

    A run started on this host is interrupted when its process no longer exists.
    A run started on another host is interrupted only when --timeout is given and
    its last event is older than that; otherwise it is reported, never guessed.
    """
    from lineagelog.api.cli.output import emit_json, format_duration, print_table, short_id
    from lineagelog.api.cli.session import open_client

    client = open_client(database_url, artifact_store)
    report = client.recover_runs(timeout=timeout, apply=apply)
    if as_json:
        emit_json(
            {
                "applied": report.applied,
                "timeout_s": report.timeout,
                "runs": [d.as_dict() for d in report.decisions],
            }
        )
        return
    print_table(
        None,
        ["RUN", "PIPELINE", "HOST", "PID", "IDLE", "VERDICT", "WHY"],
        [
            (
                short_id(d.run_id),
                d.pipeline,
                d.host or "-",
                d.pid if d.pid is not None else "-",
                format_duration(d.idle_s),
                ("marked " if d.marked else "") + d.verdict,
                d.reason,
            )
            for d in report.decisions
        ],
        empty="no running runs; nothing to recover",
    )
    found = len(report.interrupted)
    if found and not apply:
        typer.echo(
            f"{found} run(s) would be marked interrupted; run again with --apply to mark them"
        )
    elif found:
        marked = sum(1 for d in report.decisions if d.marked)
        typer.echo(f"marked {marked} run(s) interrupted")
    if report.unknown:
        typer.echo(
            f"{len(report.unknown)} run(s) started on another host: give --timeout SECONDS "
            "to judge them by their last event"
        )
