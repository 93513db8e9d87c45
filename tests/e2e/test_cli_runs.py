from __future__ import annotations

import json
import os
import socket

import pytest
from cli import assert_one_line_error, run_cli

from lineagelog.api import pipeline, step
from lineagelog.api.client import Client
from lineagelog.domain.errors import RunFailedError
from lineagelog.examples.numbers_pipeline import numbers


@step
def explode(values: list[int]) -> int:
    raise ValueError(f"cannot total {len(values)} values")


@step
def make(n: int = 3) -> list[int]:
    return list(range(n))


@pipeline
def doomed() -> None:
    explode(make())


@pytest.fixture
def two_runs(sqlite_stores: tuple[str, str]) -> tuple[str, str]:
    db, store = sqlite_stores
    first = numbers.run(database_url=db, artifact_store=store)
    second = numbers.run(database_url=db, artifact_store=store)
    return str(first.id), str(second.id)


def test_runs_list_shows_every_run_newest_first_as_json(sqlite_stores, two_runs):
    first, second = two_runs

    result = run_cli("runs", "list", "--json", stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [second, first]
    assert rows[0]["status"] == "completed" and rows[0]["cached_steps"] == 2


def test_runs_list_filters_by_status_and_limits(sqlite_stores, two_runs):
    db, store = sqlite_stores
    with pytest.raises(RunFailedError):
        doomed.run(database_url=db, artifact_store=store)

    failed = run_cli("runs", "list", "--status", "failed", "--json", stores=sqlite_stores)
    limited = run_cli("runs", "list", "--limit", "1", "--json", stores=sqlite_stores)

    assert [r["pipeline"] for r in json.loads(failed.stdout)] == ["doomed"]
    assert len(json.loads(limited.stdout)) == 1


def test_runs_list_prints_a_table_people_can_read(sqlite_stores, two_runs):
    result = run_cli("runs", "list", stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    assert "numbers" in result.stdout and "completed" in result.stdout
    assert two_runs[1][:8] in result.stdout


def test_runs_show_gives_each_step_its_cache_outcome_reason_and_artifacts(sqlite_stores, two_runs):
    result = run_cli("runs", "show", two_runs[1], stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    assert "hit: same ingredients as step run" in result.stdout
    assert "disabled: caching is disabled" in result.stdout
    assert "numbers=numbers:1" in result.stdout
    for step_name in ("load", "split", "total", "total_2"):
        assert step_name in result.stdout


def test_runs_show_accepts_an_id_prefix_and_prints_json(sqlite_stores, two_runs):
    result = run_cli("runs", "show", two_runs[0][:8], "--json", stores=sqlite_stores)

    shown = json.loads(result.stdout)
    assert shown["id"] == two_runs[0]
    steps = {s["invocation"]: s for s in shown["steps"]}
    assert steps["load"]["cache_outcome"] == "miss"
    assert steps["load"]["cache_reason"] == "no earlier execution"
    assert steps["split"]["outputs"]["evens"]["name"] == "evens"
    assert steps["load"]["duration_s"] is not None
    assert shown["environment"]["host"] == socket.gethostname()  # where its steps ran
    assert shown["environment"]["pid"] == os.getpid()  # the runs ran in this test's process


def test_runs_show_names_the_failed_step_and_its_error(sqlite_stores):
    db, store = sqlite_stores
    with pytest.raises(RunFailedError) as failure:
        doomed.run(database_url=db, artifact_store=store)

    result = run_cli("runs", "show", str(failure.value.run_id), stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    assert "failed" in result.stdout
    assert "ValueError: cannot total 3 values" in result.stdout


def test_an_unknown_run_is_one_line_on_stderr_and_a_failing_exit_code(sqlite_stores, two_runs):
    unknown = "00000000-0000-4000-8000-000000000000"

    by_id = run_cli("runs", "show", unknown, stores=sqlite_stores)
    by_prefix = run_cli("runs", "show", "ffffffff", stores=sqlite_stores)

    assert_one_line_error(by_id, unknown, "lineagelog runs list")
    assert_one_line_error(by_prefix, "ffffffff")


def test_an_unknown_status_is_rejected_with_the_choices(sqlite_stores, two_runs):
    result = run_cli("runs", "list", "--status", "exploded", stores=sqlite_stores)

    assert_one_line_error(result, "'exploded'", "completed")


def test_the_client_and_the_cli_agree_on_the_runs(sqlite_stores, two_runs):
    client_ids = [str(r.id) for r in Client().list_runs()]

    result = run_cli("runs", "list", "--json", stores=sqlite_stores)

    assert [r["id"] for r in json.loads(result.stdout)] == client_ids


def test_runs_tag_and_untag_record_tags_that_runs_list_filters_and_shows(sqlite_stores, two_runs):
    first, second = two_runs

    tagged = run_cli("runs", "tag", first[:8], "baseline", "reviewed", stores=sqlite_stores)
    run_cli("runs", "tag", second, "reviewed", stores=sqlite_stores)
    untagged = run_cli("runs", "untag", second, "reviewed", "--json", stores=sqlite_stores)
    listed = run_cli("runs", "list", "--tag", "reviewed", "--json", stores=sqlite_stores)
    table = run_cli("runs", "list", "--tag", "baseline", stores=sqlite_stores)
    shown = run_cli("runs", "show", first, stores=sqlite_stores)

    assert tagged.returncode == 0, tagged.stderr
    assert tagged.stdout.strip().endswith("tags: baseline, reviewed")
    assert json.loads(untagged.stdout)["tags"] == []
    assert [(r["id"], r["tags"]) for r in json.loads(listed.stdout)] == [
        (first, ["baseline", "reviewed"])
    ]
    assert first[:8] in table.stdout and second[:8] not in table.stdout
    assert "tags      baseline, reviewed" in shown.stdout


def test_runs_tag_refuses_an_unusable_tag_in_one_line(sqlite_stores, two_runs):
    result = run_cli("runs", "tag", two_runs[0], " ", stores=sqlite_stores)

    assert_one_line_error(result, "must be a non-empty string")
