"""OpenLineage in and out, with real parts: SQLite files, a JSON Schema validator, uvicorn.

Every event lineagelog exports is validated against the vendored specification
(core and each facet, lineagelog's own facets against their shipped schemas);
the specification's own examples are taken in; broken events are refused
naming the field, appending nothing; received events survive a rebuild, the
audit, an export/import and ``as_of``; and lineage crosses from another tool's
job into a pipeline's model.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import pytest
from views import view_rows

from lineagelog.adapters.export import export_events, import_events
from lineagelog.adapters.openlineage.export import export_openlineage
from lineagelog.adapters.openlineage.ingest import ingest_event, ingest_lines
from lineagelog.adapters.openlineage.rows import RowDecoder
from lineagelog.adapters.openlineage.validation import check_run_event, facet_schemas
from lineagelog.api import (
    Client,
    InvalidOpenLineageEventError,
    StorageError,
    pipeline,
    register_artifact,
    step,
)
from lineagelog.api.context import open_context
from lineagelog.domain.openlineage import (
    dataset_node_id,
    dataset_of_uri,
    job_node_id,
    openlineage_run_node_id,
)

# the specification's example documents, copied into the tests (see its README)
SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "openlineage_spec"

_PLACES = (
    ("InputDatasetFacet", "inputFacets"),
    ("OutputDatasetFacet", "outputFacets"),
    ("DatasetFacet", "facets"),
    ("JobFacet", "job"),
    ("RunFacet", "run"),
)


def run_event(
    event_type: str = "COMPLETE",
    *,
    run_id: str | None = None,
    job: tuple[str, str] = ("spark", "etl"),
    inputs: list[tuple[str, str]] = (),  # type: ignore[assignment]
    outputs: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": "2026-05-01T10:00:00.000Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id or str(uuid.uuid4()), "facets": {}},
        "job": {"namespace": job[0], "name": job[1], "facets": {}},
        "inputs": [{"namespace": ns, "name": name} for ns, name in inputs],
        "outputs": [{"namespace": ns, "name": name} for ns, name in outputs],
    }


def spec_example_events() -> list[tuple[str, dict[str, Any]]]:
    """The specification's example facets, each placed in a RunEvent where it belongs."""
    examples = [
        ("example_full_event", json.loads((SPEC / "tests/example_full_event.json").read_text()))
    ]
    for path in sorted(SPEC.glob("tests/*/*.json")):
        facet_class = path.parent.name
        event = run_event(inputs=[("s3://lake", "in")], outputs=[("s3://lake", "out")])
        facets = json.loads(path.read_text())
        place = next((p for suffix, p in _PLACES if facet_class.endswith(suffix)), None)
        if facet_class == "LineageFacet":  # a dataset or a job facet, by its content
            kind = facets["lineage"].get("type") if isinstance(facets["lineage"], dict) else None
            place = "job" if kind == "JOB" or "jobs" in json.dumps(facets) else "facets"
        if place in ("run", "job"):
            event[place]["facets"] = facets
        elif place == "inputFacets":
            event["inputs"][0]["inputFacets"] = facets
        elif place == "outputFacets":
            event["outputs"][0]["outputFacets"] = facets
        else:
            event["outputs"][0]["facets"] = facets
        examples.append((f"{facet_class}/{path.name}", event))
    return examples


@step
def load_data() -> Annotated[list[int], "numbers"]:
    return [1, 2, 3]


@step
def train(numbers: list[int], lr: float = 0.1) -> Annotated[float, "model"]:
    return sum(numbers) * lr


@step(enable_cache=False)
def explode(model: float) -> int:
    raise ValueError(f"no good: {model}")


@pipeline
def training(lr: float = 0.1) -> None:
    train(load_data(), lr=lr)


@pipeline(enable_cache=False)
def training_uncached() -> None:
    train(load_data())


@pipeline
def failing() -> None:
    explode(train(load_data()))


@step
def fit(raw: Path) -> Annotated[str, "classifier"]:
    return raw.read_text()[:10]


@pipeline(enable_cache=False)
def fit_on(version: str) -> None:
    from lineagelog.api import Client as _Client

    fit(_Client().get_artifact_version("raw", version))


def _exported(context: Any, **options: Any) -> list[dict[str, Any]]:
    out = io.StringIO()
    export_openlineage(context.events, out, **options)
    return [json.loads(line) for line in out.getvalue().splitlines()]


# -- out ------------------------------------------------------------------------------


