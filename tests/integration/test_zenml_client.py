"""The post-execution Client used as ZenML's "Inspecting past pipeline runs" page uses it.

The code follows the documentation with only ``zenml`` imports changed to
``lineagelog.api``; the stores are a real SQLite file and folder.
"""

from __future__ import annotations

import zipfile
from typing import Annotated, Tuple  # noqa: UP035  (ZenML's documentation writes Tuple)

import pytest

from lineagelog.api import (
    AmbiguousReferenceError,
    ArtifactNotFoundError,
    Client,
    DownloadPathError,
    DownloadTargetExistsError,
    InvalidFilterError,
    PipelineNotFoundError,
    RunFailedError,
    RunNotFoundError,
    StepRunNotFoundError,
    pipeline,
    step,
)


@step
def training_data_loader() -> Tuple[  # noqa: UP006
    Annotated[list[float], "X_train"],
    Annotated[list[int], "y_train"],
]:
    """Load a tiny dataset."""
    return [0.1, 0.4, 0.9], [0, 0, 1]


@step
def svc_trainer(
    X_train: list[float],
    y_train: list[int],
    gamma: float = 0.001,
) -> Annotated[dict[str, float], "trained_model"]:
    """Train a stand-in model: a threshold scaled by gamma."""
    return {"threshold": 0.5, "gamma": gamma, "n": float(len(X_train) + len(y_train))}


@pipeline
def training_pipeline(gamma: float = 0.002):
    X_train, y_train = training_data_loader()
    svc_trainer(gamma=gamma, X_train=X_train, y_train=y_train)


@pytest.fixture
def two_runs(sqlite_stores):
    first = training_pipeline(gamma=0.005)
    second = training_pipeline.with_options(run_name="second-run")()
    return first, second


# -- pipelines ------------------------------------------------------------------------------


def test_a_pipeline_is_fetched_by_name_with_its_runs_newest_first(two_runs):
    first, second = two_runs

    pipeline_model = Client().get_pipeline("training_pipeline")
    runs = pipeline_model.runs
    last_run = pipeline_model.last_run  # OR: pipeline_model.runs[0]

    assert [r.id for r in runs] == [second.id, first.id]
    assert last_run.id == runs[0].id == second.id
    assert pipeline_model.last_successful_run.id == second.id
    assert pipeline_model.num_runs == 2
    assert pipeline_model.created == first.started_at
    assert pipeline_model.updated >= second.started_at
    assert [p.name for p in Client().list_pipelines()] == ["training_pipeline"]


def test_the_pipeline_object_and_a_run_reach_the_pipeline_model(two_runs):
    first, second = two_runs

    last_run = training_pipeline.model.last_run
    current_run = Client().get_pipeline_run(second.run_name)
    previous_run = current_run.pipeline.runs[1]  # index 0 is the current run

    assert last_run.id == training_pipeline.last_run.id == second.id
    assert [r.id for r in training_pipeline.runs] == [second.id, first.id]
    assert previous_run.id == first.id


@step
def flaky(fail: bool) -> int:
    if fail:
        raise ValueError("flaked")
    return 1


@pipeline
def sometimes(fail: bool = False) -> None:
    flaky(fail=fail)


def test_a_failed_last_run_leaves_the_last_successful_run_behind(sqlite_stores):
    good = sometimes()
    with pytest.raises(RunFailedError):
        sometimes(fail=True)

    model = Client().get_pipeline("sometimes")

    assert model.last_run.status == "failed"
    assert model.last_successful_run.id == good.id


def test_a_pipeline_that_never_ran_or_a_run_name_is_not_a_pipeline(two_runs):
    with pytest.raises(PipelineNotFoundError, match="no pipeline named 'nothing'"):
        Client().get_pipeline("nothing")
    with pytest.raises(PipelineNotFoundError, match="names a run of pipeline 'training_pipeline'"):
        Client().get_pipeline("second-run")


def test_pipelines_as_of_a_moment_before_the_second_run_know_one_run(two_runs):
    first, _ = two_runs
    past = Client().as_of(first.ended_at)

    model = past.get_pipeline("training_pipeline")

    assert model.num_runs == 1
    assert [r.id for r in model.runs] == [first.id]


