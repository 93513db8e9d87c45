"""One way to name things: the command line accepts what the Client accepts, and says the rule."""

from __future__ import annotations

import json

import pytest
from cli import assert_one_line_error, run_cli

from lineagelog.examples.numbers_pipeline import numbers


@pytest.fixture
def two_runs(sqlite_stores: tuple[str, str]):
    db, store = sqlite_stores
    first = numbers.run(database_url=db, artifact_store=store)
    second = numbers.run(run_name="again", database_url=db, artifact_store=store)
    return first, second


def _json(*args: str, stores: tuple[str, str]) -> object:
    result = run_cli(*args, "--json", stores=stores)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_runs_show_takes_a_run_name_and_an_id_prefix(sqlite_stores, two_runs):
    _, second = two_runs

    by_name = _json("runs", "show", "again", stores=sqlite_stores)
    by_prefix = _json("runs", "show", str(second.id)[:6], stores=sqlite_stores)

    assert by_name["id"] == by_prefix["id"] == str(second.id)


def test_runs_show_says_a_pipeline_name_is_not_a_run_name(sqlite_stores, two_runs):
    result = run_cli("runs", "show", "numbers", stores=sqlite_stores)

    assert_one_line_error(result, "'numbers' is a pipeline name, not a run name", "--pipeline")


def test_a_too_short_prefix_states_the_minimum_length(sqlite_stores, two_runs):
    _, second = two_runs

    result = run_cli("runs", "show", str(second.id)[:3], stores=sqlite_stores)

    assert_one_line_error(result, "at least 4 characters")


def test_artifacts_show_takes_an_id_prefix_and_name_version_alike(sqlite_stores, two_runs):
    first, _ = two_runs
    version = first.steps["load"].outputs["numbers"]

    by_ref = _json("artifacts", "show", f"numbers:{version.version}", stores=sqlite_stores)
    by_prefix = _json("artifacts", "show", str(version.id)[:8], stores=sqlite_stores)

    assert by_ref["id"] == by_prefix["id"] == str(version.id)


def test_artifacts_tag_takes_a_version_id_prefix(sqlite_stores, two_runs):
    first, _ = two_runs
    version = first.steps["load"].outputs["numbers"]

    tagged = _json("artifacts", "tag", str(version.id)[:8], "prod", stores=sqlite_stores)

    assert tagged == {"name": "numbers", "version": version.version, "tags": ["prod"]}


def test_artifacts_delete_refuses_a_bare_name(sqlite_stores, two_runs):
    result = run_cli("artifacts", "delete", "numbers", "-y", stores=sqlite_stores)

    assert_one_line_error(result, "needs an explicit version", "numbers:1")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("runs", "list", "--status", "done"), ("unknown run status 'done'", "cached")),
        (("cache", "list", "--outcome", "maybe"), ("unknown cache outcome 'maybe'", "hit")),
    ],
)
def test_an_unknown_status_or_outcome_is_an_error_naming_the_values(
    sqlite_stores, two_runs, args, fragments
):
    assert_one_line_error(run_cli(*args, stores=sqlite_stores), *fragments)


def test_cache_list_filters_by_outcome(sqlite_stores, two_runs):
    hits = _json("cache", "list", "--outcome", "hit", stores=sqlite_stores)

    assert {row["outcome"] for row in hits} == {"hit"}
    assert len(hits) == 2  # load and split of the second run


def test_cache_explain_and_lineage_take_prefixes_and_run_names(sqlite_stores, two_runs):
    _, second = two_runs
    split = second.steps["split"]

    explained = _json("cache", "explain", str(split.id)[:8], stores=sqlite_stores)
    graph = run_cli("lineage", "again", "--downstream", "--format", "json", stores=sqlite_stores)

    assert explained["step_run_id"] == str(split.id)
    assert graph.returncode == 0, graph.stderr
    assert json.loads(graph.stdout)["root"] == str(second.id)
