"""ArtifactStore behaviour particular to one backend: configuration, the memory fake, local folders.

What every backend must do is the contract in ``tests/contracts/test_artifact_store_contract.py``.
"""

from __future__ import annotations

import os

import pytest

from lineagelog.adapters.fsspec_store import FsspecArtifactStore, InMemoryArtifactStore
from lineagelog.domain.errors import ConfigurationError, StorageError

# -- configuration ----------------------------------------------------------------


def test_unknown_protocol_is_a_configuration_error_listing_usable_ones():
    with pytest.raises(ConfigurationError) as caught:
        FsspecArtifactStore("nosuchproto://bucket/prefix")

    message = str(caught.value)
    assert "nosuchproto://bucket/prefix" in message
    assert "memory" in message and "s3" in message and "file" in message


def test_known_protocol_without_its_package_names_what_to_install():
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gcsfs is installed, so gcs:// works here")

    with pytest.raises(ConfigurationError, match="pip install gcsfs"):
        FsspecArtifactStore("gcs://bucket/prefix")


def test_a_url_without_bucket_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="names no bucket"):
        FsspecArtifactStore("memory://")


# -- the in-memory fake -------------------------------------------------------------


def test_in_memory_stores_do_not_see_each_others_files():
    first, second = InMemoryArtifactStore(), InMemoryArtifactStore()
    try:
        first.write_bytes(f"{first.root}/a.txt", b"a")

        assert first.root != second.root
        assert not second.exists(f"{second.root}/a.txt")
        assert second.glob(f"{second.root}/*") == []
    finally:
        first.clear()
        second.clear()


def test_clear_removes_every_file_and_leaves_the_store_usable():
    store = InMemoryArtifactStore()
    store.write_bytes(f"{store.root}/x/y.txt", b"y")

    store.clear()

    assert not store.exists(f"{store.root}/x/y.txt")
    store.write_bytes(f"{store.root}/z.txt", b"z")
    assert store.read_bytes(f"{store.root}/z.txt") == b"z"
    store.clear()


# -- local folders --------------------------------------------------------------------


def test_local_root_is_a_normalized_file_url_and_plain_paths_work(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "store" / "." / "sub" / ".."))
    plain = os.path.realpath(tmp_path / "store") + "/a.txt"

    store.write_bytes(plain, b"plain")

    assert store.root == "file://" + os.path.realpath(tmp_path / "store")
    assert store.read_bytes(f"{store.root}/a.txt") == b"plain"
    assert store.local_path(f"{store.root}/a.txt") == plain


def test_relative_local_root_is_resolved_against_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    store = FsspecArtifactStore("artifacts")

    assert store.root == "file://" + os.path.realpath(tmp_path / "artifacts")


def test_local_root_is_created_on_first_write(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "new" / "store"))
    assert not (tmp_path / "new").exists()

    store.write_bytes(f"{store.root}/m/1/data.bin", b"1")

    assert (tmp_path / "new" / "store" / "m" / "1" / "data.bin").read_bytes() == b"1"


def test_relative_paths_are_refused_on_a_local_store(tmp_path):
    store = FsspecArtifactStore(str(tmp_path / "store"))

    with pytest.raises(StorageError, match="relative"):
        store.write_bytes("model/data.bin", b"x")


def test_symlink_pointing_outside_the_root_is_refused_and_nothing_is_written(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    store = FsspecArtifactStore(str(tmp_path / "store"))
    store.makedirs(store.root)
    (tmp_path / "store" / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(StorageError, match="outside the artifact store root"):
        store.write_bytes(f"{store.root}/link/evil.txt", b"evil")
    with pytest.raises(StorageError, match="outside the artifact store root"):
        store.read_bytes(f"{store.root}/link/secret.txt")
    with pytest.raises(StorageError, match="outside the artifact store root"):
        store.content_hash(store.root)

    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_symlinked_file_pointing_outside_the_root_is_refused(tmp_path):
    (tmp_path / "secret.txt").write_bytes(b"secret")
    store = FsspecArtifactStore(str(tmp_path / "store"))
    store.makedirs(f"{store.root}/m")
    (tmp_path / "store" / "m" / "data.bin").symlink_to(tmp_path / "secret.txt")

    with pytest.raises(StorageError, match="outside the artifact store root"):
        store.read_bytes(f"{store.root}/m/data.bin")
    with pytest.raises(StorageError, match="outside the artifact store root"):
        store.write_bytes(f"{store.root}/m/data.bin", b"overwrite")

    assert (tmp_path / "secret.txt").read_bytes() == b"secret"


def test_root_replaced_by_a_symlink_after_the_store_opened_is_refused(tmp_path):
    # Paths are resolved against the root resolved at opening, asking the disk only about
    # what lies below it; the root itself is asked too.
    (tmp_path / "elsewhere").mkdir()
    store = FsspecArtifactStore(str(tmp_path / "store"))
    store.write_bytes(f"{store.root}/m/data.bin", b"x")
    (tmp_path / "store").rename(tmp_path / "moved")
    (tmp_path / "store").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    with pytest.raises(StorageError, match="outside the artifact store root"):
        store.write_bytes(f"{store.root}/m/data.bin", b"evil")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_paths_below_the_root_resolve_as_realpath_resolves_them(tmp_path):
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    store = FsspecArtifactStore(str(tmp_path / "store"))
    store.write_bytes(f"{store.root}/a/b/c/data.bin", b"x")
    store.write_bytes(f"{store.root}/file", b"x")
    native = str(tmp_path / "store")
    (tmp_path / "store" / "a" / "b" / "c" / "out").symlink_to(outside, target_is_directory=True)
    (tmp_path / "store" / "a" / "in").symlink_to(tmp_path / "store" / "a" / "b")
    (tmp_path / "store" / "a" / "b" / "up").symlink_to("../..")
    spelled = [
        "a/b/c/data.bin",
        "a/b/c/out/x",
        "a/in/c/data.bin",
        "a/b/up/file",
        "a/b/up/../../outside",
        "missing/x/y",
        "file/x",
        "a//b",
        "a/./b",
        "a/../a/b",
    ]
    for rest in spelled:
        path = f"{native}/{rest}"
        expected = os.path.realpath(path)
        inside = expected.startswith(native + "/")
        if inside:
            assert store.check_within_root(path) == "file://" + expected, rest
        else:
            with pytest.raises(StorageError, match="outside the artifact store root"):
                store.check_within_root(path)


def test_stores_racing_to_name_a_new_local_store_all_read_the_one_id_written(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    root = str(tmp_path / "store")
    stores = [FsspecArtifactStore(root) for _ in range(16)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        identities = set(pool.map(lambda s: s.identity, stores))

    assert len(identities) == 1
    assert sorted(p.name for p in (tmp_path / "store" / ".lineagelog").iterdir()) == ["store-id"]
