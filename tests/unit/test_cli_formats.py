from __future__ import annotations

from pathlib import Path

import pytest

from lineagelog.api.cli.artifacts import parse_artifact_ref
from lineagelog.api.cli.cache import compare_ingredients
from lineagelog.api.cli.lineage import choose_format
from lineagelog.api.cli.session import parse_as_of
from lineagelog.domain.errors import LineageError


def test_the_format_comes_from_the_option_then_the_file_suffix_then_the_default():
    assert choose_format("SVG", Path("x.png"), "text") == "svg"
    assert choose_format(None, Path("out/diagram.pdf"), "text") == "pdf"
    assert choose_format(None, Path("lineage.gv"), "text") == "dot"
    assert choose_format(None, None, "dot") == "dot"


def test_an_unknown_format_or_suffix_is_an_error_naming_it():
    with pytest.raises(LineageError, match="'gif'"):
        choose_format("gif", None, "text")
    with pytest.raises(LineageError, match=r"x\.jpeg"):
        choose_format(None, Path("x.jpeg"), "text")


def test_artifact_references_split_into_name_and_version():
    assert parse_artifact_ref("model") == ("model", None)
    assert parse_artifact_ref("model:3") == ("model", "3")
    assert parse_artifact_ref("model:1.0") == ("model", "1.0")
    assert parse_artifact_ref("p::s::output") == ("p::s::output", None)
    assert parse_artifact_ref("p::s::output:2") == ("p::s::output", "2")
    for bad in ("model: ", ":3"):
        with pytest.raises(LineageError):
            parse_artifact_ref(bad)


def test_as_of_is_a_position_or_an_iso_time():
    assert parse_as_of("42") == 42
    assert parse_as_of("2024-05-01T12:00:00").year == 2024
    assert parse_as_of(None) is None
    with pytest.raises(LineageError, match="yesterday"):
        parse_as_of("yesterday")


def test_ingredients_line_up_one_row_each_marking_what_changed():
    before = {
        "format": 1,
        "code_hash": "c",
        "parameters": {"lr": 0.1},
        "inputs": {"data": "h1"},
        "outputs": {"model": "M"},
        "artifact_store": "s",
    }
    now = {**before, "parameters": {"lr": 0.2, "epochs": 3}}

    rows = {r["ingredient"]: r for r in compare_ingredients(now, before)}

    assert rows["parameter lr"] == {
        "ingredient": "parameter lr",
        "this": 0.2,
        "compared": 0.1,
        "same": False,
    }
    assert rows["parameter epochs"]["compared"] is None and not rows["parameter epochs"]["same"]
    assert rows["code hash"]["same"] and rows["input data"]["same"]


def test_nothing_to_compare_with_marks_no_ingredient_the_same():
    rows = compare_ingredients(
        {"code_hash": "c", "parameters": {}, "inputs": {}, "outputs": {}}, None
    )

    assert rows and not any(r["same"] for r in rows)
