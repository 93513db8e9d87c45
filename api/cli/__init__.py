"""The ``lineagelog`` command line.

One module per command group registers its commands on ``app`` (or on a sub-app
it adds); ``main`` imports them all and turns lineagelog errors into one line on
stderr with a non-zero exit code.
"""

from __future__ import annotations

import importlib
import sys

import typer

from lineagelog.api.cli.common import app
from lineagelog.domain.errors import LineageError

__all__ = ["app", "main"]

COMMAND_MODULES = ("demo", "artifacts", "projections")
"""Modules under ``lineagelog.api.cli`` that register commands when imported."""


def load_commands() -> typer.Typer:
    """Import every command module so their commands are registered on ``app``."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"lineagelog.api.cli.{name}")
    return app


def main() -> None:
    """Entry point: run the CLI, turning lineagelog errors into one line on stderr."""
    import click

    load_commands()
    try:
        app(standalone_mode=False)
    except LineageError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
