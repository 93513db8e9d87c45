"""FsspecArtifactStore against a loopback S3 server (moto), through s3fs."""

from __future__ import annotations

import uuid

import pytest

from lineagelog.adapters.fsspec_store import FsspecArtifactStore
from lineagelog.adapters.materializers import load_artifact, materializer_for, save_artifact
from lineagelog.domain.errors import StorageError

pytestmark = pytest.mark.s3

s3fs = pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

CREDENTIALS = {"key": "testing", "secret": "testing", "client_kwargs": {"region_name": "us-east-1"}}


@pytest.fixture(scope="module")
def endpoint():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def store(endpoint):
    bucket = f"lineagelog-{uuid.uuid4().hex[:12]}"
    options = {**CREDENTIALS, "endpoint_url": endpoint, "skip_instance_cache": True}
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=bucket)  # us-east-1: no location constraint, unlike s3fs.mkdir
    yield FsspecArtifactStore(f"s3://{bucket}/artifacts", **options)
    s3fs.S3FileSystem(**options).rm(bucket, recursive=True)


def test_s3_root_is_the_normalized_bucket_url(store):
    assert store.root.startswith("s3://lineagelog-")
    assert store.root.endswith("/artifacts")


def test_bytes_written_to_s3_read_back_and_list(store):
    folder = f"{store.root}/model/1"

    store.write_bytes(f"{folder}/data.bin", b"weights")
    store.write_bytes(f"{folder}/visualizations/p.md", b"# p")

    assert store.read_bytes(f"{folder}/data.bin") == b"weights"
    assert store.walk_files(folder) == [f"{folder}/data.bin", f"{folder}/visualizations/p.md"]
    assert store.size(f"{folder}/data.bin") == 7


def test_s3_content_hash_equals_the_memory_store_hash_for_equal_files(store):
    from lineagelog.adapters.fsspec_store import InMemoryArtifactStore

    memory = InMemoryArtifactStore()
    try:
        for target in (store, memory):
            target.write_bytes(f"{target.root}/a/data.json", b"[1, 2]")
            target.write_bytes(f"{target.root}/a/sub/x", b"\x00")

        assert store.content_hash(f"{store.root}/a") == memory.content_hash(f"{memory.root}/a")
    finally:
        memory.clear()


def test_s3_paths_outside_the_prefix_are_refused(store):
    with pytest.raises(StorageError, match="outside the artifact store root"):
        store.write_bytes(f"{store.root}/../escaped.txt", b"x")

    assert not store.fs.exists(store.root.removeprefix("s3://").rsplit("/", 1)[0] + "/escaped.txt")


def test_an_artifact_round_trips_through_s3(store):
    uri = store.version_uri("scores", uuid.uuid4())
    value = {"auc": 0.91, "folds": (0.9, 0.92)}

    saved = save_artifact(value, uri=uri, store=store, materializer_cls=materializer_for(dict))
    loaded = load_artifact(
        uri=uri,
        store=store,
        materializer_source=saved.materializer,
        data_type_source=saved.data_type,
    )

    assert loaded == value
    assert saved.content_hash == store.content_hash(uri)[0]
