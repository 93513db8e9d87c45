r"""The artifact store: where artifact bytes live, behind a small port.

``ArtifactStore`` is the port. Subclasses implement a small core (``_resolve``
and the ``_open`` / ``_ls`` / ... primitives, all on paths already checked to
lie under the root); the base class builds the public API on top of it and
guarantees that every path-taking method goes through ``check_within_root``.

``lineagelog.adapters.fsspec_store.FsspecArtifactStore`` implements it over any
fsspec URL (a local folder, ``file://``, ``memory://``, ``s3://bucket/prefix``
...), and ``InMemoryArtifactStore`` there is the fake for unit tests.

Layout: ``<root>/<artifact name>/<artifact version id>/<files>``. The log
records URIs relative to the root (``recorded_uri``; ``locate`` turns them back
into full URLs, refusing any that would lead out of the root), and the cache key
names the store by ``identity``, an id written once into ``<root>/.lineagelog/``:
a store moved or copied with its folder keeps both.

Content hash framing (``ArtifactStore.content_hash``), version 1::

    sha256(
        b"lineagelog-content-v1\0"
        + for each file under the folder, sorted by relative POSIX path
              (compared as strings, i.e. by code point = UTF-8 byte order):
              utf8(relative path) + b"\0"
              + len(file bytes) as 8-byte big-endian unsigned integer
              + file bytes
    )

The relative path of a file is its path below the hashed folder with ``/``
separators (``"data.json"``, ``"visualizations/preview.md"``); when the hashed
URI is itself a file, its relative path is the empty string. Empty folders do
not contribute. The total size returned with the hash is the sum of the file
sizes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator
from functools import cached_property
from typing import IO, Any
from uuid import UUID, uuid4

from lineagelog.domain.artifact_uri import check_relative_uri, is_relative_uri
from lineagelog.domain.errors import ArtifactUriError, StorageError
from lineagelog.domain.names import check_artifact_name

__all__ = ["CONTENT_HASH_HEADER", "IDENTITY_FILE", "ArtifactStore"]

CONTENT_HASH_HEADER = b"lineagelog-content-v1\0"
_CHUNK = 1024 * 1024

STORE_FOLDER = ".lineagelog"
"""The store's own folder under the root (write leases); see ``write_leases.RESERVED_FOLDER``."""

IDENTITY_FILE = f"{STORE_FOLDER}/store-id"
"""Holds the store's id, written once; a copy of the store's folder keeps it."""

IDENTITY_PREFIX = "lineagelog-store:"


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


