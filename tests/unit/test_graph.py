"""Graph algorithms over lineage DiGraphs, and how a LineageGraph renders."""

from __future__ import annotations

import doctest
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime

import networkx as nx
import pytest

from lineagelog.domain.errors import (
    InvalidLineageQueryError,
    LineageCycleError,
    LineageError,
    LineageNodeNotFoundError,
    NoLineagePathError,
    NotFoundError,
)
from lineagelog.projections import graph as graph_module
from lineagelog.projections.graph import (
    ancestors_of,
    check_acyclic,
    collapse_invocations,
    descendants_of,
    lineage_path,
)
from lineagelog.projections.lineage import LineageEdge, LineageGraph, LineageNode

T0 = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def diamond() -> nx.DiGraph:
    #  raw -> clean -> features -> train -> model
    #            \-----------------> report
    return nx.DiGraph(
        [
            ("raw", "clean"),
            ("clean", "features"),
            ("features", "train"),
            ("train", "model"),
            ("clean", "report"),
            ("model", "report"),
        ]
    )


def test_doctests_of_the_graph_module_run():
    result = doctest.testmod(graph_module, optionflags=doctest.ELLIPSIS)

    assert result.attempted >= 10
    assert result.failed == 0


def test_ancestors_follow_edges_against_their_direction(diamond):
    assert ancestors_of(diamond, "report") == {"raw", "clean", "features", "train", "model"}
    assert ancestors_of(diamond, "report", depth=1) == {"clean", "model"}
    assert ancestors_of(diamond, "report", depth=2) == {"clean", "model", "raw", "train"}
    assert ancestors_of(diamond, "raw") == set()
    assert ancestors_of(diamond, "report", depth=0) == set()


def test_descendants_follow_edges_along_their_direction(diamond):
    assert descendants_of(diamond, "clean", depth=1) == {"features", "report"}
    assert descendants_of(diamond, "clean") == {"features", "train", "model", "report"}


@pytest.mark.parametrize("depth", [-1, 2.0, "3", True])
def test_bad_depths_are_refused_naming_the_value(diamond, depth):
    with pytest.raises(InvalidLineageQueryError, match=re.escape(repr(depth))) as info:
        ancestors_of(diamond, "report", depth=depth)

    assert isinstance(info.value, ValueError) and isinstance(info.value, LineageError)


def test_a_missing_node_is_a_not_found_error_naming_it(diamond):
    with pytest.raises(LineageNodeNotFoundError, match="'ghost'") as info:
        descendants_of(diamond, "ghost")

    assert isinstance(info.value, NotFoundError)


def test_path_is_shortest_and_upstream_first_whichever_end_comes_first(diamond):
    assert lineage_path(diamond, "clean", "report") == ["clean", "report"]
    assert lineage_path(diamond, "report", "raw") == ["raw", "clean", "report"]
    assert lineage_path(diamond, "train", "train") == ["train"]


def test_no_path_between_siblings_is_a_not_found_error(diamond):
    diamond.add_edge("clean", "audit")

    with pytest.raises(NoLineagePathError, match="'audit' and 'model'") as info:
        lineage_path(diamond, "audit", "model")

    assert isinstance(info.value, NotFoundError)


def test_check_acyclic_names_the_cycle():
    g = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])

    with pytest.raises(LineageCycleError, match=r"a -> b -> c -> a"):
        check_acyclic(g)
    check_acyclic(nx.DiGraph([("a", "b")]))


def _step(g: nx.DiGraph, node: str, invocation: str, run: str, step: str | None = None) -> None:
    attributes = {"run_id": run, "invocation_id": invocation}
    if step is not None:
        attributes["step_name"] = step
    g.add_node(node, kind="step_run", label=invocation, attributes=attributes)


def test_collapse_merges_repeated_invocations_of_a_step_within_one_run():
    g = nx.DiGraph()
    for node, invocation in [("s1", "total"), ("s3", "total_3"), ("s2", "total_2")]:
        _step(g, node, invocation, "r1")
    _step(g, "other_run", "total_2", "r2")
    _step(g, "t", "totals_2", "r1")
    g.add_node("numbers", kind="artifact", label="numbers:1", attributes={})
    g.add_node("out", kind="artifact", label="out:1", attributes={})
    g.add_edges_from([("numbers", n) for n in ("s1", "s2", "s3")], kind="consumed")
    g.add_edge("s3", "out", kind="produced")

    collapsed = collapse_invocations(g)

    assert set(collapsed.nodes) == {"s1", "other_run", "t", "numbers", "out"}
    assert collapsed.nodes["s1"]["members"] == ["s1", "s2", "s3"]
    assert collapsed.nodes["s1"]["label"] == "total x3"
    assert set(collapsed.edges) == {("numbers", "s1"), ("s1", "out")}
    assert collapsed.edges["s1", "out"]["kind"] == "produced"
    assert set(g.nodes) >= {"s2", "s3"}  # the input graph is left alone


