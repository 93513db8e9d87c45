"""The ``lineagelog`` command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from lineagelog.api.config import resolve_settings
from lineagelog.domain.errors import LineageError

__all__ = ["app", "main"]

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
    typer.Option("--database-url", envvar="LINEAGELOG_DATABASE_URL", help="Event store URL.", show_envvar=True),
]
ArtifactStoreUrl = Annotated[
    str | None,
    typer.Option("--artifact-store", envvar="LINEAGELOG_ARTIFACT_STORE", help="Artifact store URL or folder.", show_envvar=True),
]


@app.command()
def demo(database_url: DatabaseUrl = None, artifact_store: ArtifactStoreUrl = None) -> None:
    """Run an example pipeline twice: the second run is served from cache."""
    from lineagelog.api.demo import run_demo

    run_demo(resolve_settings(database_url, artifact_store))


def main() -> None:
    """Entry point: run the CLI, turning lineagelog errors into one line on stderr."""
    try:
        app(standalone_mode=False)
    except LineageError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(1)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as e:  # click usage errors carry their own exit code
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise
