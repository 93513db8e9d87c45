"""Metadata logged the way ZenML's documentation logs it, recorded as events, on SQLite.

``log_metadata`` and ``log_artifact_metadata`` inside and outside steps, read
back as ``run_metadata`` of runs, step runs and artifact versions; each of the
three metadata events survives a rebuild of the views, the audit, an export
and import, and is invisible ``as_of`` a moment before it.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

import pytest
from views import view_rows

from lineagelog.adapters.event_store import EventStore
from lineagelog.adapters.export import export_events, import_events
from lineagelog.api import (
    Client,
    DeletedVersionError,
    InvalidMetadataError,
    StorageSize,
    Uri,
    configure,
    log_artifact_metadata,
    log_metadata,
    pipeline,
    step,
)
from lineagelog.api.context import open_context
from lineagelog.api.metadata_types import Path


@step
def train_model(dataset: list[float]) -> Annotated[float, "sklearn_classifier"]:
    """Train a model and log evaluation metrics."""
    accuracy, precision, recall = 0.9, 0.8, 0.7

    # Log metadata at the step level
    log_metadata(
        metadata={
            "evaluation_metrics": {"accuracy": accuracy, "precision": precision, "recall": recall}
        }
    )
    return sum(dataset)


@step
def process_data_step(dataframe: list[float]) -> Annotated[list[float], "processed_data"]:
    """Process a dataframe and log metadata about the result."""
    processed_dataframe = [2 * x for x in dataframe]

    # Log metadata about the processed dataframe
    log_metadata(
        metadata={
            "row_count": len(processed_dataframe),
            "columns": ["value"],
            "storage_size": StorageSize(8 * len(processed_dataframe)),
        },
        infer_artifact=True,
    )
    return processed_dataframe


@step
def load_data() -> Annotated[list[float], "dataset"]:
    return [1.0, 2.0, 3.0]


@pipeline(enable_cache=False)
def training() -> None:
    train_model(process_data_step(load_data()))


def _event_count(client: Client) -> int:
    return client.context.events.max_position()


def test_metadata_logged_in_a_step_lands_on_the_step_run_and_shows_on_its_run(sqlite_stores):
    run = training()

    metrics = {"accuracy": 0.9, "precision": 0.8, "recall": 0.7}
    assert run.steps["train_model"].run_metadata == {"evaluation_metrics": metrics}
    assert run.run_metadata == {"train_model::evaluation_metrics": metrics}
    assert Client().get_run(run.id).steps["train_model"].run_metadata["evaluation_metrics"] == (
        metrics
    )


def test_infer_artifact_logs_on_the_output_version_over_the_extracted_metadata(sqlite_stores):
    run = training()

    version = Client().get_artifact_version("processed_data")
    assert version.id == run.steps["process_data_step"].outputs["processed_data"].id
    assert version.run_metadata["row_count"] == 3
    assert version.run_metadata["columns"] == ["value"]
    size = version.run_metadata["storage_size"]
    assert (type(size), size) == (StorageSize, 24)  # logged after the extracted one: it wins
    assert version.metadata["storage_size"] != 24  # what the materializer extracted stays
    assert "processed_data" not in {k.split("::")[0] for k in run.run_metadata}


def test_metadata_logged_after_the_run_on_a_step_a_run_and_an_artifact_version(sqlite_stores):
    run = training()

    log_metadata(
        metadata={"post_run_info": {"some_metric": 5.0}},
        run_id_name_or_prefix=run.run_name,
    )
    log_metadata(
        metadata={"additional_info": {"a_number": 3}},
        step_name="train_model",
        run_id_name_or_prefix=str(run.id)[:8],
    )
    log_metadata(
        metadata={
            "model_metrics": {"accuracy": 0.95, "precision": 0.92, "recall": 0.90},
            "data_details": {
                "dataset_size": StorageSize(1500000),
                "feature_columns": ["age", "income", "score"],
            },
        },
        artifact_name="sklearn_classifier",
        artifact_version="1",
    )
    log_metadata(metadata={"by_id": True}, step_id=run.steps["load_data"].id)
    log_metadata(
        metadata={"by_version_id": Uri("s3://bucket/x")},
        artifact_version_id=run.steps["load_data"].outputs["dataset"].id,
    )

    client = Client()
    again = client.get_run(run.id)
    assert again.run_metadata["post_run_info"] == {"some_metric": 5.0}
    assert again.run_metadata["train_model::additional_info"] == {"a_number": 3}
    assert again.steps["load_data"].run_metadata == {"by_id": True}
    artifact = client.get_artifact_version("sklearn_classifier", "1")
    assert artifact.run_metadata["model_metrics"]["accuracy"] == 0.95
    assert artifact.run_metadata["data_details"]["dataset_size"] == 1500000
    uri = client.get_artifact_version("dataset").run_metadata["by_version_id"]
    assert (type(uri), uri) == (Uri, "s3://bucket/x")


@step
def single_output() -> Annotated[int, "answer"]:
    log_artifact_metadata(metadata={"shape": (2, 3), "source": Path("/data/raw")})
    return 42


@step
def named_outputs() -> tuple[Annotated[int, "low"], Annotated[int, "high"]]:
    log_artifact_metadata(metadata={"which": "high"}, artifact_name="high")
    return 1, 9


def test_log_artifact_metadata_inside_steps_and_on_the_latest_version_outside(sqlite_stores):
    @pipeline
    def outputs() -> None:
        single_output()
        named_outputs()

    run = outputs()
    log_artifact_metadata(metadata={"checked": True}, artifact_name="answer")

    answer = Client().get_artifact_version("answer")
    assert answer.run_metadata["shape"] == (2, 3)
    assert type(answer.run_metadata["source"]) is Path
    assert answer.run_metadata["checked"] is True
    assert run.steps["named_outputs"].outputs["high"].run_metadata["which"] == "high"
    assert "which" not in run.steps["named_outputs"].outputs["low"].run_metadata


def test_the_latest_value_of_a_key_wins_and_as_of_reads_what_was_logged_by_then(sqlite_stores):
    run = training()
    client = Client()
    log_metadata(metadata={"stage": "staging"}, run_id_name_or_prefix=str(run.id))
    before_update = _event_count(client)

    log_metadata(metadata={"stage": "production"}, run_id_name_or_prefix=str(run.id))
    log_metadata(metadata={"note": "x"}, artifact_name="dataset", artifact_version=1)

    assert client.get_run(run.id).run_metadata["stage"] == "production"
    past = client.as_of(before_update)
    assert past.get_run(run.id).run_metadata["stage"] == "staging"
    assert "note" not in past.get_artifact_version("dataset", 1).run_metadata
    assert client.get_artifact_version("dataset", 1).run_metadata["note"] == "x"
    assert (
        "stage"
        not in client.as_of(run_started_position(client, run.id)).get_run(run.id).run_metadata
    )


def run_started_position(client: Client, run_id: object) -> int:
    return next(
        r.position
        for r in client.context.events.iter_all()
        if str(r.event.originator_id) == str(run_id)
    )


def test_bad_metadata_is_refused_before_anything_is_recorded(sqlite_stores):
    run = training()
    client = Client()
    count = _event_count(client)

    with pytest.raises(InvalidMetadataError, match="is a object"):
        log_metadata(metadata={"model": object()}, run_id_name_or_prefix=str(run.id))
    with pytest.raises(InvalidMetadataError, match="JSON cannot hold"):
        log_metadata(metadata={"loss": float("nan")}, run_id_name_or_prefix=str(run.id))
    with pytest.raises(InvalidMetadataError, match="non-empty dict"):
        log_metadata(metadata={}, run_id_name_or_prefix=str(run.id))
    with pytest.raises(InvalidMetadataError, match="outside of a step with no target"):
        log_metadata(metadata={"a": 1})
    with pytest.raises(InvalidMetadataError, match="Model Control Plane"):
        log_metadata(metadata={"a": 1}, model_name="m", model_version="1")
    with pytest.raises(InvalidMetadataError, match="needs artifact_name"):
        log_artifact_metadata(metadata={"a": 1})
    client.delete_artifact_version("dataset", 1)
    deleted_at = _event_count(client)
    with pytest.raises(DeletedVersionError):
        log_metadata(metadata={"a": 1}, artifact_name="dataset", artifact_version=1)

    assert count + 1 == deleted_at == _event_count(client)  # only the delete was recorded
    assert client.get_run(run.id).run_metadata == {
        "train_model::evaluation_metrics": {"accuracy": 0.9, "precision": 0.8, "recall": 0.7}
    }


def _history_with_every_metadata_event() -> Client:
    run = training()
    log_metadata(metadata={"owner": "data-team"}, run_id_name_or_prefix=str(run.id))
    log_metadata(metadata={"reviewed": True}, step_id=run.steps["load_data"].id)
    log_metadata(metadata={"rows": 3}, artifact_name="dataset", artifact_version=1)
    return Client()


def test_rebuilt_views_equal_the_incremental_ones_and_the_audit_is_clean(sqlite_stores):
    client = _history_with_every_metadata_event()
    client.context.catch_up()
    incremental = view_rows(client.context)

    open_context().projector.rebuild()

    assert view_rows(client.context) == incremental
    # three keys logged after the run, three on an output and one on a step while it ran
    assert len(incremental["lineagelog_run_metadata"]) == 3 + 3 + 1
    assert client.audit().ok


def test_exported_and_imported_metadata_reads_back_the_same(sqlite_stores, tmp_path: FilePath):
    source = _history_with_every_metadata_event()
    exported = tmp_path / "events.jsonl"
    with exported.open("w", encoding="utf-8") as out:
        export_events(source.context.events, out)
    copy_db = f"sqlite:///{tmp_path / 'copy.db'}"
    store = EventStore(copy_db)
    with exported.open(encoding="utf-8") as events:
        import_events(store, events)
    store.close()

    copy = Client(copy_db, str(tmp_path / "artifacts"))

    (run,) = source.list_runs()
    assert copy.get_run(run.id).run_metadata == run.run_metadata
    assert copy.get_run(run.id).steps["load_data"].run_metadata == {"reviewed": True}
    assert copy.get_artifact_version("dataset", 1).run_metadata == (
        source.get_artifact_version("dataset", 1).run_metadata
    )
    assert copy.audit().ok


@pytest.mark.parametrize(
    "server",
    [
        pytest.param("postgres_url", marks=pytest.mark.postgres),
        pytest.param("mariadb_url", marks=pytest.mark.mariadb),
    ],
)
def test_metadata_reads_back_and_rebuilds_the_same_on_server_databases(
    server: str, request: pytest.FixtureRequest, tmp_path: FilePath
) -> None:
    database_url = request.getfixturevalue(server)
    store = str(tmp_path / "artifacts")
    configure(database_url=database_url, artifact_store=store)  # log_metadata's store, as ZenML's
    request.addfinalizer(configure)
    run = training()
    log_metadata(metadata={"dataset_size": StorageSize(3)}, run_id_name_or_prefix=str(run.id))
    client = Client()
    client.context.catch_up()
    incremental = view_rows(client.context)

    client.context.projector.rebuild()

    assert view_rows(client.context) == incremental
    metadata = client.get_run(run.id).run_metadata
    assert (type(metadata["dataset_size"]), metadata["dataset_size"]) == (StorageSize, 3)
    assert client.get_artifact_version("processed_data").run_metadata["row_count"] == 3
