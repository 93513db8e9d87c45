"""ZenML's materializer code in pipelines: a SQLite file, a local folder, and moto S3.

The materializers are written as ZenML's documentation writes them
(``__init__(self, uri)`` calling ``super().__init__(uri)``, ``fileio`` for all
I/O, a materializer that only draws visualizations), with the imports changed
to ``lineagelog.api``.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path
from typing import Annotated, Any, ClassVar

import boto3
import pytest

from lineagelog.api import (
    ArtifactType,
    BaseMaterializer,
    Client,
    HTMLString,
    MarkdownString,
    VisualizationType,
    fileio,
    pipeline,
    step,
)


class Model:
    def __init__(self, weights: list[float]) -> None:
        self.weights = weights


class ModelMaterializer(BaseMaterializer):
    """Writes through a local temporary folder and fileio.copy, as ZenML's docs advise."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Model,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.MODEL

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.model_path = os.path.join(self.uri, "model.txt")

    def save(self, data: Model) -> None:
        with self.get_temporary_directory(delete_at_exit=True) as folder:
            local = os.path.join(folder, "model.txt")
            with open(local, "w") as f:
                f.write(",".join(str(w) for w in data.weights))
            fileio.copy(local, self.model_path)

    def load(self, data_type: type[Any]) -> Model:
        with fileio.open(self.model_path, "r") as f:
            return Model([float(w) for w in f.read().split(",")])

    def extract_metadata(self, data: Model) -> dict[str, Any]:
        return {"parameters": len(data.weights)}


class Report:
    def __init__(self, rows: int) -> None:
        self.rows = rows


