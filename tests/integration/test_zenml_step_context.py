"""What a step sees while it runs, used the way ZenML's documentation uses it, on SQLite.

``get_step_context()`` (pipeline, run, step run, output URIs and materializers),
``UnmaterializedArtifact`` inputs, and ``enable_artifact_metadata`` /
``enable_artifact_visualization`` with their precedence.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import pytest

from lineagelog.api import (
    BuiltInMaterializer,
    Client,
    HTMLString,
    StepContextError,
    UnmaterializedArtifact,
    fileio,
    get_step_context,
    pipeline,
    step,
)

seen: dict[str, Any] = {}


@step
def my_step() -> Annotated[str, "greeting"]:
    step_context = get_step_context()
    seen["pipeline_name"] = step_context.pipeline.name
    seen["run_name"] = step_context.pipeline_run.name
    seen["run_id"] = step_context.pipeline_run.id
    seen["step_name"] = step_context.step_run.name
    seen["step_id"] = step_context.step_run.id
    # Get the URI where the output will be saved.
    seen["uri"] = step_context.get_output_artifact_uri()
    # Get the materializer that will be used to save the output.
    seen["materializer"] = step_context.get_output_materializer()
    seen["output_names"] = step_context.output_names
    return "hello"


@step
def two_outputs() -> tuple[Annotated[int, "low"], Annotated[int, "high"]]:
    context = get_step_context()
    seen["low_uri"] = context.get_output_artifact_uri("low")
    try:
        context.get_output_artifact_uri()
    except StepContextError as e:
        seen["unnamed_error"] = str(e)
    return 1, 9


def test_the_step_context_names_the_pipeline_run_step_and_the_real_output_uri(sqlite_stores):
    @pipeline
    def greeting_pipeline() -> None:
        my_step()

    run = greeting_pipeline()

    output = run.steps["my_step"].outputs["greeting"]
    assert seen["pipeline_name"] == "greeting_pipeline"
    assert (seen["run_name"], seen["run_id"]) == (run.run_name, run.id)
    assert (seen["step_name"], seen["step_id"]) == ("my_step", run.steps["my_step"].id)
    assert seen["uri"] == output.uri
    assert seen["output_names"] == ("greeting",)
    materializer = seen["materializer"]
    assert isinstance(materializer, BuiltInMaterializer)
    # on a local store a materializer gets the folder as a plain path, as in ZenML
    assert materializer.uri == Client().context.artifacts.local_path(output.uri)
    assert output.materializer.endswith("BuiltInMaterializer")
    assert output.load() == "hello"


def test_a_step_with_several_outputs_must_name_the_one_it_asks_for(sqlite_stores):
    @pipeline
    def split_pipeline() -> None:
        two_outputs()

    run = split_pipeline()

    assert seen["low_uri"] == run.steps["two_outputs"].outputs["low"].uri
    assert "several outputs ['low', 'high']" in seen["unnamed_error"]


def test_outside_a_step_the_context_is_a_runtime_error_as_in_zenml(sqlite_stores):
    with pytest.raises(RuntimeError, match="only available inside a step"):
        get_step_context()

    with pytest.raises(StepContextError):
        my_step()  # a step called outside a pipeline is a plain function: no context


@step
def write_into_output_uri() -> Annotated[str, "notes"]:
    uri = get_step_context().get_output_artifact_uri()
    fileio.makedirs(uri)
    with fileio.open(os.path.join(uri, "extra.txt"), "w") as f:
        f.write("side file")
    return "notes"


def test_a_step_that_writes_into_its_output_uri_is_refused_with_what_to_do(sqlite_stores):
    @pipeline
    def writing_pipeline() -> None:
        write_into_output_uri()

    with pytest.raises(Exception, match="wrote files into") as raised:
        writing_pipeline()

    assert "materializer's save()" in str(raised.value.__cause__)
    assert Client().list_artifact_versions("notes") == []


@step
def make_text() -> Annotated[str, "text"]:
    return "four score"


@step
def read_raw(text: UnmaterializedArtifact) -> int:
    seen["unmaterialized"] = text
    with fileio.open(os.path.join(text.uri, "data.json")) as f:
        return len(f.read())


def test_an_unmaterialized_input_is_the_artifact_version_with_its_uri_and_lineage(sqlite_stores):
    @pipeline
    def raw_pipeline() -> None:
        read_raw(make_text())

    run = raw_pipeline()

    produced = run.steps["make_text"].outputs["text"]
    artifact = seen["unmaterialized"]
    assert isinstance(artifact, UnmaterializedArtifact)
    assert (artifact.id, artifact.uri, artifact.name) == (produced.id, produced.uri, "text")
    assert artifact.load() == "four score"
    assert run.steps["read_raw"].outputs["output"].load() > 0
    assert run.steps["read_raw"].inputs["text"].id == produced.id
    upstream = Client().lineage(str(run.steps["read_raw"].id), direction="upstream", depth=1)
    assert str(produced.id) in upstream.nodes


@step(enable_artifact_visualization=False)
def page_without_visualization() -> Annotated[HTMLString, "page"]:
    return HTMLString("<h1>hi</h1>")


@step
def page() -> Annotated[HTMLString, "page"]:
    return HTMLString("<h1>hi</h1>")


@step
def numbers() -> Annotated[list[int], "numbers"]:
    return [1, 2, 3]


def test_enable_artifact_visualization_false_on_a_step_saves_no_visualization(sqlite_stores):
    @pipeline(enable_cache=False)
    def pages() -> None:
        page_without_visualization()
        page(id="shown")

    run = pages()

    assert run.steps["page_without_visualization"].outputs["page"].visualizations == []
    assert len(run.steps["shown"].outputs["page"].visualizations) == 1
    recorded = run.dag["steps"]["page_without_visualization"]
    assert recorded["enable_artifact_visualization"] is False
    assert recorded["enable_artifact_metadata"] is True


def test_enable_artifact_metadata_follows_run_then_step_then_pipeline(sqlite_stores):
    @pipeline(enable_cache=False, enable_artifact_metadata=False)
    def metadata_pipeline() -> None:
        numbers()
        numbers.with_options(enable_artifact_metadata=True)(id="own_setting")

    by_pipeline = metadata_pipeline()
    by_run = metadata_pipeline.with_options(enable_artifact_metadata=True).run(
        enable_artifact_metadata=False
    )
    configured = metadata_pipeline.with_options(enable_artifact_metadata=True)()

    assert by_pipeline.steps["numbers"].outputs["numbers"].metadata == {}
    assert "storage_size" in by_pipeline.steps["own_setting"].outputs["numbers"].metadata
    assert by_run.steps["own_setting"].outputs["numbers"].metadata == {}
    assert by_run.dag["steps"]["own_setting"]["enable_artifact_metadata"] is False
    assert configured.steps["numbers"].outputs["numbers"].metadata["storage_size"] > 0


def test_enable_artifact_switches_refuse_values_that_are_not_booleans(sqlite_stores):
    with pytest.raises(Exception, match="enable_artifact_metadata='no' must be True, False"):
        step(enable_artifact_metadata="no")(lambda: 1)  # type: ignore[arg-type]

    @pipeline
    def plain() -> None:
        numbers()

    with pytest.raises(Exception, match="enable_artifact_visualization=1 must be True"):
        plain.run(enable_artifact_visualization=1)  # type: ignore[arg-type]
    assert Client().list_runs() == []
