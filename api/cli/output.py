"""Output helpers every command shares: rich tables for people, JSON for scripts.

rich is imported lazily so ``lineagelog --help`` stays quick.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import typer

from lineagelog.projections.jsonable import json_ready

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "JsonFlag",
    "console",
    "emit_json",
    "format_duration",
    "format_size",
    "format_time",
    "print_table",
    "printable",
    "short_id",
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts, not a table.")]
"""The ``--json`` flag every listing takes."""

_console: Console | None = None

_KEPT_CONTROLS = frozenset("\n\t")


def printable(text: object) -> str:
    r"""``text`` with control characters (terminal escape sequences) written as escapes.

    Names and messages come from the log, where a terminal escape could hide or
    fake what a table shows; newlines and tabs are kept.

    Examples:
        >>> print(printable("run\x1b[2J"))
        run\x1b[2J
    """
    shown = str(text)
    if shown.isprintable():
        return shown
    return "".join(
        ch
        if ch in _KEPT_CONTROLS or unicodedata.category(ch) != "Cc"
        else ch.encode("unicode_escape").decode("ascii")
        for ch in shown
    )


def console() -> Console:
    """Return the shared rich console on stdout (created on first use)."""
    global _console
    if _console is None:
        import os
        import sys

        from rich.console import Console

        # Piped output (grep, less, a file) gets whole lines, not a fold at 80 columns.
        piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
        _console = Console(highlight=False, soft_wrap=False, width=250 if piped else None)
    return _console


def emit_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    typer.echo(json.dumps(json_ready(value), indent=2, sort_keys=False, default=str))


def print_table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str
) -> None:
    """Print a rich table, or ``empty`` when there are no rows."""
    from rich.table import Table
    from rich.text import Text

    materialized = [[("-" if cell is None else printable(cell)) for cell in row] for row in rows]
    if not materialized:
        typer.echo(empty)
        return
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in materialized:
        table.add_row(*(Text(cell) for cell in row))  # a value is text, never rich markup
    console().print(table)


def short_id(value: UUID | str | None) -> str:
    """Shorten an id to its first 8 characters, as git shows commits."""
    return "-" if value is None else str(value)[:8]


def format_time(moment: datetime | None) -> str:
    """Format a timestamp to the second, in UTC."""
    if moment is None:
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    """Format a duration people read: 12ms, 3.4s, 2m05s."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def format_size(size: int | None) -> str:
    """Format a byte count people read: 512 B, 1.2 KiB, 3.4 MiB."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