def test_every_exported_event_validates_against_the_spec_and_our_facet_schemas(
    any_stores: tuple[str, str],
) -> None:
    training()
    training()  # cache hits: COMPLETE runs whose outputs are the reused versions
    with pytest.raises(Exception, match="no good"):
        failing()
    context = open_context()

    exported = _exported(context)

    for event in exported:
        check_run_event(event)
    facets = [f for e in exported for f in e["run"]["facets"]]
    assert facet_schemas().schema_for("run", "lineagelog_cache") is not None
    assert facet_schemas().schema_for("dataset", "lineagelog_artifact") is not None
    assert {"parent", "lineagelog_cache", "executionParameters", "errorMessage"} <= set(facets)
    hits = [
        e
        for e in exported
        if e["eventType"] == "COMPLETE"
        and e["run"]["facets"].get("lineagelog_cache", {}).get("outcome") == "hit"
    ]
    assert hits and all(e["outputs"] for e in hits)
    symlinks = {
        i["name"]
        for e in exported
        for d in e["outputs"]
        for i in d["facets"]["symlinks"]["identifiers"]
    }
    assert {"numbers:1", "model:1"} <= symlinks
    assert {e["job"]["name"] for e in exported} >= {"training", "training.train", "failing.explode"}
    assert [e["eventType"] for e in exported if e["job"]["name"] == "failing"] == ["START", "FAIL"]


def test_the_exports_light_decoder_makes_the_records_the_projectors_decoder_makes(
    any_stores: tuple[str, str],
) -> None:
    training()
    training()  # cache hits: reused outputs nested in the decision
    with pytest.raises(Exception, match="no good"):
        failing()
    events = open_context().events
    rows = events.read_rows(0, 10_000)
    rows.append((rows[-1][0] + 1, rows[-1][1], 99, rows[-1][3], b"[1, 2]"))  # not an object

    with pytest.raises(StorageError, match="not an object"):
        RowDecoder(events).decode(rows)
    light = RowDecoder(events).decode(rows[:-1])
    full = events.decode_rows(rows[:-1])

    assert len(light) == len(full) > 20
    for (position, record), expected in zip(light, full, strict=True):
        assert position == expected.position
        assert type(record).__name__ == type(expected.event).__name__
        assert record.__dict__ == expected.event.__dict__
    started = [r for _, r in light if type(r).__name__ == "StepStarted" and r.inputs]
    assert started and all("-" in v for r in started for v in r.inputs.values())


def test_the_same_log_exports_the_same_bytes_and_since_leaves_out_earlier_events(
    any_stores: tuple[str, str],
) -> None:
    training()
    middle = open_context().events.max_position()
    training(lr=0.2)
    context = open_context()

    first, second = io.StringIO(), io.StringIO()
    export_openlineage(context.events, first, namespace="ml")
    export_openlineage(context.events, second, namespace="ml")
    later = _exported(context, since=middle, namespace="ml")

    assert first.getvalue() == second.getvalue()
    assert all(
        json.loads(line)["job"]["namespace"] == "ml" for line in first.getvalue().splitlines()
    )
    assert later and all(e["eventTime"] > _exported(context)[0]["eventTime"] for e in later)
    assert len(later) < len(first.getvalue().splitlines())
    train_inputs = [e["inputs"] for e in later if e["job"]["name"] == "training.train"]
    assert train_inputs and all(train_inputs)  # inputs written before --since are still named


# -- in -------------------------------------------------------------------------------


BROKEN = [
    (lambda e: e.pop("eventTime"), "eventTime"),
    (lambda e: e.pop("producer"), "producer"),
    (lambda e: e.pop("schemaURL"), "schemaURL"),
    (lambda e: e["run"].pop("runId"), "run.runId"),
    (lambda e: e["run"].update(runId="not-a-uuid"), "run.runId"),
    (lambda e: e["job"].pop("namespace"), "job.namespace"),
    (lambda e: e["job"].pop("name"), "job.name"),
    (lambda e: e.pop("run"), "run"),
    (lambda e: e.update(eventType="DONE"), "eventType"),
    (lambda e: e.update(eventTime="yesterday"), "eventTime"),
    (lambda e: e["inputs"][0].pop("name"), "inputs[0].name"),
    (
        lambda e: e["run"]["facets"].update(
            parent={"_producer": "https://x", "_schemaURL": "https://x", "job": {}}
        ),
        "run.facets.parent",
    ),
]
"""Events broken in one field each, and the field the refusal must name."""


