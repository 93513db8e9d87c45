"""Every command's help, rendered in process: what a user reads before typing anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from lineagelog.api.cli import load_commands


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(load_commands())))


def _help(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(load_commands(), [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_help_shows_no_type_beside_flags_and_no_source_paths(path: tuple[str, ...]) -> None:
    shown = _help(path)

    assert "<bool>" not in shown
    assert not re.search(r"\b[\w/]+\.py\b", shown), shown


GROUPS = [(p, c) for p, c in COMMANDS if getattr(c, "commands", None)]


@pytest.mark.parametrize(
    ("path", "group"), GROUPS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_group_help_lists_all_its_commands(path: tuple[str, ...], group: Any) -> None:
    shown = _help(path)
    listed = {line.split()[1] for line in shown.splitlines() if re.match(r"│ [a-z]", line)}

    assert set(group.commands) <= listed
    if path:  # a command group's own description names each of its commands
        described = group.help.replace("\n", " ")
        missing = [n for n in group.commands if not re.search(rf"\b{n}\b", described)]
        assert missing == [], f"`{' '.join(path)}` help does not mention {missing}: {described}"


def test_lineage_and_graph_take_json_and_refuse_it_beside_another_format() -> None:
    for command in ("lineage", "graph"):
        result = CliRunner().invoke(load_commands(), [command, "x", "--json", "--format", "svg"])

        assert "--json and --format svg ask for two formats" in str(result.exception)
