"""Read commands where no database exists say which one they looked for, and create nothing.

A refused ``events import`` does not leave an empty database behind either, so
the next read command still says that there is no database.
"""

from __future__ import annotations

import json

import pytest
from cli import assert_one_line_error, run_cli

READ_COMMANDS = [
    ["runs", "list"],
    ["artifacts", "list"],
    ["cache", "list"],
    ["lineage", "numbers"],
    ["audit"],
    ["events", "export"],
    ["events", "tail"],
    ["projections", "status"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_a_read_command_in_a_folder_without_a_database_names_it_and_creates_nothing(
    tmp_path, command
):
    result = run_cli(*command, cwd=tmp_path)

    expected = tmp_path / ".lineagelog" / "lineage.db"
    assert_one_line_error(result, f"no lineagelog database at '{expected}'", "default home")
    assert list(tmp_path.iterdir()) == []


def test_the_message_names_the_setting_that_chose_the_database(tmp_path):
    home = tmp_path / "home"

    result = run_cli("runs", "list", cwd=tmp_path, settings={"LINEAGELOG_HOME": str(home)})

    assert_one_line_error(result, f"'{home / 'lineage.db'}'", "LINEAGELOG_HOME")
    assert not home.exists()


def test_an_import_refused_for_its_header_leaves_no_database_behind(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"format": "something else"}) + "\n")
    project = tmp_path / "project"
    project.mkdir()

    refused = run_cli("events", "import", str(events), cwd=project)
    after = run_cli("runs", "list", cwd=project)

    assert_one_line_error(refused, "lineagelog-events")
    assert list(project.iterdir()) == []
    assert_one_line_error(after, "no lineagelog database")


def test_an_import_refused_by_its_anchor_leaves_no_database_behind(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    assert run_cli("demo", cwd=source).returncode == 0
    anchors = tmp_path / "anchors.txt"
    assert run_cli("audit", "seal", "--anchor", str(anchors), cwd=source).returncode == 0
    exported = run_cli("events", "export", cwd=source)
    cut = tmp_path / "cut.jsonl"  # the header and the first two events: the tail is gone
    cut.write_text("".join(exported.stdout.splitlines(keepends=True)[:3]))
    target = tmp_path / "target"
    target.mkdir()

    refused = run_cli("events", "import", str(cut), "--anchor", str(anchors), cwd=target)

    assert_one_line_error(refused, "anchor", "nothing was imported")
    assert list(target.iterdir()) == []
