"""Help that shows what a user types: no ``<bool>`` beside on/off flags.

typer 0.29 prints a value type beside every option in its rich help, flags
included (``--json <bool>``, even ``--help <bool>``), although a flag takes no
value. typer has no setting for that; what it does offer is the command and
group classes (``cls=``) and click's public ``get_help_option``. ``CommandGroup``
is a ``typer.Typer`` whose commands and groups are those classes, so every
command registered on it, now or later, shows its flags bare.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BareFlagsCommand", "BareFlagsGroup", "CommandGroup"]


def _bare_flags(params: list[Any]) -> None:
    """Give every on/off flag an empty metavar, which the help prints instead of its type."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class BareFlagsCommand(TyperCommand):
    """A command whose help shows no type beside its flags (and ``--help``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _bare_flags(self.params)

    def get_help_option(self, ctx: Any) -> Any:  # noqa: D102
        option = super().get_help_option(ctx)
        _bare_flags([option] if option is not None else [])
        return option


class BareFlagsGroup(TyperGroup):
    """A command group whose help shows no type beside its flags (and ``--help``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _bare_flags(self.params)

    def get_help_option(self, ctx: Any) -> Any:  # noqa: D102
        option = super().get_help_option(ctx)
        _bare_flags([option] if option is not None else [])
        return option


class CommandGroup(typer.Typer):
    """``typer.Typer`` whose commands are ``BareFlagsCommand`` and groups ``BareFlagsGroup``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", BareFlagsGroup)
        super().__init__(**kwargs)

    def command(  # type: ignore[override]
        self, name: str | None = None, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a command, as ``typer.Typer.command``, of class ``BareFlagsCommand``."""
        kwargs.setdefault("cls", BareFlagsCommand)
        return super().command(name, **kwargs)
