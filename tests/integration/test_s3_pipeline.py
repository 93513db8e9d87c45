"""Pipelines whose artifacts live in S3 (moto on loopback), reached through the AWS settings."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from lineagelog.api.client import Client
from lineagelog.examples.numbers_pipeline import numbers

pytestmark = pytest.mark.s3


def test_a_pipeline_writes_its_artifacts_to_the_bucket_named_by_the_store_url(
    s3_store: str, s3_server, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"

    run = numbers.run(n=6, database_url=database_url, artifact_store=s3_store)

    client = Client(database_url, s3_store)
    evens = client.get_artifact_version("evens")
    assert evens.load() == [0, 2, 4]
    assert evens.uri.startswith(s3_store + "/")
    bucket = s3_store.removeprefix("s3://").split("/")[0]
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(key.startswith("artifacts/evens/") for key in keys)
    assert run.status == "completed"


def test_a_second_run_reuses_the_outputs_cached_in_the_bucket(
    s3_store: str, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"
    numbers.run(n=4, database_url=database_url, artifact_store=s3_store)

    second = numbers.run(n=4, database_url=database_url, artifact_store=s3_store)

    outcomes = {name: step.cache_outcome for name, step in second.steps.items()}
    assert outcomes["load"] == "hit"
    assert outcomes["split"] == "hit"


def test_a_store_copied_to_another_prefix_keeps_its_cache_hits_and_loads(
    s3_store: str, s3_server, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'lineage.db'}"
    numbers.run(n=4, database_url=database_url, artifact_store=s3_store)
    bucket, prefix = s3_store.removeprefix("s3://").split("/", 1)
    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url)
    for item in s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")["Contents"]:
        moved = "moved/" + item["Key"].removeprefix(f"{prefix}/")
        s3.copy_object(Bucket=bucket, Key=moved, CopySource={"Bucket": bucket, "Key": item["Key"]})
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    copied = f"s3://{bucket}/moved"

    again = numbers.run(n=4, database_url=database_url, artifact_store=copied)

    outcomes = {name: step.cache_outcome for name, step in again.steps.items()}
    assert outcomes["load"] == outcomes["split"] == "hit"
    evens = Client(database_url, copied).get_artifact_version("evens", "1")
    assert evens.load() == [0, 2]
    assert evens.uri.startswith(copied + "/evens/")
    assert Client(database_url, copied).audit().ok
