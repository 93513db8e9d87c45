"""``lineagelog audit [seal]``: prove the log and the artifacts were not altered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.help_format import CommandGroup
from lineagelog.api.cli.output import JsonFlag

if TYPE_CHECKING:
    from lineagelog.adapters.audit import AuditReport

__all__ = ["audit_app"]

AnchorOption = Annotated[
    str | None,
    typer.Option(
        "--anchor",
        metavar="FILE",
        help="Also prove the log still holds every seal anchored in FILE (a path or fsspec URL "
        "written by `lineagelog audit seal --anchor`).",
    ),
]

audit_app = CommandGroup(
    help="Verify the event log's hash chains and seals, and every artifact's bytes; "
    "`audit seal` seals the log on demand.",
    invoke_without_command=True,
)
app.add_typer(audit_app, name="audit")


@audit_app.callback()
def audit(
    ctx: typer.Context,
    no_artifacts: Annotated[
        bool, typer.Option("--no-artifacts", help="Check only the log, not the artifacts' bytes.")
    ] = False,
    views: Annotated[
        bool,
        typer.Option(
            "--views/--no-views",
            help="Compare the views row for row with a rebuild from the log (a full rebuild "
            "into a scratch database).",
        ),
    ] = True,
    anchor: AnchorOption = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Check every event and seal, the artifacts and the views; exit 1 and list any problem."""
    if ctx.invoked_subcommand is not None:
        return
    from lineagelog.api.audit import audit as run_audit
    from lineagelog.api.cli.output import emit_json
    from lineagelog.api.cli.session import open_context_for

    context = open_context_for(database_url, artifact_store, catch_up=False)
    report = run_audit(context, verify_artifacts=not no_artifacts, views=views, anchor=anchor)
    if as_json:
        emit_json({**_as_dict(report), "ok": report.ok})
    else:
        _print(report, artifacts=not no_artifacts)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("seal")
def seal(
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            metavar="FILE",
            help="Also append the seal as one JSON line to FILE (a path or fsspec URL such as "
            "s3://bucket/anchors.jsonl), kept outside the log.",
        ),
    ] = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Seal every event recorded so far (runs also seal themselves when they end)."""
    from lineagelog.api.audit import seal as run_seal
    from lineagelog.api.cli.output import emit_json
    from lineagelog.api.cli.session import open_context_for

    result = run_seal(open_context_for(database_url, artifact_store, catch_up=False), anchor=anchor)
    if as_json:
        emit_json({**_as_dict(result), "written": result.written})
        return
    if result.written:
        typer.echo(
            f"sealed {result.event_count} events up to position {result.up_to_position} "
            f"(seal at position {result.position}): sha256 {result.digest}"
        )
    else:
        typer.echo(
            f"nothing new to seal: the last seal covers {result.event_count} events up to "
            f"position {result.up_to_position}: sha256 {result.digest}"
        )
    if anchor is not None:
        typer.echo(f"anchored in {anchor}")


def _as_dict(value: object) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(value)  # type: ignore[call-overload,no-any-return]


def _print(report: AuditReport, *, artifacts: bool) -> None:
    from lineagelog.api.cli.output import printable

    what = f"{report.events_checked} events, {report.seals_checked} seals"
    if artifacts:
        what += f", {report.artifacts_checked} artifacts"
    if report.anchors_checked:
        what += f", {report.anchors_checked} anchors"
    if report.views_position is not None:
        what += f", the views at position {report.views_position}"
    if report.ok:
        typer.echo(f"audit passed: {what} verified in {report.seconds:.2f}s")
    else:
        typer.echo(f"audit FAILED: {len(report.problems)} problem(s) in {what}")
        for p in report.problems:
            typer.echo(f"  [{p.kind}] {printable(p.message)}")
        if report.problems_truncated:
            typer.echo("  ... more problems were found; only the first ones are listed")
    if report.unsealed_tail:
        typer.echo(
            f"{report.unsealed_tail} event(s) after the last seal can only be chain-checked; "
            "seal them with `lineagelog audit seal`"
        )
    typer.echo(f"log digest: sha256 {report.digest}")
