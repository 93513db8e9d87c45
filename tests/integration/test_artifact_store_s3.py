"""FsspecArtifactStore on S3 beyond the contract: its root, escapes, a whole artifact.

What every backend must do (S3 included) is the contract in
``tests/contracts/test_artifact_store_contract.py``. The server is the loopback
moto server of ``tests/conftest.py`` (a missing one fails the run in CI).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from lineagelog.adapters.fsspec_store import FsspecArtifactStore
from lineagelog.adapters.materializers import load_artifact, materializer_for, save_artifact
from lineagelog.domain.errors import StorageError

pytestmark = pytest.mark.s3


@pytest.fixture
def store(s3_store: str) -> Iterator[FsspecArtifactStore]:
    yield FsspecArtifactStore(s3_store)


def test_s3_root_is_the_normalized_bucket_url(store):
    assert store.root.startswith("s3://lineagelog-")
    assert store.root.endswith("/artifacts")


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