# -- runs: by id, prefix or name --------------------------------------------------------------


def test_a_run_is_fetched_by_name_id_or_id_prefix(two_runs):
    _, second = two_runs

    by_name = Client().get_pipeline_run("second-run")
    by_id = Client().get_pipeline_run(str(second.id))
    by_prefix = Client().get_pipeline_run(str(second.id)[:8])

    assert by_name.id == by_id.id == by_prefix.id == second.id
    assert Client().get_run(str(second.id)[:8]).id == second.id


def test_a_pipeline_name_is_not_a_run_name(two_runs):
    with pytest.raises(RunNotFoundError, match="'training_pipeline' is a pipeline name, not a run"):
        Client().get_pipeline_run("training_pipeline")


def test_a_prefix_shorter_than_the_minimum_says_the_rule(two_runs):
    _, second = two_runs

    with pytest.raises(RunNotFoundError, match="at least 4 characters"):
        Client().get_pipeline_run(str(second.id)[:3])


def test_a_run_name_given_to_two_runs_is_ambiguous_and_lists_both(sqlite_stores):
    a = training_pipeline.with_options(run_name="nightly")()
    b = training_pipeline.with_options(run_name="nightly")()

    with pytest.raises(AmbiguousReferenceError, match="run name 'nightly'") as caught:
        Client().get_pipeline_run("nightly")

    assert set(caught.value.candidates) == {str(a.id), str(b.id)}


def test_a_step_is_named_by_its_run_not_as_a_step_run_id(two_runs):
    with pytest.raises(StepRunNotFoundError, match=r"steps\['svc_trainer'\]"):
        Client().get_step_run("svc_trainer")


# -- run and step information ------------------------------------------------------------------


def test_run_and_step_configuration_are_what_was_recorded(two_runs):
    first, _ = two_runs
    run = Client().get_pipeline_run(first.id)

    pipeline_config = run.config
    pipeline_settings = run.config.settings
    step = run.steps["svc_trainer"]
    parameters = step.config.parameters

    assert pipeline_config.parameters == {"gamma": 0.005}
    assert pipeline_config.name == "training_pipeline"
    assert pipeline_config.enable_cache is None  # neither the run nor the pipeline set one
    assert pipeline_settings == {}
    assert parameters == {"gamma": 0.005}
    assert step.config.enable_cache is True
    assert step.config.outputs == ("trained_model",)


def test_a_run_without_cache_records_enable_cache_false_for_it_and_every_step(sqlite_stores):
    run = training_pipeline.run(enable_cache=False)

    fetched = Client().get_pipeline_run(run.id)

    assert fetched.config.enable_cache is False
    assert {s.config.enable_cache for s in fetched.steps.values()} == {False}


def test_the_single_output_is_step_output(two_runs):
    _, second = two_runs
    trainer_step = Client().get_pipeline_run(second.id).steps["svc_trainer"]

    output = trainer_step.output
    my_model = output.load()

    assert my_model == trainer_step.outputs["trained_model"].load()
    assert my_model["gamma"] == 0.002


def test_output_of_a_step_with_several_outputs_names_them(two_runs):
    loader = Client().get_pipeline_run(two_runs[0].id).steps["training_data_loader"]

    with pytest.raises(AmbiguousReferenceError, match=r"X_train, y_train.*outputs\['X_train'\]"):
        _ = loader.output
    with pytest.raises(ArtifactNotFoundError, match="has no inputs"):
        _ = loader.input


# -- artifacts ---------------------------------------------------------------------------------


def test_artifacts_and_versions_are_fetched_as_the_documentation_does(two_runs):
    artifact = Client().get_artifact("trained_model")
    versions = artifact.versions  # Contains all the versions of the artifact
    output = artifact.versions["2"]

    by_name_and_version = Client().get_artifact_version("trained_model", "2")
    by_id = Client().get_artifact_version(str(output.id))

    assert list(versions) == ["1", "2"]
    assert by_name_and_version.id == by_id.id == output.id
    assert artifact.latest_version_name == "2"
    assert artifact.latest_version_id == output.id
    assert by_id.load()["gamma"] == 0.002


