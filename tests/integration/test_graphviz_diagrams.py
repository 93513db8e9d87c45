from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli import run_python
from parts import require_dot

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
from lineagelog.projections.diagram import served_node_id

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


@step
def doubled(values: list[int]) -> list[int]:
    return [2 * v for v in values]


@pipeline
def preparation() -> None:
    doubled(source())


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
    served = groups[served_node_id(str(second.id), str(second.steps["load"].outputs["numbers"].id))]
    assert _shape_of(served).get("stroke-dasharray")
    assert "numbers:1" in "".join(served.itertext()) and "from cache" in "".join(served.itertext())


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


# -- the structure of a diagram, as the real `dot` reads it ----------------------------------


@dataclass(frozen=True)
class Layout:
    """A diagram as Graphviz reads it: node and frame attributes, members, edges."""

    nodes: dict[str, dict[str, Any]]
    frames: dict[str, dict[str, Any]]
    members: dict[str, set[str]]
    edges: list[tuple[str, str, dict[str, Any]]]

    def frame_of_run(self, run_id: object) -> set[str]:
        (name,) = [n for n, attrs in self.frames.items() if attrs.get("id") == f"run_{run_id}"]
        return self.members[name]

    @property
    def legend(self) -> set[str]:
        return self.members["cluster_legend"]


def _lay_out(dot_source: str) -> Layout:
    done = subprocess.run(
        [require_dot(), "-Tjson"], input=dot_source, capture_output=True, text=True, check=True
    )
    graph = json.loads(done.stdout)
    objects = graph["objects"]
    name_of = {o["_gvid"]: o["name"] for o in objects}
    frames = {o["name"]: o for o in objects if "nodes" in o}
    nodes = {o["name"]: o for o in objects if "nodes" not in o}
    members = {name: {name_of[i] for i in o["nodes"]} for name, o in frames.items()}
    edges = [(name_of[e["tail"]], name_of[e["head"]], e) for e in graph.get("edges", [])]
    return Layout(nodes, frames, members, edges)


def _partly_cached_run() -> str:
    numbers()
    second = numbers()
    return lineage_dot(Client().lineage(str(second.id), "both", depth=1))


def _fully_cached_run() -> str:
    preparation()
    second = preparation()
    return lineage_dot(Client().lineage(str(second.id), "both", depth=1))


def _failed_step() -> str:
    with pytest.raises(RunFailedError) as failure:
        fragile()
    return lineage_dot(Client().lineage(str(failure.value.run_id), "both", depth=1))


def _deleted_version() -> str:
    numbers()
    numbers()
    Client().delete_artifact_version("numbers", "1", reason="superseded")
    return lineage_dot(Client().lineage("numbers:1", "downstream", depth=2))


def _artifact_lineage_collapsed() -> str:
    numbers()
    numbers()
    return lineage_dot(Client().lineage("evens:1", "both"), DiagramOptions(collapse=True))


SCENARIOS = {
    "partly cached run": _partly_cached_run,
    "fully cached run": _fully_cached_run,
    "failed step": _failed_step,
    "deleted version": _deleted_version,
    "artifact lineage, collapsed": _artifact_lineage_collapsed,
}


@pytest.fixture(params=sorted(SCENARIOS))
def diagram(request, sqlite_stores) -> str:
    return SCENARIOS[request.param]()


def _node_look(attrs: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(attrs.get(k, "")) for k in ("shape", "style", "fillcolor", "color", "fontcolor")
    )


def _line_look(attrs: dict[str, Any]) -> tuple[str, str]:
    return str(attrs.get("style", "solid")), str(attrs.get("color", ""))


def _is_text(attrs: dict[str, Any]) -> bool:
    return attrs.get("shape") in ("plaintext", "point")


@needs_dot
def test_a_cached_run_is_drawn_whole_in_its_own_frame_linked_to_the_originals(sqlite_stores):
    first = numbers()
    second = numbers()

    layout = _lay_out(lineage_dot(Client().lineage(str(second.id), "both", depth=1)))

    own, original = layout.frame_of_run(second.id), layout.frame_of_run(first.id)
    served = {}
    for step_run in second.steps.values():
        assert str(step_run.id) in own
        for version in step_run.outputs.values():
            if step_run.cache_hit:
                served[served_node_id(str(second.id), str(version.id))] = str(version.id)
            else:
                assert str(version.id) in own
    assert served and set(served) <= own
    assert set(served.values()) <= original  # the originals stay where they were made
    lines = {(tail, head): attrs for tail, head, attrs in layout.edges}
    for copy, made in served.items():
        assert lines[(made, copy)].get("style") == "dotted"
    steps = {str(step_run.id) for step_run in second.steps.values()}
    read = [  # what its step runs consumed: the solid lines into them
        tail for tail, head, a in layout.edges if head in steps and "style" not in a
    ]
    assert read and all(tail in own for tail in read)  # its steps read inside the frame


