from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from lineagelog.adapters.graphviz import (
    DiagramOptions,
    GraphvizNotFoundError,
    UnknownFormatError,
    lineage_diagram,
    lineage_dot,
    render_dot,
)
from lineagelog.api import pipeline, step
from lineagelog.api.client import Client
from lineagelog.domain.errors import LineageError, RunFailedError
from lineagelog.examples.numbers_pipeline import numbers

needs_dot = pytest.mark.usefixtures("dot_program")
SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


@step
def source() -> list[int]:
    return [1, 2, 3]


@step
def broken(values: list[int]) -> int:
    raise RuntimeError("disk full")


@pipeline
def fragile() -> None:
    broken(source())


def _svg_groups(dot_source: str) -> dict[str, ET.Element]:
    root = ET.fromstring(render_dot(dot_source, "svg"))
    return {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id")}


def _shape_of(group: ET.Element) -> ET.Element:
    shape = group.find(f".//{SVG}path")
    if shape is None:
        shape = group.find(f".//{SVG}polygon")
    assert shape is not None
    return shape


@pytest.fixture
def two_runs(sqlite_stores):
    db, store = sqlite_stores
    return numbers.run(database_url=db, artifact_store=store), numbers.run(
        database_url=db, artifact_store=store
    )


@needs_dot
def test_artifacts_and_step_runs_are_drawn_with_different_shapes(sqlite_stores, two_runs):
    first, _ = two_runs
    lineage = Client().lineage(str(first.steps["split"].id), "both", depth=1)

    groups = _svg_groups(lineage_dot(lineage))

    split = groups[str(first.steps["split"].id)]
    evens = groups[str(first.steps["split"].outputs["evens"].id)]
    assert split.find(f".//{SVG}path") is not None  # a rounded box is a path
    assert evens.findall(f".//{SVG}polyline")  # a note: a page with a folded corner
    assert "evens:1" in "".join(evens.itertext())
    assert str(first.steps["split"].id)[:8] in "".join(split.itertext())


@needs_dot
def test_cached_steps_are_dashed_and_name_the_step_run_they_reused(sqlite_stores, two_runs):
    first, second = two_runs
    lineage = Client().lineage(str(second.id), "both", depth=1)

    groups = _svg_groups(lineage_dot(lineage))

    hit = groups[str(second.steps["load"].id)]
    assert _shape_of(hit).get("stroke-dasharray")
    assert f"cached from {str(first.steps['load'].id)[:8]}" in "".join(hit.itertext())
    fresh = groups[str(second.steps["total"].id)]  # caching is off for total: it ran
    assert not _shape_of(fresh).get("stroke-dasharray")
    reused = [
        g
        for g in groups.values()
        if g.get("class") == "edge" and "reused from" in "".join(g.itertext())
    ]
    assert reused


@needs_dot
def test_failed_steps_stand_out_in_red(sqlite_stores):
    db, store = sqlite_stores
    with pytest.raises(RunFailedError) as failure:
        fragile.run(database_url=db, artifact_store=store)
    lineage = Client().lineage(str(failure.value.run_id), "both")

    groups = _svg_groups(lineage_dot(lineage))

    failed_step = Client().get_run(failure.value.run_id).steps["broken"]
    shape = _shape_of(groups[str(failed_step.id)])
    assert shape.get("stroke") == "#c62828"
    assert "FAILED" in "".join(groups[str(failed_step.id)].itertext())


@needs_dot
def test_svg_tooltips_carry_ids_hashes_and_timestamps(sqlite_stores, two_runs):
    first, _ = two_runs
    evens = first.steps["split"].outputs["evens"]
    lineage = Client().lineage(str(evens.id), "upstream")

    groups = _svg_groups(lineage_dot(lineage))

    tip = groups[str(evens.id)].find(f".//{SVG}a").get(XLINK_TITLE)
    assert str(evens.id) in tip and f"sha256 {evens.content_hash}" in tip
    assert evens.created_at.isoformat(timespec="seconds") in tip
    step_tip = groups[str(first.steps["split"].id)].find(f".//{SVG}a").get(XLINK_TITLE)
    assert "started:" in step_tip and str(first.id) in step_tip


def test_runs_are_clusters_with_a_legend_left_to_right_by_default(sqlite_stores, two_runs):
    _, second = two_runs
    lineage = Client().lineage(str(second.id), "both", depth=1)

    source = lineage_dot(lineage)
    plain = lineage_dot(lineage, DiagramOptions(legend=False, rankdir="TB"))

    assert "rankdir=LR" in source and "rankdir=TB" in plain
    assert "subgraph cluster_run_" in source
    assert "cluster_legend" in source and "cluster_legend" not in plain


def test_collapsing_merges_repeated_invocations_of_a_step(sqlite_stores, two_runs):
    first, _ = two_runs
    lineage = Client().lineage(str(first.id), "both", depth=1)

    full = lineage_diagram(lineage).source
    collapsed = lineage_diagram(lineage, DiagramOptions(collapse=True)).source

    total, total_2 = str(first.steps["total"].id), str(first.steps["total_2"].id)

    def declared(node: str, source: str) -> bool:
        return re.search(rf'^\s*"{node}" \[', source, re.MULTILINE) is not None

    assert declared(total, full) and declared(total_2, full)
    assert declared(total, collapsed) and not declared(total_2, collapsed)
    assert "total x2" in collapsed


@needs_dot
def test_png_and_pdf_render_with_the_real_dot(sqlite_stores, two_runs):
    first, _ = two_runs
    source = lineage_dot(Client().lineage(str(first.id), "both"))

    assert render_dot(source, "png").startswith(b"\x89PNG")
    assert render_dot(source, "pdf").startswith(b"%PDF")


def test_an_unknown_format_is_a_lineage_error_naming_it():
    with pytest.raises(UnknownFormatError, match="'gif'") as error:
        render_dot("digraph { a -> b }", "gif")

    assert isinstance(error.value, LineageError)


def test_a_missing_dot_program_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz") as error:
        render_dot("digraph { a -> b }", "svg")

    assert "--format dot" in str(error.value)
