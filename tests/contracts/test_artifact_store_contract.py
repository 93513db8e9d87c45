"""The ArtifactStore contract: one set of assertions, run against every backend.

``ArtifactStoreContract`` holds every assertion and asks for a store through
the ``store`` fixture; each backend is a small subclass that only says how to
make one: the in-memory fake, a local folder and S3 (the loopback moto server
of ``tests/conftest.py``, which fails the run in CI when it cannot start).

Assertions that hold for one backend only (local symlinks, the memory fake's
isolation, URL configuration) stay in ``tests/unit/test_artifact_store.py`` and
``tests/integration/test_artifact_store_s3.py``.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lineagelog.adapters.artifact_store import CONTENT_HASH_HEADER, ArtifactStore
from lineagelog.adapters.fsspec_store import FsspecArtifactStore, InMemoryArtifactStore
from lineagelog.domain.errors import ArtifactUriError, InvalidArtifactNameError, StorageError


def write_files(store: ArtifactStore, folder: str, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        store.write_bytes(f"{folder}/{relative}", data)


def documented_hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256(CONTENT_HASH_HEADER)
    for relative in sorted(files):
        data = files[relative]
        digest.update(relative.encode() + b"\0" + struct.pack(">Q", len(data)) + data)
    return digest.hexdigest()


def outside_paths(store: ArtifactStore) -> list[str]:
    return [
        f"{store.root}/../evil.txt",
        f"{store.root}/model/../../evil.txt",
        f"{store.root}-sibling/evil.txt",
        "/etc/passwd",
        "memory://someone-else/evil.txt",
        "file:///tmp/evil.txt",
    ]


class ArtifactStoreContract:
    """What every artifact store backend must do; subclasses provide ``store``."""

    keeps_empty_folders: bool
    """True: ``makedirs`` makes a folder that exists while empty. False (object
    stores): a folder exists only while a file is below it."""

    @pytest.fixture
    def store(self) -> Iterator[ArtifactStore]:
        raise NotImplementedError("a backend's subclass makes its store")

    # -- reading and writing -------------------------------------------------------

    def test_writes_and_reads_back_bytes_under_the_root(self, store):
        path = f"{store.root}/model/v1/data.bin"

        store.write_bytes(path, b"\x00weights\xff")

        assert store.read_bytes(path) == b"\x00weights\xff"
        assert store.exists(path)
        assert store.size(path) == 9

    def test_open_in_text_mode_round_trips_unicode(self, store):
        path = f"{store.root}/notes/readme.md"

        with store.open(path, "w") as f:
            f.write("héllo ✓")

        with store.open(path, "r") as f:
            assert f.read() == "héllo ✓"

    def test_version_uri_is_root_then_name_then_version_id(self, store):
        version_id = uuid.UUID("12345678-1234-5678-1234-567812345678")

        uri = store.version_uri("training::load::output", version_id)

        assert uri == f"{store.root}/training::load::output/12345678-1234-5678-1234-567812345678"

    @pytest.mark.parametrize("name", ["../etc", "a/b", ".hidden", "", "a\x00b"])
    def test_version_uri_refuses_names_that_could_escape_the_root(self, store, name):
        with pytest.raises(InvalidArtifactNameError):
            store.version_uri(name, uuid.uuid4())

    def test_missing_files_raise_file_not_found(self, store):
        missing = f"{store.root}/nothing/here.json"

        with pytest.raises(FileNotFoundError):
            store.read_bytes(missing)
        with pytest.raises(FileNotFoundError):
            store.size(missing)
        with pytest.raises(FileNotFoundError):
            store.remove(missing)
        with pytest.raises(FileNotFoundError):
            store.rmtree(f"{store.root}/nothing")
        with pytest.raises(FileNotFoundError):
            store.walk_files(f"{store.root}/nothing")
        assert not store.exists(missing)

    def test_modified_gives_a_recent_posix_timestamp(self, store):
        path = f"{store.root}/m/data.bin"
        before = time.time()

        store.write_bytes(path, b"x")

        assert store.modified(path) == pytest.approx(before, abs=120)
        # Garbage collection asks while others delete: a vanished file has no time.
        assert store.modified(f"{store.root}/m/missing.bin") is None

    def test_listdir_gives_sorted_full_paths_of_direct_children(self, store):
        write_files(store, f"{store.root}/a", {"z.txt": b"1", "b.txt": b"2", "sub/c.txt": b"3"})

        children = store.listdir(f"{store.root}/a")

        assert children == [f"{store.root}/a/b.txt", f"{store.root}/a/sub", f"{store.root}/a/z.txt"]
        assert store.isdir(f"{store.root}/a/sub")
        assert not store.isdir(f"{store.root}/a/b.txt")

    def test_walk_files_lists_every_file_below_a_folder_sorted(self, store):
        folder = f"{store.root}/artifact/1"
        write_files(store, folder, {"data.json": b"{}", "visualizations/p.md": b"#", "a/b/c": b"x"})

        files = store.walk_files(folder)

        assert files == [f"{folder}/a/b/c", f"{folder}/data.json", f"{folder}/visualizations/p.md"]

    def test_makedirs_creates_an_empty_folder_only_where_the_backend_has_folders(self, store):
        folder = f"{store.root}/empty/folder"

        store.makedirs(folder)

        if self.keeps_empty_folders:
            assert store.isdir(folder)
            assert store.walk_files(folder) == []
        else:  # an object store has keys, not folders: nothing is there until a file is
            assert not store.isdir(folder)
            with pytest.raises(FileNotFoundError):
                store.walk_files(folder)
        store.write_bytes(f"{folder}/data.bin", b"1")
        assert store.isdir(folder)
        assert store.walk_files(folder) == [f"{folder}/data.bin"]

    def test_copyfile_copies_the_bytes(self, store):
        write_files(store, store.root, {"src.bin": b"payload"})

        store.copyfile(f"{store.root}/src.bin", f"{store.root}/copies/dst.bin")

        assert store.read_bytes(f"{store.root}/copies/dst.bin") == b"payload"

    def test_glob_matches_full_paths(self, store):
        write_files(
            store, store.root, {"m/1/data.json": b"1", "m/2/data.json": b"2", "m/2/x.bin": b"3"}
        )

        matches = store.glob(f"{store.root}/m/*/data.json")

        assert matches == [f"{store.root}/m/1/data.json", f"{store.root}/m/2/data.json"]

    def test_remove_deletes_a_file_but_not_a_folder(self, store):
        write_files(store, store.root, {"f/a.txt": b"a"})

        store.remove(f"{store.root}/f/a.txt")

        assert not store.exists(f"{store.root}/f/a.txt")
        write_files(store, store.root, {"g/b.txt": b"b"})
        with pytest.raises(IsADirectoryError):
            store.remove(f"{store.root}/g")

    def test_rmtree_deletes_a_folder_but_never_the_root(self, store):
        write_files(store, store.root, {"old/1/data.json": b"1", "keep.txt": b"k"})

        store.rmtree(f"{store.root}/old")

        assert not store.exists(f"{store.root}/old/1/data.json")
        assert store.exists(f"{store.root}/keep.txt")
        with pytest.raises(StorageError, match="root"):
            store.rmtree(store.root)

    # -- content hash -----------------------------------------------------------

    def test_content_hash_follows_the_documented_framing(self, store):
        files = {"data.json": b'{"a": 1}', "visualizations/preview.md": b"# hi", "é.bin": b"\x00"}
        write_files(store, f"{store.root}/art/1", files)

        digest, size = store.content_hash(f"{store.root}/art/1")

        assert digest == documented_hash(files)
        assert size == sum(len(data) for data in files.values())

    def test_content_hash_is_equal_for_equal_content_in_different_folders(self, store):
        files = {"data.json": b"[1, 2, 3]", "sub/x.bin": b"\x01\x02"}
        write_files(store, f"{store.root}/a/1", files)
        write_files(store, f"{store.root}/b/2", files)

        first = store.content_hash(f"{store.root}/a/1")
        second = store.content_hash(f"{store.root}/b/2")

        assert first == second
        assert store.content_hash(f"{store.root}/a/1") == first

    def test_content_hash_changes_when_one_byte_changes(self, store):
        write_files(store, f"{store.root}/a", {"data.bin": b"abcdef"})
        write_files(store, f"{store.root}/b", {"data.bin": b"abcdeg"})

        assert store.content_hash(f"{store.root}/a")[0] != store.content_hash(f"{store.root}/b")[0]

    def test_content_hash_changes_when_a_file_is_renamed_or_bytes_move_between_files(self, store):
        write_files(store, f"{store.root}/a", {"x": b"ab", "y": b"c"})
        write_files(store, f"{store.root}/b", {"x": b"a", "y": b"bc"})
        write_files(store, f"{store.root}/c", {"x": b"ab", "z": b"c"})

        hashes = {store.content_hash(f"{store.root}/{folder}")[0] for folder in "abc"}

        assert len(hashes) == 3

    # -- staying under the root -----------------------------------------------------

    def test_check_within_root_names_the_offending_path(self, store):
        path = f"{store.root}/../evil.txt"

        with pytest.raises(StorageError) as caught:
            store.check_within_root(path)

        assert path in str(caught.value)

    def test_check_within_root_accepts_dot_segments_that_stay_inside(self, store):
        resolved = store.check_within_root(f"{store.root}/a/./b/../c.txt")

        assert resolved == f"{store.root}/a/c.txt"

    @pytest.mark.parametrize(
        "operation",
        [
            lambda s, p: s.write_bytes(p, b"x"),
            lambda s, p: s.open(p, "wb"),
            lambda s, p: s.read_bytes(p),
            lambda s, p: s.exists(p),
            lambda s, p: s.isdir(p),
            lambda s, p: s.makedirs(p),
            lambda s, p: s.listdir(p),
            lambda s, p: s.remove(p),
            lambda s, p: s.rmtree(p),
            lambda s, p: s.copyfile(f"{s.root}/inside.txt", p),
            lambda s, p: s.copyfile(p, f"{s.root}/copy.txt"),
            lambda s, p: s.glob(p),
            lambda s, p: s.size(p),
            lambda s, p: s.walk_files(p),
            lambda s, p: s.content_hash(p),
        ],
        ids=[
            "write_bytes",
            "open",
            "read_bytes",
            "exists",
            "isdir",
            "makedirs",
            "listdir",
            "remove",
            "rmtree",
            "copyfile-dst",
            "copyfile-src",
            "glob",
            "size",
            "walk_files",
            "content_hash",
        ],
    )
    def test_every_path_method_refuses_paths_outside_the_root_and_writes_nothing(
        self, store, operation
    ):
        store.write_bytes(f"{store.root}/inside.txt", b"inside")
        before = store.walk_files(store.root)

        for path in outside_paths(store):
            with pytest.raises(StorageError, match=r"outside the artifact store root|protocol"):
                operation(store, path)

        assert store.walk_files(store.root) == before
        assert not store.exists(f"{store.root}/copy.txt")

    # -- recorded URIs and the store's identity -------------------------------------------

    def test_a_version_folder_is_recorded_relative_to_the_root_and_located_back(self, store):
        version_id = uuid.uuid4()
        folder = store.version_uri("model", version_id)
        store.write_bytes(f"{folder}/data.json", b"[1]")

        recorded = store.recorded_uri(folder)

        assert recorded == f"model/{version_id}"
        assert store.locate(recorded) == folder
        assert store.read_bytes(f"{store.locate(recorded)}/data.json") == b"[1]"

    @pytest.mark.parametrize(
        "recorded",
        ["../evil.txt", "model/../../evil.txt", "model//x", "./model", "a\\..\\b", ""],
    )
    def test_a_recorded_uri_leading_out_of_the_root_is_refused(self, store, recorded):
        with pytest.raises(ArtifactUriError) as caught:
            store.locate(recorded)

        assert repr(recorded) in str(caught.value)

    def test_a_recorded_absolute_uri_outside_the_root_is_refused(self, store):
        for recorded in outside_paths(store):
            with pytest.raises(ArtifactUriError) as caught:
                store.locate(recorded)

            assert "does not lie in the artifact store" in str(caught.value)

    def test_its_identity_is_written_once_and_read_by_every_store_on_the_root(self, store):
        identity = store.identity

        again = FsspecArtifactStore(store.root)  # another process opening the same store

        assert identity.startswith("lineagelog-store:")
        assert again.identity == identity
        assert store.exists(f"{store.root}/.lineagelog/store-id")
        assert store.root not in identity

    def test_create_bytes_keeps_the_first_writers_content(self, store):
        path = f"{store.root}/.lineagelog/once"

        first = store.create_bytes(path, b"first")
        second = store.create_bytes(path, b"second")

        assert (first, second) == (True, False)
        assert store.read_bytes(path) == b"first"

    def test_stores_racing_to_create_a_file_agree_on_the_one_winner(self, store):
        path = f"{store.root}/.lineagelog/raced"
        racers = 8
        start = threading.Barrier(racers)

        def create(racer: int) -> bool:
            opened = FsspecArtifactStore(store.root)  # as another process would open it
            start.wait()
            return opened.create_bytes(path, f"racer {racer}".encode())

        with ThreadPoolExecutor(racers) as pool:
            won = list(pool.map(create, range(racers)))

        assert won.count(True) == 1, won
        assert store.read_bytes(path) == f"racer {won.index(True)}".encode()


class TestInMemoryArtifactStore(ArtifactStoreContract):
    keeps_empty_folders = True

    @pytest.fixture
    def store(self) -> Iterator[ArtifactStore]:
        memory = InMemoryArtifactStore()
        yield memory
        memory.clear()


class TestLocalArtifactStore(ArtifactStoreContract):
    keeps_empty_folders = True

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ArtifactStore]:
        yield FsspecArtifactStore(str(tmp_path / "store"))


@pytest.mark.s3
class TestS3ArtifactStore(ArtifactStoreContract):
    keeps_empty_folders = False

    @pytest.fixture
    def store(self, s3_store: str) -> Iterator[ArtifactStore]:
        yield FsspecArtifactStore(s3_store)
