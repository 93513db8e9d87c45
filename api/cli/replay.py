"""``lineagelog replay --until ...``: runs and artifacts as they stood, from the raw log."""

from __future__ import annotations

from typing import Annotated

import typer

from lineagelog.api.cli.common import ArtifactStoreUrl, DatabaseUrl, app
from lineagelog.api.cli.output import JsonFlag

__all__ = ["replay"]


@app.command("replay")
def replay(
    until: Annotated[
        str,
        typer.Option(
            "--until",
            help="A log position (e.g. 42) or an ISO time (e.g. 2024-05-01T12:00:00, UTC).",
        ),
    ],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = None,
    artifact_store: ArtifactStoreUrl = None,
) -> None:
    """Rebuild every view from the raw log up to --until in a scratch database and show it."""
    from lineagelog.api.cli.artifacts import version_summary
    from lineagelog.api.cli.output import emit_json, format_time, print_table, short_id
    from lineagelog.api.cli.runs import run_summary
    from lineagelog.api.cli.session import open_client, parse_as_of
    from lineagelog.api.client import Client

    moment = parse_as_of(until, "--until")
    assert moment is not None  # --until is required
    replayed = open_client(database_url, artifact_store).replay(until=moment)
    try:
        position = replayed.context.until  # type: ignore[attr-defined]
        runs = replayed.list_runs()
        versions = replayed.list_artifact_versions()
        if as_json:
            emit_json(
                {
                    "until_position": position,
                    "runs": [
                        {**run_summary(r), "steps": {n: s.status for n, s in r.steps.items()}}
                        for r in runs
                    ],
                    "artifacts": [{**version_summary(v), "position": v.position} for v in versions],
                }
            )
            return
        typer.echo(f"as of log position {position}, rebuilt from the raw log:")
        print_table(
            "runs",
            ["RUN", "PIPELINE", "NAME", "STATUS", "STARTED"],
            [
                (short_id(r.id), r.pipeline_name, r.run_name, r.status, format_time(r.started_at))
                for r in runs
            ],
            empty="no runs yet",
        )
        print_table(
            "artifacts",
            ["NAME", "VERSION", "ID", "HASH", "TAGS"],
            [
                (v.name, v.version, short_id(v.id), v.content_hash[:12], ", ".join(v.tags) or "-")
                for v in versions
            ],
            empty="no artifacts yet",
        )
    finally:
        if isinstance(replayed, Client):
            replayed.context.close()