class ArtifactStore(ABC):
    """Port for the bytes of artifacts.

    All paths are full paths (URLs in the form of ``root``, or for a local
    store absolute paths with or without ``file://``) that must lie under
    ``root``; anything else raises ``StorageError`` before touching storage.
    Missing files raise the built-in ``FileNotFoundError``.
    """

    # -- the small core subclasses implement -------------------------------

    @property
    @abstractmethod
    def root(self) -> str:
        """Normalized URL of the store's root folder (cache keys name ``identity`` instead)."""

    @abstractmethod
    def _resolve(self, path: str) -> str:
        """Normalize ``path`` to a full URL in the form of ``root``.

        Collapse ``.`` and ``..`` and, where the backend has them, follow
        symlinks. Raise ``StorageError`` when the path cannot be understood
        (another protocol, a relative local path). No root check here.
        """

    @abstractmethod
    def _open(self, url: str, mode: str) -> IO[Any]: ...

    @abstractmethod
    def _exists(self, url: str) -> bool: ...

    @abstractmethod
    def _isdir(self, url: str) -> bool: ...

    @abstractmethod
    def _ls(self, url: str) -> list[str]:
        """Direct children of a folder as URLs (not resolved); FileNotFoundError if missing."""

    @abstractmethod
    def _find(self, url: str) -> list[str]:
        """All files below ``url`` as URLs (not resolved), or ``[url]`` for a file."""

    @abstractmethod
    def _makedirs(self, url: str, exist_ok: bool) -> None: ...

    @abstractmethod
    def _rm_file(self, url: str) -> None: ...

    @abstractmethod
    def _rmtree(self, url: str) -> None: ...

    @abstractmethod
    def _glob(self, pattern: str) -> list[str]: ...

    @abstractmethod
    def _size(self, url: str) -> int: ...

    @abstractmethod
    def _create(self, url: str, data: bytes) -> bool:
        """Write a new file at ``url`` unless one is there; True when written.

        Atomic where the backend can do it (a conditional upload); a backend
        that cannot checks for the file first and says so in its docstring.
        """

    # -- the rich base --------------------------------------------------------

    def check_within_root(self, path: str) -> str:
        """Return ``path`` normalized (symlinks followed on local disks) if it is under the root.

        Raises:
            StorageError: naming the path and the root, when the path (after
                normalization) lies outside the root or cannot be understood.

        """
        if not isinstance(path, str):
            raise StorageError(
                f"artifact store path {path!r} is a {type(path).__name__}; "
                f"give a string under {self.root!r}"
            )
        url = self._resolve(path)
        root = self.root
        if url != root and not url.startswith(root.rstrip("/") + "/"):
            raise StorageError(
                f"path {path!r} lies outside the artifact store root {root!r} "
                f"(it resolves to {url!r}); artifact store paths must stay under the root, "
                "without '..' or symlinks leading out of it"
            )
        return url

    def open(self, path: str, mode: str = "rb") -> IO[Any]:
        """Open a file under the root (``"rb"``, ``"wb"``, ``"r"``, ``"w"``, ...).

        Parent folders are created when writing. Raises ``FileNotFoundError``
        when reading a missing file.
        """
        return self._open(self.check_within_root(path), mode)

    def exists(self, path: str) -> bool:
        """Whether a file or folder exists at ``path``."""
        return self._exists(self.check_within_root(path))

    def isdir(self, path: str) -> bool:
        """Whether ``path`` is a folder."""
        return self._isdir(self.check_within_root(path))

    def makedirs(self, path: str, exist_ok: bool = True) -> None:
        """Create a folder and its parents."""
        self._makedirs(self.check_within_root(path), exist_ok)

    def listdir(self, path: str) -> list[str]:
        """Full paths of the direct children of a folder, sorted."""
        url = self.check_within_root(path)
        if not self._isdir(url):
            if self._exists(url):
                raise NotADirectoryError(f"{path!r} is a file, not a folder")
            raise FileNotFoundError(f"no folder at {path!r}")
        return sorted(self._ls(url))

    def remove(self, path: str) -> None:
        """Delete one file (use ``rmtree`` for folders)."""
        url = self.check_within_root(path)
        if self._isdir(url):
            raise IsADirectoryError(f"{path!r} is a folder; use rmtree to delete folders")
        if not self._exists(url):
            raise FileNotFoundError(f"no file at {path!r}")
        self._rm_file(url)

    def rmtree(self, path: str) -> None:
        """Delete a folder and everything under it; the root itself cannot be deleted."""
        url = self.check_within_root(path)
        if url == self.root:
            raise StorageError(
                f"refusing to delete the artifact store root {self.root!r}; "
                "delete artifact folders below it instead"
            )
        if not self._exists(url):
            raise FileNotFoundError(f"no folder at {path!r}")
        self._rmtree(url)

    def copyfile(self, src: str, dst: str, overwrite: bool = False) -> None:
        """Copy one file within the store (parents of ``dst`` are created).

        Raises:
            FileExistsError: when ``dst`` exists and ``overwrite`` is False (as in ZenML).

        """
        src_url = self.check_within_root(src)
        dst_url = self.check_within_root(dst)
        if not overwrite and self._exists(dst_url):
            raise FileExistsError(f"{dst!r} exists already; pass overwrite=True to replace it")
        with self._open(src_url, "rb") as fin, self._open(dst_url, "wb") as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)

    def mkdir(self, path: str) -> None:
        """Create a folder (ZenML's name; parents are created too)."""
        self._makedirs(self.check_within_root(path), True)

    def walk(self, top: str) -> Iterator[tuple[str, list[str], list[str]]]:
        """``(folder, subfolder names, file names)`` for ``top`` and each folder below, top-down."""
        url = self.check_within_root(top)
        folders: list[str] = []
        files: list[str] = []
        for child in sorted(self._ls(url)):
            name = child.rstrip("/").rsplit("/", 1)[-1]
            (folders if self._isdir(child) else files).append(name)
        yield url, folders, files
        for name in folders:
            yield from self.walk(f"{url.rstrip('/')}/{name}")

    def glob(self, pattern: str) -> list[str]:
        """Full paths matching a glob pattern under the root, sorted.

        Matches that resolve outside the root (symlinks) are left out.
        """
        url = self.check_within_root(pattern)
        return sorted(m for m in self._glob(url) if self._is_within(m))

    def size(self, path: str) -> int:
        """Size of a file in bytes."""
        return self._size(self.check_within_root(path))

    def walk_files(self, path: str) -> list[str]:
        """All files under a folder (recursively) as full paths, sorted.

        Raises:
            FileNotFoundError: when nothing exists at ``path``.
            StorageError: when a file under the folder resolves outside the root.

        """
        url = self.check_within_root(path)
        if not self._exists(url):
            raise FileNotFoundError(f"nothing at {path!r}")
        files = sorted(self._find(url))
        for file in files:
            self.check_within_root(file)
        return files

    def data_files(self, path: str) -> list[str]:
        """The files of the data at ``path``: ``walk_files`` without the store's own folders.

        Data registered where it lies (``<root>/<name>``, ZenML's pattern) shares
        its folder with the version folders (``<root>/<name>/<id>``) later versions
        of that name get; those, and ``<root>/.lineagelog``, are never part of it.
        For a version folder itself this is ``walk_files``.

        Raises:
            FileNotFoundError: when nothing exists at ``path``.

        """
        base = self.check_within_root(path)
        if not self._exists(base):
            raise FileNotFoundError(f"nothing at {path!r}")
        files = sorted(self._own_files(base))
        for file in files:
            self.check_within_root(file)
        return files

    def _own_files(self, base: str) -> list[str]:
        root = self.root.rstrip("/")
        depth = 0 if base.rstrip("/") == root else len(self.relpath(base, root).split("/"))
        if depth >= 2:
            return list(self._find(base))
        own = []
        for file in self._find(base):
            parts = self.relpath(file, root).split("/")
            if parts[0] == STORE_FOLDER or (len(parts) > 2 and _is_uuid(parts[1])):
                continue
            own.append(file)
        return own

    def read_bytes(self, path: str) -> bytes:
        """All bytes of a file."""
        with self.open(path, "rb") as f:
            data: bytes = f.read()
        return data

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a whole file, replacing it."""
        with self.open(path, "wb") as f:
            f.write(data)

    def create_bytes(self, path: str, data: bytes) -> bool:
        """Write a whole new file unless one is already at ``path``; True when this call wrote it.

        Processes that race to create the same file agree on one content: the
        first writer's. On a local disk the bytes go to a temporary file that is
        linked into place (a link never replaces a file), so no reader sees a
        partly written file; an object store gets a conditional upload
        (``If-None-Match: *`` on S3) where its backend offers one.
        """
        local = self.local_path(path)
        if local is None:
            return self._create(self.check_within_root(path), data)
        os.makedirs(os.path.dirname(local), exist_ok=True)
        scratch = f"{local}.{uuid4().hex}.tmp"
        try:
            with open(scratch, "xb") as f:
                f.write(data)
            try:
                os.link(scratch, local)
            except FileExistsError:
                return False
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(scratch)

    def read_text(self, path: str) -> str:
        """Read a whole file decoded as UTF-8."""
        return self.read_bytes(path).decode("utf-8")

    def write_text(self, path: str, text: str) -> None:
        """Write a whole file encoded as UTF-8."""
        self.write_bytes(path, text.encode("utf-8"))

    def upload(self, local_path: str | os.PathLike[str], dst: str) -> None:
        """Copy a local file into the store."""
        with open(local_path, "rb") as fin, self.open(dst, "wb") as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)

    def download(self, src: str, local_path: str | os.PathLike[str]) -> None:
        """Copy a file of the store to a local path (its parent folder must exist)."""
        with self.open(src, "rb") as fin, open(local_path, "wb") as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)

    def local_path(self, path: str) -> str | None:
        """Return the local filesystem path of ``path`` on a local-disk store, else None."""
        self.check_within_root(path)
        return None

    def modified(self, path: str) -> float | None:
        """POSIX time the file at ``path`` last changed, or None when the backend cannot say.

        Garbage collection uses it to spare folders a writer may still be filling.
        """
        self.check_within_root(path)
        return None

    def join(self, path: str, *parts: str) -> str:
        """Join path parts with ``/`` (no check; the result is checked when used)."""
        return "/".join([path.rstrip("/"), *(p.strip("/") for p in parts)])

    def relpath(self, path: str, start: str) -> str:
        """Return the POSIX path of ``path`` relative to the folder ``start``."""
        full = self._resolve_lexical(path)
        base = self._resolve_lexical(start).rstrip("/")
        if full == base:
            return ""
        if not full.startswith(base + "/"):
            raise StorageError(f"{path!r} is not under {start!r}")
        return full[len(base) + 1 :]

    def version_uri(self, name: str, artifact_version_id: UUID) -> str:
        """``<root>/<name>/<artifact version id>``, the folder of one artifact version.

        Raises:
            InvalidArtifactNameError: when ``name`` could escape the root.

        """
        check_artifact_name(name)
        uri = f"{self.root}/{name}/{artifact_version_id}"
        self.check_within_root(uri)
        return uri

    def recorded_uri(self, path: str) -> str:
        """The form of ``path`` the log records: its POSIX path relative to the root.

        Raises:
            StorageError: when ``path`` lies outside the root, or is the root itself.

        """
        relative = self.relpath(self.check_within_root(path), self.root)
        if not relative:
            raise StorageError(
                f"{path!r} is the artifact store root {self.root!r} itself; "
                "an artifact lies in a folder or file below it"
            )
        return relative

    def locate(self, recorded: str) -> str:
        """The full URL of a URI as the log records it (relative, or absolute in older logs).

        A relative URI is joined to this store's root; an absolute one must lie
        under it. Either way the result is checked like every other path.

        Raises:
            ArtifactUriError: when the URI is malformed or would lead out of the
                root (``..``, an absolute path or scheme elsewhere, a symlink).

        """
        if is_relative_uri(recorded):
            full = self.join(self.root, check_relative_uri(recorded))
        else:
            full = recorded
        try:
            return self.check_within_root(full)
        except StorageError as e:
            raise ArtifactUriError(
                f"recorded artifact URI {recorded!r} does not lie in the artifact store "
                f"{self.root!r}: {e}. It was recorded in another store: configure that store "
                "(LINEAGELOG_ARTIFACT_STORE, --artifact-store), or copy its files here"
            ) from e

    def full_uri(self, recorded: str) -> str:
        """The full URL a recorded URI names, worked out from the text alone (for showing it).

        A relative URI is checked (no ``..``, scheme or absolute path) and joined
        to the root; an absolute one is returned as it is. Nothing is resolved on
        storage, so this costs no system call: ``locate`` is what reading uses.

        Raises:
            ArtifactUriError: a relative URI that would lead out of the root.

        """
        if is_relative_uri(recorded):
            return self.join(self.root, check_relative_uri(recorded))
        return recorded

    @cached_property
    def identity(self) -> str:
        """The store's stable name in cache keys: ``lineagelog-store:<id>``.

        The id is read from ``<root>/.lineagelog/store-id``, written there the
        first time it is asked for (and kept by this object). It does not name
        the root, so a store moved or copied with its folder (or its bucket
        prefix) keeps its cache hits.

        Raises:
            StorageError: when the id file cannot be read or written, or holds no id.

        """
        url = self.join(self.root, IDENTITY_FILE)
        try:
            if not self.exists(url):  # written once: another writer's id stands if it came first
                self.create_bytes(url, f"{uuid4()}\n".encode())
            text = self.read_text(url).strip()
        except (OSError, UnicodeDecodeError) as e:
            raise StorageError(
                f"cannot read or write the artifact store's id file {url!r}: {e}; "
                "make the store writable (it is written once), or restore the file"
            ) from e
        if not _is_uuid(text):
            raise StorageError(
                f"the artifact store's id file {url!r} holds {text[:60]!r}, not an id; "
                "restore it from a copy of the store, or delete it to give the store a new id "
                "(earlier executions then stop being cache hits)"
            )
        return IDENTITY_PREFIX + str(UUID(text))

    def content_hash(self, uri: str) -> tuple[str, int]:
        """sha256 (hex) of the files under ``uri``, and their total size in bytes.

        The framing is documented in this module's docstring (version 1):
        a header, then for each file in sorted relative-path order its UTF-8
        relative path, NUL, its length as 8 bytes big-endian, and its bytes.

        Raises:
            FileNotFoundError: when nothing exists at ``uri``.

        """
        digest = hashlib.sha256(CONTENT_HASH_HEADER)
        total = 0
        base = self.check_within_root(uri)
        if not self._exists(base):
            raise FileNotFoundError(f"nothing at {uri!r}")
        # Each file is resolved (and checked to stay under the root) once, right
        # before it is read: the hash reads exactly what was checked.
        entries = sorted((self.relpath(f, base), f) for f in self._own_files(base))
        for rel, file in entries:
            resolved = self.check_within_root(file)
            length = self._size(resolved)
            digest.update(rel.encode("utf-8") + b"\0" + struct.pack(">Q", length))
            seen = 0
            with self._open(resolved, "rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    seen += len(chunk)
            if seen != length:
                raise StorageError(f"{file!r} changed size while it was hashed; hash again")
            total += length
        return digest.hexdigest(), total

    # -- helpers --------------------------------------------------------------

    def _is_within(self, path: str) -> bool:
        try:
            self.check_within_root(path)
        except StorageError:
            return False
        return True

    def _resolve_lexical(self, path: str) -> str:
        # Like _resolve without following symlinks, so relative paths keep the names users see.
        return self._resolve(path)
