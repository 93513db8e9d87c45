"""What every command shares: the app, the settings options, JSON output."""

from __future__ import annotations

from typing import Annotated

import typer

from lineagelog.api.cli.help_format import CommandGroup

__all__ = [
    "MAX_COUNT",
    "MAX_POSITION",
    "ArtifactStoreUrl",
    "DatabaseUrl",
    "SchemaBase",
    "app",
]

MAX_POSITION = 2**63 - 1
"""The largest log position a database stores (a signed 64-bit integer)."""

MAX_COUNT = 2**31 - 1
"""The largest ``--limit`` or ``--depth`` a command takes."""

app = CommandGroup(
    name="lineagelog",
    help="An event-sourced lineage engine for ML pipelines: runs, cache decisions and "
    "artifacts as an append-only log, with queryable views over it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"lineagelog {version('lineagelog')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show lineagelog's version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Options of ``lineagelog`` itself, given before the command (``--version``)."""


DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="LINEAGELOG_DATABASE_URL",
        help="Event store URL (sqlite:///path, postgresql://..., memory://).",
        show_envvar=True,
    ),
]
SchemaBase = Annotated[
    str | None,
    typer.Option(
        "--schema-base",
        help="Where lineagelog's OpenLineage facet schemas are served, for their _schemaURL "
        "(e.g. http://lineage:8080/openlineage/facets, as `lineagelog serve` serves them); "
        "default: LINEAGELOG_OPENLINEAGE_SCHEMA_BASE, else their $id "
        "(urn:lineagelog:..., resolved from the package).",
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