class ReportMaterializer(BaseMaterializer):
    """Visualization only: the report is shown, never loaded."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Report,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA_ANALYSIS

    def save_visualizations(self, data: Report) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, "report.html")
        with fileio.open(path, "w") as f:
            f.write(f"<p>{data.rows} rows</p>")
        return {path: VisualizationType.HTML}


@dataclasses.dataclass
class TrainConfig:
    learning_rate: float
    epochs: int


@step
def configure_training() -> Annotated[TrainConfig, "train_config"]:
    return TrainConfig(learning_rate=0.1, epochs=3)


@step
def train(config: TrainConfig) -> Annotated[Model, "model"]:
    return Model([config.learning_rate] * config.epochs)


@step
def ensemble(config: TrainConfig) -> Annotated[list[Model], "ensemble"]:
    return [Model([config.learning_rate]), Model([float(config.epochs)])]


@step
def evaluate(model: Model, members: list[Model]) -> Annotated[float, "score"]:
    return sum(model.weights) + sum(sum(m.weights) for m in members)


@step
def report(score: float) -> Annotated[Report, "report"]:
    return Report(rows=int(score))


@step
def describe(score: float) -> Annotated[MarkdownString, "summary"]:
    return MarkdownString(f"# Score\n\n{score}")


@step
def page() -> Annotated[HTMLString, "page"]:
    return HTMLString("<h1>done</h1>")


@step
def run_id() -> Annotated[uuid.UUID, "run_token"]:
    return uuid.UUID(int=42)


@pipeline
def training() -> None:
    config = configure_training()
    model = train(config)
    members = ensemble(config)
    score = evaluate(model, members)
    report(score)
    describe(score)
    page()
    run_id()


def test_zenml_style_materializers_carry_a_pipeline_on_a_local_folder(
    sqlite_stores: tuple[str, str],
) -> None:
    training()

    client = Client()
    model = client.get_artifact_version("model")
    assert model.load().weights == [0.1, 0.1, 0.1]
    assert model.metadata["parameters"] == 3
    assert [m.weights for m in client.get_artifact_version("ensemble").load()] == [[0.1], [3.0]]
    assert client.get_artifact_version("score").load() == pytest.approx(3.4)
    assert client.get_artifact_version("train_config").load() == TrainConfig(0.1, 3)
    assert client.get_artifact_version("run_token").load() == uuid.UUID(int=42)


def test_the_model_file_lies_in_the_artifact_folder_on_disk(
    sqlite_stores: tuple[str, str],
) -> None:
    training()

    model = Client().get_artifact_version("model")
    local = Client().context.artifacts.local_path(model.uri)

    assert local is not None
    assert Path(local, "model.txt").read_text() == "0.1,0.1,0.1"


def test_a_visualization_only_output_records_its_visualization(
    sqlite_stores: tuple[str, str],
) -> None:
    training()

    version = Client().get_artifact_version("report")
    store = Client().context.artifacts

    assert [v["type"] for v in version.visualizations] == ["html"]
    assert store.read_text(version.visualizations[0]["uri"]) == "<p>3 rows</p>"
    assert version.artifact_type == "DataAnalysisArtifact"


def test_structured_strings_are_shown_as_what_they_are(sqlite_stores: tuple[str, str]) -> None:
    training()

    summary = Client().get_artifact_version("summary")
    html = Client().get_artifact_version("page")

    assert [v["type"] for v in summary.visualizations] == ["markdown"]
    assert [v["type"] for v in html.visualizations] == ["html"]
    assert isinstance(summary.load(), MarkdownString)
    assert html.load() == "<h1>done</h1>"


def test_a_second_run_serves_the_custom_outputs_from_the_cache(
    sqlite_stores: tuple[str, str],
) -> None:
    training()

    second = training()

    assert second.steps["train"].cache_outcome == "hit"
    assert second.steps["ensemble"].cache_outcome == "hit"


def test_fileio_in_a_custom_materializer_writes_to_the_s3_bucket(
    s3_store: str, s3_server: Any, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"

    training.run(database_url=database_url, artifact_store=s3_store)

    client = Client(database_url, s3_store)
    model = client.get_artifact_version("model")
    assert model.uri.startswith(s3_store + "/model/")
    assert model.load().weights == [0.1, 0.1, 0.1]
    assert [m.weights for m in client.get_artifact_version("ensemble").load()] == [[0.1], [3.0]]
    bucket, prefix = s3_store.removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url)
    key = model.uri.removeprefix(f"s3://{bucket}/") + "/model.txt"
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == b"0.1,0.1,0.1"
    report = client.get_artifact_version("report")
    assert report.visualizations[0]["uri"].startswith(f"{s3_store}/report/")
    assert prefix == "artifacts"


def test_fileio_reaches_a_bucket_by_url_alone(s3_store: str, tmp_path: Path) -> None:
    local = tmp_path / "weights.bin"
    local.write_bytes(b"\x01\x02")
    folder = f"{s3_store}/manual"

    fileio.makedirs(folder)
    fileio.copy(str(local), f"{folder}/weights.bin")
    with fileio.open(f"{folder}/notes.txt", "w") as f:
        f.write("hello")

    assert fileio.exists(f"{folder}/weights.bin")
    assert fileio.listdir(folder) == ["notes.txt", "weights.bin"]
    assert fileio.glob(f"{folder}/*.txt") == [f"{folder}/notes.txt"]
    assert [(top, files) for top, _, files in fileio.walk(folder)] == [
        (folder, ["notes.txt", "weights.bin"])
    ]
    with fileio.open(f"{folder}/weights.bin", "rb") as f:
        assert f.read() == b"\x01\x02"
    fileio.remove(f"{folder}/notes.txt")
    assert fileio.listdir(folder) == ["weights.bin"]
    fileio.rmtree(folder)
    assert not fileio.exists(f"{folder}/weights.bin")


def test_a_materializer_made_with_only_an_s3_uri_saves_and_loads_there(
    s3_store: str, s3_server: Any
) -> None:
    uri = f"{s3_store}/standalone"

    ModelMaterializer(uri=uri).save(Model([1.5, 2.5]))

    assert ModelMaterializer(uri=uri).load(Model).weights == [1.5, 2.5]
    bucket, prefix = s3_store.removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url)
    body = s3.get_object(Bucket=bucket, Key=f"{prefix}/standalone/model.txt")["Body"].read()
    assert body == b"1.5,2.5"
