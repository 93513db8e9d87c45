"""What every command shares: the app, the settings options, JSON output."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["ArtifactStoreUrl", "DatabaseUrl", "app"]

app = typer.Typer(
    name="lineagelog",
    help="An event-sourced lineage engine for ML pipelines: runs, cache decisions and "
    "artifacts as an append-only log, with queryable views over it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="LINEAGELOG_DATABASE_URL",
        help="Event store URL (sqlite:///path, postgresql://..., memory://).",
        show_envvar=True,
    ),
]
ArtifactStoreUrl = Annotated[
    str | None,
    typer.Option(
        "--artifact-store",
        envvar="LINEAGELOG_ARTIFACT_STORE",
        help="Artifact store: a folder or an fsspec URL (s3://bucket/prefix, ...).",
        show_envvar=True,
    ),
]