@pytest.mark.parametrize(
    ("name", "event"), spec_example_events(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_specifications_example_events_are_accepted(
    any_stores: tuple[str, str], name: str, event: dict[str, Any]
) -> None:
    context = open_context()

    result = ingest_event(context.repository, json.dumps(event))

    assert result.accepted == 1


@pytest.mark.parametrize(("breaking", "field"), BROKEN)
def test_an_event_broken_in_a_required_field_is_refused_naming_it_and_appends_nothing(
    any_stores: tuple[str, str], breaking: Any, field: str
) -> None:
    context = open_context()
    event = run_event(inputs=[("s3://lake", "raw")])
    breaking(event)
    before = context.events.max_position()

    with pytest.raises(InvalidOpenLineageEventError) as refused:
        ingest_event(context.repository, json.dumps(event))

    assert refused.value.field.startswith(field)
    assert repr(field) in str(refused.value) or field in str(refused.value)
    assert context.events.max_position() == before


def test_the_compiled_validators_alone_take_the_examples_and_refuse_every_broken_event() -> None:
    """The compiled fast path never lets through what jsonschema would refuse."""
    schemas = facet_schemas()
    compiled = schemas.compiled()
    assert "https://openlineage.io/spec/2-0-2/OpenLineage.json" in compiled
    assert any("ParentRunFacet" in uri for uri in compiled)
    assert not any("LineageFacet.json" in uri for uri in compiled)  # dependentRequired
    for name, event in spec_example_events():
        assert schemas.quick_valid(event), name
    for breaking, field in BROKEN:
        event = run_event(inputs=[("s3://lake", "raw")])
        breaking(event)
        if "run" in event:
            assert not schemas.quick_valid(event), field
    # LineageFacet's dependentRequired is no draft-7 keyword: jsonschema checks that facet
    event = run_event()
    event["job"]["facets"] = json.loads((SPEC / "tests/LineageFacet/implicit-job.json").read_text())
    assert schemas.quick_valid(event)
    event["job"]["facets"]["lineage"]["_producer"] = 3
    assert not schemas.quick_valid(event)


def test_the_same_event_twice_is_recorded_once_and_unknown_custom_facets_are_kept(
    any_stores: tuple[str, str],
) -> None:
    context = open_context()
    event = run_event()
    event["run"]["facets"]["acme_cost"] = {
        "_producer": "https://acme.example",
        "_schemaURL": "https://acme.example/CostFacet.json",
        "dollars": 12,
    }
    text = json.dumps(event, indent=2)

    first = ingest_event(context.repository, text)
    again = ingest_event(context.repository, json.dumps(event))

    assert (first.accepted, again.accepted, again.duplicates) == (1, 0, 1)
    (received,) = [r.event for r in context.events.iter_all()]
    assert received.document == text  # verbatim, as it arrived
    assert json.loads(received.document)["run"]["facets"]["acme_cost"]["dollars"] == 12


def test_a_file_with_one_bad_line_is_refused_whole_naming_the_line(
    any_stores: tuple[str, str],
) -> None:
    context = open_context()
    good = json.dumps(run_event())
    bad = json.dumps({**run_event(), "producer": 3})

    with pytest.raises(InvalidOpenLineageEventError, match="line 3"):
        ingest_lines(context.repository, [good, "", bad])

    assert context.events.max_position() == 0


# -- across tools -----------------------------------------------------------------------


def test_an_external_job_writes_a_dataset_a_pipeline_reads_and_lineage_connects_them(
    any_stores: tuple[str, str], tmp_path: Path
) -> None:
    raw = tmp_path / "raw.csv"
    raw.write_text("a,b\n1,2\n")
    spark_run = str(uuid.uuid4())
    context = open_context()
    for event_type in ("START", "COMPLETE"):
        ingest_event(
            context.repository,
            json.dumps(
                run_event(
                    event_type,
                    run_id=spark_run,
                    inputs=[("s3://lake", "events")],
                    outputs=[("file", str(raw))],
                )
            ),
        )
    register_artifact(str(raw), name="raw")

    fit_on("1")

    client = Client()
    upstream = client.lineage("classifier")
    assert job_node_id("spark", "etl") not in upstream.nodes  # contains is not walked: the run is
    assert openlineage_run_node_id(spark_run) in upstream.nodes
    assert dataset_node_id("s3://lake", "events") in upstream.nodes
    path = upstream.path("dataset:s3://lake:events", "classifier")
    assert [upstream.nodes[n].kind for n in path] == [
        "dataset",
        "openlineage_run",
        "dataset",
        "artifact",
        "step_run",
        "artifact",
    ]
    downstream = client.lineage("job:spark:etl", direction="downstream")
    assert client.get_artifact_version("classifier").id.__str__() in downstream.nodes
    assert "dataset:file:" + str(raw) in {n.label for n in downstream.nodes.values()}


def test_a_dataset_named_before_or_after_the_artifact_is_joined_the_same_on_rebuild(
    any_stores: tuple[str, str], tmp_path: Path
) -> None:
    training()
    model = Client().get_artifact_version("model")
    namespace, name = dataset_of_uri(model.uri)
    context = open_context()
    ingest_event(
        context.repository,
        json.dumps(run_event(job=("serving", "deploy"), inputs=[(namespace, name)])),
    )
    context.catch_up()
    incremental = view_rows(context)

    context.projector.rebuild()

    assert view_rows(context) == incremental
    downstream = Client().lineage("model", direction="downstream")
    assert dataset_node_id(namespace, name) in downstream.nodes
    assert {e.kind for e in downstream.edges} >= {"stored_as", "consumed"}
    assert Client().audit().ok


def test_an_openlineage_run_has_the_status_of_its_first_terminal_event_and_its_parent_contains_it(
    any_stores: tuple[str, str],
) -> None:
    context = open_context()
    task, dag = str(uuid.uuid4()), str(uuid.uuid4())
    parent = {
        "_producer": "https://airflow.example",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json"
        "#/$defs/ParentRunFacet",
        "run": {"runId": dag},
        "job": {"namespace": "airflow", "name": "dag"},
    }
    positions = []
    for event_type in ("START", "COMPLETE", "FAIL"):  # a late FAIL does not undo the end
        event = run_event(event_type, run_id=task, job=("airflow", "dag.task"))
        event["run"]["facets"]["parent"] = parent
        positions += ingest_event(context.repository, json.dumps(event)).positions
    context.catch_up()
    incremental = view_rows(context)
    task_node, dag_node = openlineage_run_node_id(task), openlineage_run_node_id(dag)

    context.projector.rebuild()

    client = Client()
    assert view_rows(context) == incremental
    now = client.lineage(dag_node, direction="downstream")
    assert (dag_node, task_node, "contains") in {(e.src, e.dst, e.kind) for e in now.edges}
    assert now.nodes[task_node].attributes["status"] == "completed"
    assert now.nodes[dag_node].attributes["status"] == "running"  # known only as a parent
    before_end = client.lineage(dag_node, direction="downstream", as_of=positions[0])
    assert before_end.nodes[task_node].attributes["status"] == "running"
    assert job_node_id("airflow", "dag") in client.lineage("job:airflow:dag").nodes
    assert client.audit().ok


def test_received_events_survive_export_import_and_as_of_before_them_does_not_see_them(
    any_stores: tuple[str, str], tmp_path: Path
) -> None:
    training()
    before = open_context().events.max_position()
    context = open_context()
    ingest_event(context.repository, json.dumps(run_event(outputs=[("s3://lake", "features")])))
    exported = tmp_path / "events.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_events(context.events, out)

    copy = Client(f"sqlite:///{tmp_path / 'copy.db'}", str(tmp_path / "artifacts"))
    with exported.open(encoding="utf-8") as events:
        import_events(copy.context.events, events)

    assert copy.audit().ok
    assert copy.lineage("dataset:s3://lake:features").nodes.keys() == (
        Client().lineage("dataset:s3://lake:features").nodes.keys()
    )
    with pytest.raises(Exception, match="dataset:s3://lake:features"):
        Client().lineage("dataset:s3://lake:features", as_of=before)


def _imported_copy(source: Client, tmp_path: Path) -> Client:
    exported = tmp_path / "history.openlineage.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_openlineage(source.context.events, out)
    copy = Client(f"sqlite:///{tmp_path / 'copy.db'}", str(tmp_path / "copy-artifacts"))
    with exported.open(encoding="utf-8") as lines:
        ingest_lines(copy.context.repository, lines)
    return copy


@pytest.mark.parametrize("direction", ["upstream", "downstream"])
def test_an_exported_history_with_cache_hits_imported_into_an_empty_store_has_the_same_lineage(
    any_stores: tuple[str, str], tmp_path: Path, direction: str
) -> None:
    training_uncached()
    training_uncached()
    training()
    training()  # cache hits: cached_from their originals, their outputs reused, not produced
    source = Client()

    copy = _imported_copy(source, tmp_path)

    kinds = {"consumed", "produced", "cached_from", "reused"}
    seen: set[str] = set()
    for version in source.list_artifact_versions():
        original = source.lineage(version.id, direction=direction)
        as_node = {
            n.id: (
                dataset_node_id(*dataset_of_uri(n.attributes["uri"]))
                if n.kind == "artifact"
                else openlineage_run_node_id(n.id)
            )
            for n in original.nodes.values()
        }
        expected = {
            (as_node[e.src], as_node[e.dst], e.kind) for e in original.edges if e.kind in kinds
        }
        imported = copy.lineage(as_node[str(version.id)], direction=direction)
        assert {(e.src, e.dst, e.kind) for e in imported.edges if e.kind in kinds} == expected
        assert {e.kind for e in imported.edges} - kinds <= {"contains"}
        seen |= {kind for _, _, kind in expected}
    # Upstream, a version has only its producer: a cache hit that reused it is not one.
    assert {"cached_from", "reused"} & seen == (
        {"cached_from", "reused"} if direction == "downstream" else set()
    )
