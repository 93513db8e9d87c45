"""The ``lineagelog`` command line.

One module per command group registers its commands on ``app`` (or on a sub-app
it adds); ``main`` imports them all and turns lineagelog errors into one line on
stderr with a non-zero exit code.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points
from typing import Any

import typer

from lineagelog.api.cli.common import app
from lineagelog.domain.errors import LineageError

__all__ = ["app", "main"]

COMMAND_MODULES = (
    "runs",
    "artifacts",
    "cache",
    "lineage",
    "diff",
    "graph",
    "projections",
    "daemon",
    "lifecycle",
    "audit",
    "events",
    "replay",
    "recover",
    "openlineage",
    "serve",
)
"""Modules under ``lineagelog.api.cli`` that register commands when imported."""


COMMAND_ENTRY_POINTS = "lineagelog.commands"
"""Entry point group of modules outside ``lineagelog.api`` that register commands
(the ``demo`` of ``lineagelog.examples``): installed package metadata, never data."""


def load_commands() -> typer.Typer:
    """Import every command module so their commands are registered on ``app``."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"lineagelog.api.cli.{name}")
    for entry_point in entry_points(group=COMMAND_ENTRY_POINTS):
        entry_point.load()
    return app


def _click_exceptions() -> tuple[tuple[type[Exception], ...], tuple[type[BaseException], ...]]:
    """Usage-error and abort classes of whichever click typer runs on.

    typer >= 0.20 vendors click as ``typer._click`` (plain ``click`` may not even be
    installed); older typer uses ``click`` itself.
    """
    usage: list[type[Exception]] = []
    aborts: list[type[BaseException]] = [typer.Abort]
    for module_name in ("typer._click.exceptions", "click.exceptions"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        usage.append(module.ClickException)
        if hasattr(module, "Abort"):  # typer's own Abort stands in for the vendored one
            aborts.append(module.Abort)
    return tuple(usage), tuple(aborts)


def main() -> None:
    """Entry point: run the CLI, turning lineagelog errors into one line on stderr."""
    usage_errors, aborts = _click_exceptions()
    interrupts: tuple[type[BaseException], ...] = (*aborts, KeyboardInterrupt)
    load_commands()
    try:
        code = app(standalone_mode=False)
    except LineageError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(1)
    except interrupts:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except usage_errors as e:
        shown: Any = e
        shown.show()
        sys.exit(shown.exit_code)
    if isinstance(code, int) and code:
        sys.exit(code)
