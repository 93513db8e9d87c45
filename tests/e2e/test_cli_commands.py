from __future__ import annotations

import contextlib
import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli import HAS_DOT, assert_one_line_error, run_cli

from lineagelog.examples.numbers_pipeline import numbers

MY_COMMANDS = [
    (),
    ("runs",),
    ("runs", "list"),
    ("runs", "show"),
    ("artifacts",),
    ("artifacts", "list"),
    ("artifacts", "show"),
    ("cache",),
    ("cache", "explain"),
    ("cache", "list"),
    ("lineage",),
    ("graph",),
    ("projections",),
    ("projections", "status"),
    ("projections", "rebuild"),
    ("demo",),
]


@pytest.mark.parametrize("command", MY_COMMANDS, ids=lambda c: " ".join(c) or "lineagelog")
def test_every_help_page_reads_without_error(command):
    result = run_cli(*command, "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert len(result.stdout.splitlines()) > 5


def test_the_top_level_help_lists_the_command_groups():
    result = run_cli("--help")

    for group in ("runs", "artifacts", "cache", "lineage", "graph", "projections", "demo"):
        assert f" {group} " in result.stdout


def test_every_listing_takes_json():
    for command in (
        ("runs", "list"),
        ("artifacts", "list"),
        ("cache", "list"),
        ("projections", "status"),
    ):
        assert "--json" in run_cli(*command, "--help").stdout, command


def test_projections_status_shows_every_view_caught_up(sqlite_stores):
    db, store = sqlite_stores
    numbers.run(database_url=db, artifact_store=store)

    result = run_cli("projections", "status", "--json", stores=sqlite_stores)

    views = json.loads(result.stdout)
    assert {v["view"] for v in views} >= {"runs", "catalog", "cache", "lineage"}
    assert all(v["lag"] == 0 and v["position"] == v["log_position"] > 0 for v in views)


def test_projections_rebuild_replays_the_whole_log_and_reports_its_rate(sqlite_stores):
    db, store = sqlite_stores
    run = numbers.run(database_url=db, artifact_store=store)
    before = json.loads(run_cli("runs", "show", str(run.id), "--json", stores=sqlite_stores).stdout)

    rebuilt = run_cli("projections", "rebuild", stores=sqlite_stores)
    as_json = run_cli("projections", "rebuild", "runs", "--json", stores=sqlite_stores)
    after = json.loads(run_cli("runs", "show", str(run.id), "--json", stores=sqlite_stores).stdout)

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "events/s" in rebuilt.stdout
    report = json.loads(as_json.stdout)
    log_position = json.loads(
        run_cli("projections", "status", "--json", stores=sqlite_stores).stdout
    )[0]["log_position"]
    assert report["views"] == ["runs"] and report["events"] == log_position
    assert after == before


def test_projections_rebuild_online_switches_in_copies_of_the_views(sqlite_stores):
    db, store = sqlite_stores
    run = numbers.run(database_url=db, artifact_store=store)
    before = json.loads(run_cli("runs", "show", str(run.id), "--json", stores=sqlite_stores).stdout)

    rebuilt = run_cli("projections", "rebuild", "--online", stores=sqlite_stores)
    as_json = run_cli("projections", "rebuild", "runs", "--online", "--json", stores=sqlite_stores)
    after = json.loads(run_cli("runs", "show", str(run.id), "--json", stores=sqlite_stores).stdout)

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "online" in rebuilt.stdout and "events/s" in rebuilt.stdout
    assert json.loads(as_json.stdout)["online"] is True
    assert after == before
    with contextlib.closing(sqlite3.connect(db.removeprefix("sqlite:///"))) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "lineagelog_runs" in names and "lineagelog_runs__next" not in names
    # the copies' indexes took free names beside the live ones, which were then dropped
    # (the runs view, rebuilt twice, has its first names back)
    assert "ix_lineagelog_lineage_edges_dst__next" in names
    assert "ix_lineagelog_runs_pipeline" in names


def test_rebuilding_an_unknown_view_names_the_views(sqlite_stores):
    result = run_cli("projections", "rebuild", "everything", stores=sqlite_stores)

    assert_one_line_error(result, "'everything'", "runs")


def test_an_unreadable_database_is_one_line_on_stderr(tmp_path):
    garbage = tmp_path / "lineage.db"
    garbage.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    stores = (f"sqlite:///{garbage}", str(tmp_path / "artifacts"))

    for command in (("runs", "list"), ("projections", "status"), ("lineage", "x")):
        assert_one_line_error(
            run_cli(*command, stores=stores), "cannot read the lineage database", str(garbage)
        )


def test_an_unknown_database_scheme_is_one_line_on_stderr(tmp_path):
    result = run_cli(
        "runs", "list", "--database-url", "oracle://db/lineage", "--artifact-store", str(tmp_path)
    )

    assert_one_line_error(result, "oracle://db/lineage")


def test_options_override_the_environment(sqlite_stores, tmp_path):
    db, store = sqlite_stores
    numbers.run(database_url=db, artifact_store=store)
    other = (f"sqlite:///{tmp_path / 'other.db'}", str(tmp_path / "other"))

    result = run_cli(
        "runs", "list", "--json", "--database-url", db, "--artifact-store", store, stores=other
    )

    assert [r["pipeline"] for r in json.loads(result.stdout)] == ["numbers"]


def test_demo_ends_by_writing_a_lineage_diagram_and_saying_where(tmp_path: Path):
    home = tmp_path / "home"
    stores = (f"sqlite:///{home / 'lineage.db'}", str(home / "artifacts"))

    result = run_cli("demo", stores=stores, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()
    written = next(line for line in last if line.startswith("lineage diagram written to "))
    path = Path(written.removeprefix("lineage diagram written to ").strip())
    assert path.exists()
    if HAS_DOT:
        assert path.suffix == ".svg"
        assert ET.parse(path).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    else:
        assert path.read_text().startswith("digraph")