@pytest.mark.parametrize("form", ["name", "name:version", "id", "prefix"])
def test_get_artifact_version_takes_every_form_the_cli_prints(two_runs, form):
    first_version = Client().get_artifact_version("trained_model", 1)
    reference = {
        "name": "trained_model",
        "name:version": "trained_model:1",
        "id": str(first_version.id).upper(),
        "prefix": str(first_version.id)[:8],
    }[form]

    found = Client().get_artifact_version(reference)

    expected_version = "2" if form == "name" else "1"
    assert str(found.version) == expected_version


def test_unknown_artifacts_say_what_exists(two_runs):
    with pytest.raises(ArtifactNotFoundError, match="its versions are 1, 2"):
        Client().get_artifact_version("trained_model:9")
    with pytest.raises(ArtifactNotFoundError, match="get_artifact takes a name"):
        Client().get_artifact("trained_model:1")


def test_list_artifacts_gives_each_name_with_its_latest_version(two_runs):
    artifacts = Client().list_artifacts()

    latest = {a.name: a.latest_version_name for a in artifacts}
    assert list(latest) == ["X_train", "trained_model", "y_train"]
    assert latest == {"X_train": "1", "trained_model": "2", "y_train": "1"}  # the loader hit


def test_download_files_zips_the_stored_files_and_refuses_to_overwrite(two_runs, tmp_path):
    output = Client().get_artifact_version("trained_model")
    target = tmp_path / "model.zip"

    output.download_files(str(target))

    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert names
        assert all(not n.startswith("/") and ".." not in n for n in names)
    with pytest.raises(DownloadTargetExistsError, match="overwrite=True"):
        output.download_files(str(target))
    with pytest.raises(DownloadPathError, match=r"\.zip"):
        output.download_files(str(tmp_path / "model.tar"))
    assert not (tmp_path / "model.tar").exists()

    target.write_bytes(b"old")
    output.download_files(str(target), overwrite=True)
    assert zipfile.is_zipfile(target)


def test_download_files_holds_the_bytes_a_load_reads(two_runs, tmp_path):
    output = Client().get_artifact_version("X_train")
    target = tmp_path / "x.zip"

    output.download_files(target)

    with zipfile.ZipFile(target) as archive:
        payload = b"".join(archive.read(n) for n in archive.namelist())
    assert b"0.9" in payload


def test_a_deleted_version_cannot_be_downloaded(two_runs, tmp_path):
    Client().delete_artifact_version("X_train", 1, reason="bad rows")

    with pytest.raises(ArtifactNotFoundError, match="was deleted"):
        Client().get_artifact_version("X_train:1").download_files(str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists()


# -- listing filters and lineage references ------------------------------------------------------


def test_listing_with_an_unknown_status_or_outcome_names_the_allowed_values(two_runs):
    with pytest.raises(InvalidFilterError, match=r"unknown run status .done.*completed"):
        Client().list_runs(status="done")
    with pytest.raises(InvalidFilterError, match="unknown step status 'ok'"):
        Client().list_step_runs(status="ok")
    with pytest.raises(InvalidFilterError, match=r"unknown cache outcome .maybe.*hit, miss"):
        Client().list_step_runs(cache_outcome="maybe")


def test_step_runs_are_listed_by_cache_outcome(two_runs):
    hits = Client().list_step_runs(cache_outcome="hit")

    assert {s.name for s in hits} == {"training_data_loader"}
    assert all(s.cache_outcome == "hit" for s in hits)


def test_a_lineage_path_takes_the_references_lineage_takes(two_runs):
    _, second = two_runs
    client = Client()
    graph = client.lineage("trained_model:2", direction="upstream")
    loader = second.steps["training_data_loader"]

    by_reference = graph.path("X_train", "trained_model:2")
    by_prefix = graph.path(str(loader.outputs["X_train"].id)[:8], "trained_model")

    assert by_reference == by_prefix
    assert by_reference[0] == str(loader.outputs["X_train"].id)
    assert by_reference[-1] == str(client.get_artifact_version("trained_model:2").id)
    assert client.lineage("second-run", direction="downstream").root == str(second.id)
