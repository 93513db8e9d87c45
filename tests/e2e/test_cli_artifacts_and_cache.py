from __future__ import annotations

import json

import pytest
from cli import assert_one_line_error, run_cli

from lineagelog.examples.numbers_pipeline import numbers


@pytest.fixture
def runs(sqlite_stores: tuple[str, str]):
    db, store = sqlite_stores
    first = numbers.run(database_url=db, artifact_store=store)
    second = numbers.run(database_url=db, artifact_store=store)
    third = numbers.run(n=7, database_url=db, artifact_store=store)
    return first, second, third


def test_artifacts_list_gives_each_name_with_its_versions(sqlite_stores, runs):
    result = run_cli("artifacts", "list", "--json", stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    names = {row["name"]: row for row in json.loads(result.stdout)}
    assert names["numbers"] == {"name": "numbers", "versions": 2, "latest": 2}
    assert set(names) >= {"numbers", "evens", "odds"}


def test_artifacts_list_of_a_name_gives_its_versions(sqlite_stores, runs):
    result = run_cli("artifacts", "list", "numbers", "--json", stores=sqlite_stores)

    versions = json.loads(result.stdout)
    assert [v["version"] for v in versions] == ["1", "2"]
    assert all(len(v["content_hash"]) == 64 for v in versions)


def test_artifacts_show_names_uri_producer_consumers_hash_and_metadata(sqlite_stores, runs):
    first, _, _ = runs
    load = first.steps["load"]
    produced = load.outputs["numbers"]

    result = run_cli("artifacts", "show", "numbers:1", "--json", stores=sqlite_stores)

    shown = json.loads(result.stdout)
    assert shown["id"] == str(produced.id)
    assert shown["uri"] == produced.uri
    assert shown["content_hash"] == produced.content_hash
    assert shown["size"] == produced.size > 0
    assert shown["producer"]["step_run_id"] == str(load.id)
    consumers = {c["step_run_id"] for c in shown["consumers"]}
    assert str(first.steps["split"].id) in consumers
    assert isinstance(shown["metadata"], dict)


def test_artifacts_show_prints_the_details_for_people(sqlite_stores, runs):
    result = run_cli("artifacts", "show", "numbers", stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("numbers:2")
    for label in ("uri", "content hash", "producer", "consumers", "metadata"):
        assert label in result.stdout


def test_a_bad_version_or_unknown_artifact_is_one_line_on_stderr(sqlite_stores, runs):
    assert_one_line_error(
        run_cli("artifacts", "show", "numbers:x", stores=sqlite_stores), "no version 'x'", "1, 2"
    )
    assert_one_line_error(
        run_cli("artifacts", "show", "numbers:9", stores=sqlite_stores), "no version '9'", "1, 2"
    )
    assert_one_line_error(run_cli("artifacts", "show", "nope", stores=sqlite_stores), "'nope'")
    assert_one_line_error(run_cli("artifacts", "list", "nope", stores=sqlite_stores), "'nope'")


def test_cache_explain_of_a_hit_compares_every_ingredient_with_the_original(sqlite_stores, runs):
    first, second, _ = runs
    hit = second.steps["load"]

    result = run_cli("cache", "explain", str(hit.id), "--json", stores=sqlite_stores)

    explained = json.loads(result.stdout)
    assert explained["outcome"] == "hit"
    assert explained["compared_with"] == str(first.steps["load"].id)
    rows = {row["ingredient"]: row for row in explained["ingredients"]}
    assert rows["parameter n"]["this"] == 5 and rows["parameter n"]["same"]
    assert all(row["same"] for row in explained["ingredients"])


def test_cache_explain_of_a_miss_shows_which_ingredient_changed(sqlite_stores, runs):
    _, second, third = runs

    result = run_cli("cache", "explain", str(third.steps["load"].id)[:8], stores=sqlite_stores)
    as_json = run_cli(
        "cache", "explain", str(third.steps["load"].id), "--json", stores=sqlite_stores
    )

    assert result.returncode == 0, result.stderr
    assert "miss" in result.stdout and "parameter `n` changed 5 -> 7" in result.stdout
    rows = {row["ingredient"]: row for row in json.loads(as_json.stdout)["ingredients"]}
    assert rows["parameter n"] == {
        "ingredient": "parameter n",
        "this": 7,
        "compared": 5,
        "same": False,
    }
    assert rows["code hash"]["same"]
    assert json.loads(as_json.stdout)["compared_with"] == str(second.steps["load"].id)


def test_cache_list_shows_decisions_filtered_by_outcome(sqlite_stores, runs):
    _, second, _ = runs

    hits = json.loads(
        run_cli("cache", "list", "--outcome", "hit", "--json", stores=sqlite_stores).stdout
    )
    table = run_cli("cache", "list", stores=sqlite_stores)

    assert {h["step_run_id"] for h in hits} == {
        str(second.steps["load"].id),
        str(second.steps["split"].id),
    }
    assert "disabled" in table.stdout and "no earlier execution" in table.stdout


def test_cache_explain_of_an_unknown_step_run_is_one_line_on_stderr(sqlite_stores, runs):
    result = run_cli(
        "cache", "explain", "00000000-0000-4000-8000-000000000000", stores=sqlite_stores
    )

    assert_one_line_error(result, "00000000-0000-4000-8000-000000000000")
