from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest
from cli import HAS_DOT, assert_one_line_error, run_cli

from lineagelog.examples.numbers_pipeline import numbers

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def runs(sqlite_stores: tuple[str, str]):
    db, store = sqlite_stores
    first = numbers.run(database_url=db, artifact_store=store)
    second = numbers.run(database_url=db, artifact_store=store)
    return first, second


def test_lineage_text_is_a_tree_from_the_artifact_to_where_it_came_from(sqlite_stores, runs):
    first, _ = runs

    result = run_cli("lineage", "evens:1", stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("evens:1")
    assert "produced by: split" in lines[1]
    assert any("input: numbers:1" in line for line in lines)
    assert any(
        f"produced by: load  (step run {str(first.steps['load'].id)[:8]}" in line for line in lines
    )


def test_lineage_downstream_as_json_reaches_what_was_built_from_the_node(sqlite_stores, runs):
    first, _ = runs

    result = run_cli(
        "lineage", "numbers:1", "--downstream", "--format", "json", stores=sqlite_stores
    )

    graph = json.loads(result.stdout)
    assert graph["direction"] == "downstream"
    ids = {n["id"] for n in graph["nodes"]}
    assert str(first.steps["total_2"].id) in ids
    assert {e["kind"] for e in graph["edges"]} >= {"consumed", "produced"}


def test_lineage_and_graph_take_json_as_every_listing_does(sqlite_stores, runs):
    first, _ = runs

    lineage = run_cli("lineage", "numbers:1", "--downstream", "--json", stores=sqlite_stores)
    graph = run_cli("graph", str(first.id), "--json", stores=sqlite_stores)

    assert json.loads(lineage.stdout)["direction"] == "downstream"
    assert str(first.steps["total_2"].id) in {n["id"] for n in json.loads(graph.stdout)["nodes"]}


def test_lineage_depth_limits_the_hops(sqlite_stores, runs):
    result = run_cli("lineage", "evens:1", "--depth", "1", "-f", "json", stores=sqlite_stores)

    nodes = json.loads(result.stdout)["nodes"]
    assert {n["kind"] for n in nodes} == {"artifact", "step_run"}
    assert max(n["depth"] for n in nodes) == 1


def test_lineage_as_of_a_position_answers_as_the_log_stood_then(sqlite_stores, runs):
    _, second = runs
    now = json.loads(
        run_cli("lineage", "numbers:1", "--downstream", "-f", "json", stores=sqlite_stores).stdout
    )
    second_split = next(n for n in now["nodes"] if n["id"] == str(second.steps["split"].id))
    before_second = second_split["position"] - 1

    then = run_cli(
        "lineage",
        "numbers:1",
        "--downstream",
        "-f",
        "json",
        "--as-of",
        str(before_second),
        stores=sqlite_stores,
    )

    assert then.returncode == 0, then.stderr
    graph = json.loads(then.stdout)
    assert graph["as_of"] == before_second
    assert {n["id"] for n in graph["nodes"]} == {
        n["id"] for n in now["nodes"] if n["position"] <= before_second
    }
    assert str(second.steps["split"].id) not in {n["id"] for n in graph["nodes"]}


def test_lineage_dot_needs_no_graphviz_and_is_valid_for_dot(sqlite_stores, runs, tmp_path):
    empty = tmp_path / "no-programs"
    empty.mkdir()

    result = run_cli(
        "lineage", "evens", "--both", "--format", "dot", stores=sqlite_stores, path=str(empty)
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("digraph lineage {")
    if HAS_DOT:
        checked = subprocess.run(
            ["dot", "-Tsvg"], input=result.stdout, capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stderr


def test_rendering_without_dot_says_how_to_install_it_and_that_dot_format_works(
    sqlite_stores, runs, tmp_path
):
    empty = tmp_path / "no-programs"
    empty.mkdir()

    result = run_cli(
        "lineage", "evens", "-o", str(tmp_path / "evens.svg"), stores=sqlite_stores, path=str(empty)
    )

    assert_one_line_error(result, "apt-get install graphviz", "--format dot")
    assert not (tmp_path / "evens.svg").exists()


@pytest.mark.usefixtures("dot_program")
def test_lineage_svg_written_with_o_has_a_node_per_artifact_and_step_with_tooltips(
    sqlite_stores, runs, tmp_path
):
    first, _ = runs
    out = tmp_path / "diagrams" / "evens.svg"

    result = run_cli("lineage", "evens:1", "-o", str(out), stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    assert f"lineage diagram written to {out}" in result.stdout
    root = ET.parse(out).getroot()
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g")}
    load_id = str(first.steps["load"].id)
    assert load_id in groups
    link = groups[load_id].find(f".//{SVG}a")
    assert link is not None
    tooltip = link.get("{http://www.w3.org/1999/xlink}title")
    assert load_id in tooltip and "started" in tooltip
    evens = first.steps["split"].outputs["evens"]
    assert f"sha256 {evens.content_hash}" in groups[str(evens.id)].find(f".//{SVG}a").get(
        "{http://www.w3.org/1999/xlink}title"
    )


@pytest.mark.usefixtures("dot_program")
def test_lineage_png_and_pdf_are_real_files(sqlite_stores, runs, tmp_path):
    png = run_cli("lineage", "evens", "-o", str(tmp_path / "e.png"), stores=sqlite_stores)
    pdf = run_cli("lineage", "evens", "--format", "pdf", stores=sqlite_stores, cwd=tmp_path)

    assert png.returncode == 0 and pdf.returncode == 0, (png.stderr, pdf.stderr)
    assert (tmp_path / "e.png").read_bytes().startswith(b"\x89PNG")
    written = list(tmp_path.glob("lineage-*.pdf"))
    assert len(written) == 1 and written[0].read_bytes().startswith(b"%PDF")
    assert f"written to {written[0].name}" in pdf.stdout


def test_lineage_errors_are_one_line_on_stderr(sqlite_stores, runs, tmp_path):
    assert_one_line_error(
        run_cli("lineage", "evens", "--format", "jpeg", stores=sqlite_stores), "'jpeg'", "svg"
    )
    assert_one_line_error(run_cli("lineage", "nope:3", stores=sqlite_stores), "'nope:3'")
    assert_one_line_error(
        run_cli("lineage", "evens", "--as-of", "last tuesday", stores=sqlite_stores), "last tuesday"
    )
    assert_one_line_error(
        run_cli("lineage", "evens", "--upstream", "--downstream", stores=sqlite_stores), "--both"
    )
    assert_one_line_error(
        run_cli("lineage", "evens", "-o", str(tmp_path / "x.jpeg"), stores=sqlite_stores), "x.jpeg"
    )


@pytest.mark.usefixtures("dot_program")
def test_graph_of_a_run_draws_its_steps_in_a_cluster_with_cached_steps_dashed(
    sqlite_stores, runs, tmp_path
):
    first, second = runs
    out = tmp_path / "run.svg"

    result = run_cli("graph", str(second.id)[:8], "-o", str(out), stores=sqlite_stores)

    assert result.returncode == 0, result.stderr
    root = ET.parse(out).getroot()
    groups = {g.get("id"): g for g in root.iter(f"{SVG}g")}
    assert f"run_{second.id}" in groups  # the run is a cluster
    hit = groups[str(second.steps["load"].id)]
    assert "5,2" in (hit.find(f".//{SVG}path").get("stroke-dasharray") or "")
    assert f"cached from {str(first.steps['load'].id)[:8]}" in "".join(hit.itertext())
    assert "legend" in "".join(root.itertext())


def test_graph_prints_dot_by_default_and_rejects_an_unknown_run(sqlite_stores, runs):
    _, second = runs

    dot = run_cli("graph", str(second.id), stores=sqlite_stores)
    unknown = run_cli("graph", "00000000-0000-4000-8000-000000000000", stores=sqlite_stores)

    assert dot.returncode == 0 and "subgraph cluster_run_" in dot.stdout
    assert 'style="rounded,filled,dashed"' in dot.stdout
    assert_one_line_error(unknown, "00000000-0000-4000-8000-000000000000")


def test_lineage_as_of_a_time_reads_the_log_as_it_stood_then(sqlite_stores, runs):
    before_anything = run_cli(
        "lineage", "evens", "--as-of", "2000-01-01T00:00:00", stores=sqlite_stores
    )
    later = run_cli(
        "lineage", "evens", "--as-of", "2999-01-01T00:00:00", "-f", "json", stores=sqlite_stores
    )

    assert_one_line_error(before_anything, "'evens'", "as of position 0")
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["as_of"] > 0