def test_collapse_prefers_the_step_name_over_the_suffix():
    g = nx.DiGraph()
    _step(g, "a", "layer_2", "r1", step="layer_2")
    _step(g, "b", "layer", "r1", step="layer")
    _step(g, "c", "split", "r1", step="shuffle")
    _step(g, "d", "split_b", "r1", step="shuffle")

    collapsed = collapse_invocations(g)

    assert {"a", "b"} <= set(collapsed.nodes)
    assert collapsed.nodes["c"]["members"] == ["c", "d"]


# -- LineageGraph ---------------------------------------------------------------------


def _node(node_id: str, kind: str, label: str, position: int, **attributes) -> LineageNode:
    return LineageNode(node_id, kind, label, attributes, position, T0, depth=None)


def _edge(src: str, dst: str, kind: str, position: int) -> LineageEdge:
    return LineageEdge(src, dst, kind, position, T0)


@pytest.fixture
def lineage() -> LineageGraph:
    nodes = [
        _node("raw", "artifact", 'raw "data":1', 2, created_at=T0, deleted=True),
        _node("s1", "step_run", "total", 3, run_id="r1", run_label="p / first"),
        _node("s2", "step_run", "total_2", 4, run_id="r1", run_label="p / first"),
        _node("out", "artifact", "p::total::output:1", 5),
        _node(
            "s3", "step_run", "load", 6, run_id="r2", run_label="p / second", cache_outcome="hit"
        ),
    ]
    edges = [
        _edge("raw", "s1", "consumed", 3),
        _edge("raw", "s2", "consumed", 4),
        _edge("s2", "out", "produced", 5),
        _edge("s1", "s3", "cached_from", 6),
    ]
    return LineageGraph("out", {n.id: n for n in nodes}, edges, as_of=6, direction="upstream")


def test_lineage_graph_delegates_to_the_graph_functions(lineage):
    assert lineage.ancestors_of("out") == {"s2", "raw"}
    assert lineage.descendants_of("raw", depth=1) == {"s1", "s2"}
    assert lineage.path("out", "raw") == ["raw", "s2", "out"]
    g = lineage.to_networkx()
    assert g.nodes["raw"]["kind"] == "artifact"
    assert g.edges["s1", "s3"]["kind"] == "cached_from"


def test_to_dict_is_json_with_iso_times(lineage):
    data = json.loads(json.dumps(lineage.to_dict()))

    assert data["root"] == "out" and data["as_of"] == 6
    assert data["nodes"][0]["attributes"]["created_at"] == "2024-05-01T00:00:00+00:00"
    assert [e["kind"] for e in data["edges"]] == ["consumed", "consumed", "produced", "cached_from"]


def _check_dot(text: str) -> None:
    if shutil.which("dot"):
        out = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert text.startswith("digraph lineage {") and text.rstrip().endswith("}")
    assert unquoted.count("{") == unquoted.count("}")


def test_dot_is_valid_quotes_labels_and_clusters_runs(lineage):
    text = lineage.to_dot()

    _check_dot(text)
    assert 'label="raw \\"data\\":1\n' in text
    assert text.count("subgraph cluster_run_") == 2
    cache_line = text[text.index("\ts1 -> s3 [") :].split("]", 1)[0]
    assert "style=dotted" in cache_line and "label=" not in cache_line
    root = text[text.index("\tout [") :].split("]", 1)[0]
    assert 'label="p::total::output:1\nout"' in root and "penwidth=3" in root


def test_collapsed_dot_draws_one_node_per_repeated_step(lineage):
    text = lineage.to_dot(collapse=True)

    _check_dot(text)
    assert "s2 [" not in text and "s2 ->" not in text
    assert 'label="total x2\n' in text
    assert re.search(r"\ts1 -> out \[[^\]]*tooltip=produced", text)