@needs_dot
def test_the_legend_has_one_entry_per_look_used_and_none_for_looks_not_used(diagram):
    layout = _lay_out(diagram)

    legend = layout.legend
    drawn = {n: a for n, a in layout.nodes.items() if n not in legend and not _is_text(a)}
    samples = {n: a for n, a in layout.nodes.items() if n in legend and not _is_text(a)}
    runs = [a for n, a in layout.frames.items() if n != "cluster_legend"]
    sample_looks = [_node_look(a) for a in samples.values()]
    assert len(sample_looks) == len(set(sample_looks))  # one entry per look
    assert {_node_look(a) for a in drawn.values()} <= set(sample_looks)
    frame_looks = {(a.get("style"), a.get("color")) for a in runs}
    frame_samples = [a for a in samples.values() if (a.get("style"), a.get("color")) in frame_looks]
    assert len(frame_looks) == 1 and len(frame_samples) == 1
    thick = [a for a in [*drawn.values(), *runs] if a.get("penwidth") == "3"]
    thick_samples = [a for a in samples.values() if a.get("penwidth") == "3"]
    assert len(thick) == 1 and len(thick_samples) == 1  # the root, and its entry
    used = {_node_look(a) for a in drawn.values()}
    unused = [a for a in samples.values() if _node_look(a) not in used]
    assert unused == [*frame_samples, *thick_samples]  # no entry for a look not drawn


@needs_dot
def test_the_legend_explains_every_line_and_joins_no_two_samples(diagram):
    layout = _lay_out(diagram)

    legend = layout.legend
    visible = [(t, h, a) for t, h, a in layout.edges if a.get("style") != "invis"]
    drawn = [a for t, h, a in visible if t not in legend]
    samples = [(t, a) for t, h, a in visible if t in legend]
    sample_looks = [_line_look(a) for _, a in samples]
    assert len(sample_looks) == len(set(sample_looks))
    assert {_line_look(a) for a in drawn} == set(sample_looks)
    for tail, _ in samples:  # a line sample starts at nothing: it relates no two things
        assert layout.nodes[tail].get("style") == "invis"


@needs_dot
def test_no_edge_or_frame_carries_a_label_that_lines_could_cross(diagram):
    layout = _lay_out(diagram)

    assert not [a for _, _, a in layout.edges if a.get("label")]
    runs = {n: a for n, a in layout.frames.items() if n != "cluster_legend"}
    assert runs and all(not a.get("label") for a in runs.values())
    for name in runs:  # the run's name is a header node inside its own frame
        headers = [n for n in layout.members[name] if layout.nodes[n].get("shape") == "plaintext"]
        assert len(headers) == 1 and layout.nodes[headers[0]]["label"].strip()


@needs_dot
def test_every_diagram_renders_with_the_real_dot(diagram):
    assert render_dot(diagram, "png").startswith(b"\x89PNG")
    assert ET.fromstring(render_dot(diagram, "svg")).tag == f"{SVG}svg"


def test_a_fully_cached_run_reports_cached_in_its_lineage(sqlite_stores):
    first = preparation()
    second = preparation()

    graph = Client().lineage(str(second.id), "both", depth=1)
    started = Client().lineage(
        str(second.id), "both", depth=1, as_of=graph.nodes[str(second.id)].position
    )

    assert second.status == "cached"
    assert graph.nodes[str(second.id)].attributes["status"] == "cached"
    assert Client().lineage(str(first.id)).nodes[str(first.id)].attributes["status"] == "completed"
    assert started.nodes[str(second.id)].attributes["status"] == "running"
    assert f"run {str(second.id)[:8]} · cached" in lineage_dot(graph)


@needs_dot
def test_the_readme_diagrams_exist_and_the_render_script_draws_them_again(tmp_path):
    root = Path(__file__).resolve().parents[2]
    shown = re.findall(r"\(docs/diagrams/([\w-]+\.png)\)", (root / "README.md").read_text())

    done = run_python(str(root / "docs" / "diagrams" / "render.py"), str(tmp_path), timeout=300)

    assert done.returncode == 0, done.stderr
    assert len(shown) >= 5 and all((root / "docs" / "diagrams" / name).is_file() for name in shown)
    drawn = {Path(line).name for line in done.stdout.split()}
    assert set(shown) <= drawn
    assert all((tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in shown)
