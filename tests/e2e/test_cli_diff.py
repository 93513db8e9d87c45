"""``lineagelog diff``: runs and artifact versions compared from the command line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from cli import assert_one_line_error, run_cli

from lineagelog.examples.numbers_pipeline import numbers


@pytest.fixture
def two_runs(sqlite_stores: tuple[str, str]):
    db, store = sqlite_stores
    first = numbers.run(n=5, database_url=db, artifact_store=store)
    second = numbers.run(n=8, database_url=db, artifact_store=store)
    return first, second


def test_diff_of_two_runs_by_prefix_lists_each_step_and_what_changed(sqlite_stores, two_runs):
    first, second = two_runs

    result = run_cli("diff", str(first.id)[:8], str(second.id)[:8], stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    assert "run parameter `n` changed 5 -> 8" in result.stdout
    assert "~ load" in result.stdout
    assert "parameter `n` changed 5 -> 8" in result.stdout
    assert "output evens: evens:1" in result.stdout and "-> evens:2" in result.stdout


def test_diff_of_two_versions_as_json_names_the_root_cause_and_its_path(sqlite_stores, two_runs):
    result = run_cli("diff", "evens:1", "evens:2", "--json", stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [(c["kind"], c["step"]) for c in answer["root_causes"]] == [("parameter", "load")]
    assert answer["root_causes"][0]["path"] == [
        "load",
        "numbers:1 -> numbers:2",
        "split",
        "evens:1 -> evens:2",
    ]
    assert answer["value"]["how"] == "values"


def test_diff_draws_the_aligned_histories_as_svg(sqlite_stores, two_runs, tmp_path, dot_program):
    drawn = tmp_path / "diff.svg"

    result = run_cli("diff", "evens:1", "evens:2", "-o", str(drawn), stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    text = "".join(ET.parse(drawn).getroot().itertext())
    assert "numbers:1 -> numbers:2" in text
    assert "parameter `n` of step `load` changed 5 -> 8" in text


def test_diff_of_a_run_and_an_artifact_version_is_one_clear_error(sqlite_stores, two_runs):
    first, _ = two_runs

    result = run_cli("diff", str(first.id), "evens:1", stores=sqlite_stores)

    assert_one_line_error(result, "is a run and 'evens:1' is an artifact version")
