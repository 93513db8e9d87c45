"""Lineage queries against a real SQLite file: events saved, projected, then walked."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import create_engine

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.view_engine import sqlite_write_locking
from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.errors import (
    InvalidLineageQueryError,
    LineageError,
    LineageNodeNotFoundError,
    NoLineagePathError,
    NotFoundError,
)
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome
from lineagelog.projections.lineage_queries import LineageQueries, resolve_node
from lineagelog.projections.projector import Projector
from lineagelog.projections.queries import ViewQueries


@dataclass
class History:
    """Builds runs, step runs and artifacts through the aggregates, saved to the log."""

    store: EventStore
    names: dict[str, ArtifactName] = field(default_factory=dict)

    def start_run(self, pipeline: str = "training", run_name: str = "run") -> PipelineRun:
        run = PipelineRun.start(
            pipeline=pipeline, run_name=run_name, parameters={}, dag={}, environment={}
        )
        self.store.save(run)
        return run

    def execute(
        self,
        run: PipelineRun,
        invocation: str,
        inputs: dict[str, str] | None = None,
        outputs: tuple[str, ...] = (),
        step_name: str | None = None,
    ) -> tuple[StepRun, dict[str, str]]:
        """A step run that misses the cache and writes ``outputs`` (artifact names)."""
        step = self._start(run, invocation, inputs or {}, step_name)
        step.decide_cache(
            cache_key=uuid4().hex,
            outcome=CacheOutcome.MISS,
            reason="no earlier execution",
            ingredients={},
        )
        written: dict[str, str] = {}
        pending: list[Any] = []
        for name in outputs:
            artifact_id = uuid4()
            artifact_name = self.names.get(name) or ArtifactName.register_name(name)
            self.names[name] = artifact_name
            version = artifact_name.register_version(artifact_id, step.id, "c0ffee")
            step.record_artifact(
                output_name=name,
                artifact_version_id=artifact_id,
                name=name,
                version=version,
                uri=f"memory://artifacts/{name}/{artifact_id}",
                materializer="builtins",
                data_type="builtins.dict",
                artifact_type="data",
                content_hash="c0ffee",
                size=12,
                metadata={},
                visualizations=[],
            )
            pending.append(artifact_name)
            written[name] = str(artifact_id)
        step.succeed(duration_s=0.1)
        self.store.save(step, *pending)
        return step, written

    def cache_hit(
        self,
        run: PipelineRun,
        invocation: str,
        original: StepRun,
        reused: dict[str, str],
        inputs: dict[str, str] | None = None,
    ) -> StepRun:
        step = self._start(run, invocation, inputs or {}, None)
        step.decide_cache(
            cache_key=uuid4().hex,
            outcome=CacheOutcome.HIT,
            reason="cached",
            ingredients={},
            original_step_run_id=original.id,
            reused_outputs=reused,
        )
        step.succeed(duration_s=0.0)
        self.store.save(step)
        return step

    def complete(self, run: PipelineRun) -> int:
        run.complete()
        return self.store.save(run)[-1]

    def _start(
        self, run: PipelineRun, invocation: str, inputs: dict[str, str], step_name: str | None
    ) -> StepRun:
        return StepRun.start(
            run_id=run.id,
            pipeline=run.pipeline,
            invocation_id=invocation,
            step_name=step_name or invocation,
            source_ref=f"steps:{invocation}",
            code_hash="abc",
            parameters={},
            inputs=inputs,
        )


@dataclass
class World:
    history: History
    projector: Projector
    lineage: LineageQueries
    views: ViewQueries
    ids: dict[str, str]
    run1_end: int
    between_runs: datetime


@pytest.fixture
def world(tmp_path):
    """Two runs of ``training``; the second serves load and clean from cache.

    run 1: load -> raw:1 -> clean -> clean:1 -> train -> model:1
                                   clean:1, model:1 -> report -> report:1
    run 2: load (hit, reused raw:1), clean (hit, reused clean:1),
           clean:1 -> train -> model:2 -> total, total_2 -> training::total::output:1..2
    """
    store = EventStore(f"sqlite:///{tmp_path / 'lineage.db'}")
    engine = create_engine(f"sqlite:///{tmp_path / 'lineage.db'}")
    sqlite_write_locking(engine)
    history = History(store)
    ids: dict[str, str] = {}

    run1 = history.start_run(run_name="first")
    load1, out = history.execute(run1, "load", outputs=("raw",))
    ids |= {"run1": str(run1.id), "load1": str(load1.id), "raw:1": out["raw"]}
    clean1, out = history.execute(run1, "clean", {"data": ids["raw:1"]}, ("clean",))
    ids |= {"clean1": str(clean1.id), "clean:1": out["clean"]}
    train1, out = history.execute(run1, "train", {"data": ids["clean:1"]}, ("model",))
    ids |= {"train1": str(train1.id), "model:1": out["model"]}
    report1, out = history.execute(
        run1, "report", {"data": ids["clean:1"], "model": ids["model:1"]}, ("report",)
    )
    ids |= {"report1": str(report1.id), "report:1": out["report"]}
    run1_end = history.complete(run1)
    between_runs = datetime.now(UTC)

    run2 = history.start_run(run_name="second")
    load2 = history.cache_hit(run2, "load", load1, {"raw": ids["raw:1"]})
    clean2 = history.cache_hit(
        run2, "clean", clean1, {"clean": ids["clean:1"]}, {"data": ids["raw:1"]}
    )
    train2, out = history.execute(run2, "train", {"data": ids["clean:1"]}, ("model",))
    ids |= {"run2": str(run2.id), "load2": str(load2.id), "clean2": str(clean2.id)}
    ids |= {"train2": str(train2.id), "model:2": out["model"]}
    name = "training::total::output"
    total, out = history.execute(run2, "total", {"model": ids["model:2"]}, (name,), "total")
    ids |= {"total": str(total.id), "total:1": out[name]}
    total_2, out = history.execute(run2, "total_2", {"model": ids["model:2"]}, (name,), "total")
    ids |= {"total_2": str(total_2.id), "total:2": out[name]}
    history.complete(run2)

    projector = Projector(engine, store, page_size=7)
    projector.create_tables()
    projector.catch_up()
    yield World(
        history,
        projector,
        LineageQueries(engine),
        ViewQueries(engine),
        ids,
        run1_end,
        between_runs,
    )
    engine.dispose()
    store.close()


def _names(world: World, node_ids) -> set[str]:
    by_id = {v: k for k, v in world.ids.items()}
    return {by_id.get(n, n) for n in node_ids}


def test_upstream_of_a_model_is_everything_it_came_from_and_nothing_after_it(world):
    graph = world.lineage.lineage(world.ids["model:2"], "upstream")

    assert _names(world, graph.nodes) == {
        "model:2",
        "train2",
        "clean:1",
        "clean1",
        "raw:1",
        "load1",
    }
    assert {(e.kind) for e in graph.edges} == {"produced", "consumed"}
    assert graph.nodes[world.ids["model:2"]].depth == 0
    assert graph.nodes[world.ids["clean:1"]].depth == 2
    assert graph.nodes[world.ids["load1"]].depth == 5


def test_upstream_of_a_cached_step_run_reaches_the_original_execution(world):
    graph = world.lineage.lineage(world.ids["clean2"], "upstream")

    assert _names(world, graph.nodes) == {"clean2", "raw:1", "load1", "clean1"}
    kinds = {
        (_names(world, [e.src]).pop(), _names(world, [e.dst]).pop(), e.kind) for e in graph.edges
    }
    assert ("clean1", "clean2", "cached_from") in kinds
    assert ("raw:1", "clean2", "consumed") in kinds


def test_downstream_of_a_cached_step_run_stops_at_the_artifacts_it_served(world):
    graph = world.lineage.lineage(world.ids["clean2"], "downstream")

    assert _names(world, graph.nodes) == {"clean2", "clean:1"}
    assert [e.kind for e in graph.edges] == ["reused"]
    assert graph.nodes[world.ids["clean2"]].attributes["cache_outcome"] == "hit"


def test_downstream_of_an_original_execution_includes_its_cache_hits(world):
    graph = world.lineage.lineage(world.ids["clean1"], "downstream", depth=1)

    assert _names(world, graph.nodes) == {"clean1", "clean:1", "clean2"}


def test_downstream_of_raw_data_reaches_every_consumer_across_runs(world):
    graph = world.lineage.lineage(world.ids["raw:1"], "downstream")

    names = _names(world, graph.nodes)
    assert {"clean1", "clean2", "clean:1", "train1", "train2", "model:1", "model:2"} <= names
    assert {"report:1", "total:1", "total:2"} <= names
    assert "load1" not in names and "load2" not in names
    assert all(n.kind != "run" for n in graph.nodes.values())


def test_depth_counts_hops_from_the_root(world):
    one = world.lineage.lineage(world.ids["model:2"], "upstream", depth=1)
    two = world.lineage.lineage(world.ids["model:2"], "upstream", depth=2)
    zero = world.lineage.lineage(world.ids["model:2"], "upstream", depth=0)

    assert _names(world, one.nodes) == {"model:2", "train2"}
    assert _names(world, two.nodes) == {"model:2", "train2", "clean:1"}
    assert _names(world, zero.nodes) == {"model:2"}
    assert zero.edges == []


def test_both_directions_joins_ancestors_and_descendants(world):
    graph = world.lineage.lineage(world.ids["clean:1"], "both", depth=2)

    assert _names(world, graph.nodes) == {
        "raw:1",
        "clean1",
        "clean:1",
        "train1",
        "report1",
        "train2",
        "model:1",
        "report:1",
        "model:2",
    }
    assert graph.ancestors_of(world.ids["clean:1"]) == {world.ids["clean1"], world.ids["raw:1"]}


def test_a_run_stands_for_its_step_runs_without_wandering_into_siblings(world):
    downstream = world.lineage.lineage(world.ids["run1"], "downstream", depth=1)
    upstream = world.lineage.lineage(world.ids["train2"], "upstream")

    assert _names(world, downstream.nodes) == {
        "run1",
        "load1",
        "clean1",
        "train1",
        "report1",
        "raw:1",
        "clean:1",
        "model:1",
        "report:1",
        "clean2",
        "load2",
    }
    assert downstream.nodes[world.ids["train1"]].depth == 0
    assert {e.kind for e in downstream.edges} >= {"contains", "produced", "cached_from"}
    # from train2 upstream: never into run2 and out to its sibling steps
    assert "run2" not in _names(world, upstream.nodes)
    assert "total" not in _names(world, upstream.nodes)
    assert upstream.nodes[world.ids["train2"]].attributes["run_id"] == world.ids["run2"]
    assert upstream.nodes[world.ids["train2"]].attributes["run_label"] == "training / second"


def test_as_of_a_position_shows_the_graph_as_it_stood(world):
    now = world.lineage.lineage(world.ids["clean:1"], "downstream")
    then = world.lineage.lineage(world.ids["clean:1"], "downstream", as_of=world.run1_end)

    assert {"train2", "model:2"} <= _names(world, now.nodes)
    assert _names(world, then.nodes) == {"clean:1", "train1", "model:1", "report1", "report:1"}
    assert all(e.position <= world.run1_end for e in then.edges)
    assert then.as_of == world.run1_end


def test_as_of_a_moment_goes_through_the_timeline(world):
    position = world.views.position_at(world.between_runs)

    graph = world.lineage.lineage(world.ids["load1"], "downstream", depth=1, as_of=position)

    assert position == world.run1_end
    assert _names(world, graph.nodes) == {"load1", "raw:1"}


def test_as_of_shows_statuses_as_they_were(world):
    first_event_of_clean1 = world.views.get_step_run(world.ids["clean1"]).started_pos

    graph = world.lineage.lineage(world.ids["clean1"], "upstream", as_of=first_event_of_clean1)

    attributes = graph.nodes[world.ids["clean1"]].attributes
    assert attributes["status"] == "running"
    assert attributes["cache_outcome"] is None


def test_a_node_younger_than_as_of_is_not_found_and_the_message_says_when_it_appeared(world):
    with pytest.raises(LineageNodeNotFoundError, match=r"did not exist yet as of position"):
        world.lineage.lineage(world.ids["model:2"], as_of=world.run1_end)


def test_unknown_node_names_the_id_and_how_to_find_ids(world):
    missing = str(UUID(int=7))

    with pytest.raises(NotFoundError, match=rf"no lineage node with id '{missing}'.*runs list"):
        world.lineage.lineage(missing)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"direction": "sideways"}, "'sideways'"),
        ({"depth": -1}, "-1"),
        ({"depth": 1.5}, "1.5"),
        ({"depth": True}, "True"),
        ({"as_of": -3}, "-3"),
    ],
)
def test_bad_arguments_are_refused_with_the_bad_value(world, kwargs, bad):
    with pytest.raises(InvalidLineageQueryError, match=bad) as info:
        world.lineage.lineage(world.ids["model:1"], **kwargs)

    assert isinstance(info.value, LineageError) and isinstance(info.value, ValueError)


def test_artifact_attributes_come_from_the_catalog(world):
    graph = world.lineage.lineage(world.ids["model:2"], depth=0)

    node = graph.nodes[world.ids["model:2"]]
    assert node.kind == "artifact" and node.label == "model:2"
    assert node.attributes["name"] == "model" and node.attributes["version"] == "2"
    assert node.attributes["content_hash"] == "c0ffee" and node.attributes["deleted"] is False
    assert node.attributes["producer_step_run_id"] == world.ids["train2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model:1", "model:1"),
        ("model", "model:2"),
        ("training::total::output", "total:2"),
        ("training::total::output:1", "total:1"),
    ],
)
def test_resolve_node_reads_names_and_versions(world, text, expected):
    assert resolve_node(world.views, text) == world.ids[expected]


def test_resolve_node_accepts_ids_of_every_kind(world):
    for key in ("run1", "train1", "model:1"):
        assert resolve_node(world.views, UUID(world.ids[key])) == world.ids[key]
        assert resolve_node(world.views, world.ids[key].upper()) == world.ids[key]


def test_resolve_node_as_of_takes_the_latest_version_then(world):
    assert resolve_node(world.views, "model", as_of=world.run1_end) == world.ids["model:1"]


def test_resolve_node_names_what_it_could_not_find(world):
    with pytest.raises(LineageNodeNotFoundError, match=r"'model:9'.*versions are 1, 2"):
        resolve_node(world.views, "model:9")
    with pytest.raises(LineageNodeNotFoundError, match=r"'nothing'"):
        resolve_node(world.views, "nothing")


def test_path_runs_from_upstream_to_downstream_either_way(world):
    graph = world.lineage.lineage(world.ids["model:2"], "upstream")

    path = graph.path(world.ids["model:2"], world.ids["raw:1"])

    assert _names(world, path) == {"raw:1", "clean1", "clean:1", "train2", "model:2"}
    assert path[0] == world.ids["raw:1"] and path[-1] == world.ids["model:2"]
    with pytest.raises(NoLineagePathError):
        world.lineage.lineage(world.ids["raw:1"], "both").path(
            world.ids["model:1"], world.ids["model:2"]
        )


def test_networkx_graph_carries_kinds_labels_and_attributes(world):
    graph = world.lineage.lineage(world.ids["total:2"], "upstream")

    g = graph.to_networkx()

    assert set(g.nodes) == set(graph.nodes)
    assert g.nodes[world.ids["total_2"]]["kind"] == "step_run"
    assert g.nodes[world.ids["total_2"]]["label"] == "total_2"
    assert g.edges[world.ids["model:2"], world.ids["total_2"]]["kind"] == "consumed"
    assert graph.descendants_of(world.ids["clean:1"]) >= {world.ids["train2"]}


def test_to_dict_is_json(world):
    graph = world.lineage.lineage(world.ids["run2"], "both")

    data = json.loads(json.dumps(graph.to_dict()))

    assert data["root"] == world.ids["run2"] and data["direction"] == "both"
    assert {n["id"] for n in data["nodes"]} == set(graph.nodes)
    assert len(data["edges"]) == len(graph.edges)


def test_dot_of_a_run_is_valid_and_clusters_its_steps(world, tmp_path):
    graph = world.lineage.lineage(world.ids["run2"], "both")

    dot = graph.to_dot(collapse=True)

    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    assert 'label="training / second\n' in dot and "total x2" in dot
    if shutil.which("dot"):
        out = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    else:
        assert dot.count("{") == dot.count("}")
        for node_id in graph.nodes:
            if graph.nodes[node_id].kind != "run" and node_id != world.ids["total_2"]:
                assert f'"{node_id}" [' in dot or f"{node_id} [" in dot


def test_a_rebuilt_view_answers_the_same(world):
    before = world.lineage.lineage(world.ids["run1"], "both").to_dict()

    world.projector.rebuild()

    assert world.lineage.lineage(world.ids["run1"], "both").to_dict() == before


def test_a_node_reached_at_several_depths_appears_once_with_its_fewest_hops(world):
    # report1 consumed clean:1 directly and through model:1 <- train1 <- clean:1
    graph = world.lineage.lineage(world.ids["report:1"], "upstream", depth=5)

    keys = [(e.src, e.dst, e.kind) for e in graph.edges]
    assert len(keys) == len(set(keys))
    assert graph.nodes[world.ids["clean:1"]].depth == 2
    assert _names(world, graph.nodes) == {
        "report:1",
        "report1",
        "clean:1",
        "model:1",
        "train1",
        "clean1",
        "raw:1",
        "load1",
    }
