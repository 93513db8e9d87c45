"""The lifecycle commands, each run as a user would: a new `lineagelog` process per command."""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from cli import run_cli, run_python

PIPELINE = textwrap.dedent(
    """
    from typing import Annotated
    from lineagelog.api import pipeline, step

    @step
    def load(n: int) -> Annotated[list[int], "raw"]:
        return list(range(n))

    @step
    def scale(raw: list[int]) -> Annotated[list[int], "scaled"]:
        return [2 * x for x in raw]

    @pipeline
    def scaling(n: int) -> None:
        scale(load(n=n))

    for n in (1, 2, 3):
        scaling(n=n)
    """
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A lineagelog home holding raw:1..3 and scaled:1..3 (scaled:k computed from raw:k)."""
    script = tmp_path / "make.py"
    script.write_text(PIPELINE)
    result = run_python(str(script), settings={"LINEAGELOG_HOME": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path


def cli(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_cli(*args, settings={"LINEAGELOG_HOME": str(home)}, cwd=home, stdin=stdin)


def cli_json(home: Path, *args: str) -> Any:
    result = cli(home, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_tag_and_untag_change_what_list_by_tag_returns(home: Path) -> None:
    tagged = cli_json(home, "artifacts", "tag", "raw:2", "prod", "v2")
    listed = cli_json(home, "artifacts", "list", "--tag", "prod")
    untagged = cli_json(home, "artifacts", "untag", "raw:2", "prod")

    assert tagged["tags"] == ["prod", "v2"]
    assert [(v["name"], v["version"]) for v in listed] == [("raw", "2")]
    assert untagged["tags"] == ["v2"]
    assert cli_json(home, "artifacts", "list", "--tag", "prod") == []


def test_register_copies_a_local_file_in_as_a_new_version(home: Path) -> None:
    data = home / "labels.csv"
    data.write_text("id,label\n1,cat\n")

    registered = cli_json(
        home, "artifacts", "register", str(data), "--name", "labels", "--tag", "v1"
    )
    shown = cli_json(home, "artifacts", "show", "labels:1")

    assert (registered["name"], registered["version"], registered["tags"]) == (
        "labels",
        "1",
        ["v1"],
    )
    assert shown["content_hash"] == registered["content_hash"]
    assert shown["producer"] is None
    copied = [p for p in (home / "artifacts" / "labels").rglob("labels.csv")]
    assert [p.read_text() for p in copied] == ["id,label\n1,cat\n"]


def test_delete_asks_first_then_tombstones_and_removes_the_bytes(home: Path) -> None:
    uri = cli_json(home, "artifacts", "show", "raw:1")["uri"]
    folder = Path(uri.removeprefix("file://"))

    declined = cli(home, "artifacts", "delete", "raw:1", stdin="n\n")
    assert declined.returncode != 0 and folder.exists()

    deleted = cli_json(home, "artifacts", "delete", "raw:1", "--yes", "--reason", "bad rows")

    assert deleted["deleted"] is True
    assert not folder.exists()
    assert cli_json(home, "artifacts", "show", "raw:1")["deleted"] is True
    assert cli_json(home, "artifacts", "show", "scaled:1")["deleted"] is False


def test_show_says_when_and_why_a_version_was_deleted_and_deleting_again_says_it_is(
    home: Path,
) -> None:
    cli_json(home, "artifacts", "delete", "raw:1", "--yes", "--reason", "bad rows")

    shown = cli(home, "artifacts", "show", "raw:1")
    as_json = cli_json(home, "artifacts", "show", "raw:1")
    again = cli(home, "artifacts", "delete", "raw:1", "--yes")

    assert as_json["deleted_reason"] == "bad rows" and as_json["deleted_at"]
    assert "  reason         bad rows" in shown.stdout.splitlines()
    assert any(line.startswith("  deleted        20") for line in shown.stdout.splitlines())
    assert again.returncode == 1
    assert again.stderr.startswith("error: artifact raw:1 is already deleted at ")
    assert "('bad rows'); nothing was recorded" in again.stderr


def test_delete_of_an_unknown_version_is_one_line_on_stderr(home: Path) -> None:
    result = cli(home, "artifacts", "delete", "raw:9", "--yes")

    assert result.returncode == 1
    assert result.stderr.startswith("error: artifact 'raw' has no version '9'")


def test_gc_lists_orphans_in_a_dry_run_and_removes_them_with_apply(home: Path) -> None:
    orphan = home / "artifacts" / "raw" / str(uuid.uuid4())
    orphan.mkdir()
    (orphan / "data.json").write_text("[9]")

    dry = cli_json(home, "gc", "--min-age", "0")
    still_there = orphan.exists()
    applied = cli_json(home, "gc", "--min-age", "0", "--apply")

    assert [d["uri"] for d in dry["decisions"]] == [f"file://{orphan.resolve()}"]
    assert still_there and not orphan.exists()
    assert applied["applied"] is True
    assert cli_json(home, "gc", "--min-age", "0")["decisions"] == []


def test_prune_dry_run_explains_and_apply_deletes_only_what_it_listed(home: Path) -> None:
    cli_json(home, "artifacts", "tag", "scaled:1", "prod")

    dry = cli_json(home, "prune", "--keep", "1")
    applied = cli_json(home, "prune", "--keep", "1", "--apply")

    plan = {(d["name"], d["version"]): (d["action"], d["reason"]) for d in dry["decisions"]}
    assert plan[("raw", "1")] == (
        "keep",
        "scaled:1 (kept) was derived from it; --force deletes it anyway",
    )
    assert plan[("scaled", "1")][0] == "keep"
    deleted = sorted(k for k, (action, _) in plan.items() if action == "delete")
    assert deleted == [("raw", "2"), ("scaled", "2")]
    assert [
        (d["name"], d["version"]) for d in applied["decisions"] if d["action"] == "delete"
    ] == deleted
    remaining = cli_json(home, "artifacts", "list", "raw")
    assert [(v["version"], v["deleted"]) for v in remaining] == [
        ("1", False),
        ("2", True),
        ("3", False),
    ]


def test_prune_without_apply_says_it_was_a_dry_run(home: Path) -> None:
    result = cli(home, "prune", "--keep", "1")

    assert result.returncode == 0, result.stderr
    assert "dry run: 4 version(s) would be deleted; add --apply" in result.stdout
