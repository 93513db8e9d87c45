"""ArtifactConfig on step outputs, written as ZenML's "artifact versioning" docs write it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
from artifact_history import check_history

from lineagelog.api import (
    ArtifactConfig,
    ArtifactType,
    Client,
    DuplicateVersionError,
    PipelineDefinitionError,
    RunFailedError,
    pipeline,
    step,
)


@step(enable_cache=False)
def training_data_loader() -> Annotated[
    list[int],
    ArtifactConfig(
        name="iris_dataset",
        version="raw_2023",
        tags=["raw", "iris"],
        run_metadata={"rows": 3},
        artifact_type=ArtifactType.DATA_ANALYSIS,
    ),
]:
    return [1, 2, 3]


@pipeline
def feature_engineering_pipeline() -> None:
    training_data_loader()


@step
def numbered() -> Annotated[dict[str, Any], ArtifactConfig(name="numbered")]:
    return {"a": 1}


@pipeline
def numbering() -> None:
    numbered()


def test_an_artifact_config_names_versions_tags_and_types_the_output(
    sqlite_stores: tuple[str, str], tmp_path: Path
) -> None:
    before = Client().context.events.max_position()

    run = feature_engineering_pipeline()

    version = Client().get_artifact_version("iris_dataset", "raw_2023")
    assert (version.version, version.number) == ("raw_2023", 1)
    assert version.tags == ("iris", "raw")
    assert version.user_metadata == {"rows": 3} and version.run_metadata["rows"] == 3
    assert version.artifact_type == "DataAnalysisArtifact"
    assert version.load() == [1, 2, 3]
    assert run.steps["training_data_loader"].outputs["iris_dataset"].id == version.id
    assert Client().list_artifact_versions(tag="iris") == [version]
    assert Client().as_of(before).list_artifact_versions() == []
    check_history(Client(), tmp_path)


def test_a_version_name_taken_again_fails_the_step_and_keeps_the_first(
    sqlite_stores: tuple[str, str],
) -> None:
    feature_engineering_pipeline()

    with pytest.raises(RunFailedError, match="already has a version named 'raw_2023'") as e:
        feature_engineering_pipeline()

    assert isinstance(e.value.__cause__, DuplicateVersionError)
    assert [v.version for v in Client().list_artifact_versions("iris_dataset")] == ["raw_2023"]


def test_without_a_version_the_config_gives_numbers_and_lookups_take_either(
    sqlite_stores: tuple[str, str],
) -> None:
    numbering()
    numbering.with_options(enable_cache=False)()

    client = Client()
    assert [v.version for v in client.list_artifact_versions("numbered")] == ["1", "2"]
    assert client.get_artifact_version("numbered", 2) == client.get_artifact_version(
        "numbered", "2"
    )
    assert client.lineage("numbered:2").nodes


def test_model_control_plane_options_are_refused_with_a_message() -> None:
    with pytest.raises(PipelineDefinitionError, match="Model Control Plane"):
        ArtifactConfig(name="model", is_model_artifact=True)
    with pytest.raises(PipelineDefinitionError, match="artifact_type 'nope'"):
        ArtifactConfig(artifact_type="nope")
