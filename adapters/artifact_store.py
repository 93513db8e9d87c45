r"""The artifact store: where artifact bytes live, behind a small port.

``ArtifactStore`` is the port. Subclasses implement a small core (``_resolve``
and the ``_open`` / ``_ls`` / ... primitives, all on paths already checked to
lie under the root); the base class builds the public API on top of it and
guarantees that every path-taking method goes through ``check_within_root``.

``FsspecArtifactStore`` implements it over any fsspec URL (a local folder,
``file://``, ``memory://``, ``s3://bucket/prefix`` ...), and
``InMemoryArtifactStore`` is the fake for unit tests.

Layout: ``<root>/<artifact name>/<artifact version id>/<files>``.

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

import datetime
import hashlib
import os
import posixpath
import shutil
import struct
import uuid
from abc import ABC, abstractmethod
from typing import IO, TYPE_CHECKING, Any

from lineagelog.domain.errors import ConfigurationError, StorageError
from lineagelog.domain.names import check_artifact_name

if TYPE_CHECKING:
    from uuid import UUID

    from fsspec import AbstractFileSystem  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "CONTENT_HASH_HEADER",
    "ArtifactStore",
    "FsspecArtifactStore",
    "InMemoryArtifactStore",
]

CONTENT_HASH_HEADER = b"lineagelog-content-v1\0"
_CHUNK = 1024 * 1024

# Protocols lineagelog documents, and what to install when fsspec knows the
# protocol but its implementation package is missing.
_USABLE_PROTOCOLS = ("file (a local folder)", "memory", "s3", "gcs", "abfs")
_INSTALL_HINTS = {
    "s3": "pip install lineagelog[s3]",
    "s3a": "pip install lineagelog[s3]",
    "gs": "pip install gcsfs",
    "gcs": "pip install gcsfs",
    "abfs": "pip install adlfs",
    "az": "pip install adlfs",
    "abfss": "pip install adlfs",
}


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
        """Normalized URL of the store's root folder; the store's identity in cache keys."""

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

    def copyfile(self, src: str, dst: str) -> None:
        """Copy one file within the store (parents of ``dst`` are created)."""
        src_url = self.check_within_root(src)
        dst_url = self.check_within_root(dst)
        with self._open(src_url, "rb") as fin, self._open(dst_url, "wb") as fout:
            shutil.copyfileobj(fin, fout, _CHUNK)

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

    def read_bytes(self, path: str) -> bytes:
        """All bytes of a file."""
        with self.open(path, "rb") as f:
            data: bytes = f.read()
        return data

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a whole file, replacing it."""
        with self.open(path, "wb") as f:
            f.write(data)

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
        entries = sorted((self.relpath(f, base), f) for f in self.walk_files(base))
        for rel, file in entries:
            length = self.size(file)
            digest.update(rel.encode("utf-8") + b"\0" + struct.pack(">Q", length))
            seen = 0
            with self.open(file, "rb") as f:
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


class FsspecArtifactStore(ArtifactStore):
    """An artifact store over any fsspec URL.

    Args:
        url: a local folder (relative paths are made absolute), ``file://...``,
            ``memory://...``, ``s3://bucket/prefix`` (needs ``lineagelog[s3]``),
            ``gcs://...``, ``abfs://...`` or any other fsspec protocol.
        **storage_options: passed to the fsspec filesystem (credentials,
            endpoint_url, ...).

    Raises:
        ConfigurationError: when fsspec does not know the protocol or its
            package is not installed.

    A local root folder is created on first write.

    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        if not isinstance(url, str) or not url.strip():
            raise ConfigurationError(
                f"artifact store URL {url!r} is empty or not a string; "
                "give a local folder or an fsspec URL such as 's3://bucket/prefix'"
            )
        self._url = url
        protocol, rest = _split_protocol(url)
        protocol = protocol or "file"
        if protocol == "file":
            storage_options.setdefault("auto_mkdir", True)
        self._fs = _make_filesystem(url, protocol, storage_options)
        self._protocols = _protocols_of(self._fs, protocol)
        self._protocol = self._protocols[0]
        self._local = self._protocol in ("file", "local")
        if self._local:
            self._protocol = "file"
            native_root = os.path.realpath(os.path.abspath(os.path.expanduser(rest)))
        else:
            native_root = self._normalize_native(rest)
            if native_root in ("", "/", "."):
                raise ConfigurationError(
                    f"artifact store URL {url!r} names no bucket or folder; "
                    f"use e.g. '{self._protocol}://bucket/prefix'"
                )
        self._native_root = native_root
        self._root = self._to_url(native_root)

    @property
    def root(self) -> str:
        """Normalized URL of the root (``file:///abs/path`` for a local folder)."""
        return self._root

    @property
    def fs(self) -> AbstractFileSystem:
        """The underlying fsspec filesystem (paths given to it bypass the root check)."""
        return self._fs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._root!r})"

    def local_path(self, path: str) -> str | None:
        """Return the local filesystem path when the store is on local disk, else None."""
        url = self.check_within_root(path)
        return self._native(url) if self._local else None

    def modified(self, path: str) -> float | None:
        """POSIX time the file at ``path`` last changed, or None when fsspec cannot say."""
        native = self._native(self.check_within_root(path))
        try:
            moment = self._fs.modified(native)
        except (NotImplementedError, OSError, KeyError, ValueError):
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:  # fsspec backends give naive datetimes in UTC
            moment = moment.replace(tzinfo=datetime.UTC)
        return float(moment.timestamp())

    # -- path handling ----------------------------------------------------

    def _normalize_native(self, path: str) -> str:
        if self._protocol == "memory":
            # memory:// keeps keys with a leading '/', also for names with '::' that
            # MemoryFileSystem._strip_protocol would otherwise leave without one.
            return "/" + posixpath.normpath("/" + path).lstrip("/")
        norm = posixpath.normpath(path.lstrip("/")) if path else ""
        return "" if norm == "." else norm

    def _to_url(self, native: str) -> str:
        if self._local:
            return "file://" + native
        return f"{self._protocol}://{native.lstrip('/')}"

    def _native(self, url: str) -> str:
        return url[len(self._protocol) + 3 :] if self._local else self._strip(url)

    def _strip(self, url: str) -> str:
        rest = url.split("://", 1)[1]
        return "/" + rest if self._protocol == "memory" else rest

    def _parse(self, path: str) -> str:
        protocol, rest = _split_protocol(path)
        if protocol is not None and protocol not in self._protocols:
            raise StorageError(
                f"path {path!r} uses protocol {protocol!r} but the artifact store "
                f"{self._root!r} is {self._protocol!r}; give a path under the root"
            )
        if self._local and not os.path.isabs(rest):
            raise StorageError(
                f"path {path!r} is relative; give a full path under the artifact store "
                f"root {self._root!r}"
            )
        return rest

    def _resolve(self, path: str) -> str:
        rest = self._parse(path)
        if self._local:
            return self._to_url(os.path.realpath(rest))
        return self._to_url(self._normalize_native(rest))

    def _resolve_lexical(self, path: str) -> str:
        rest = self._parse(path)
        if self._local:
            return self._to_url(os.path.normpath(rest))
        return self._to_url(self._normalize_native(rest))

    def _urls(self, natives: list[str]) -> list[str]:
        return [self._to_url(n if not self._local else os.path.normpath(n)) for n in natives]

    # -- the core over fsspec ----------------------------------------------------

    def _open(self, url: str, mode: str) -> IO[Any]:
        native = self._native(url)
        if any(c in mode for c in "wax") and self._local:
            os.makedirs(os.path.dirname(native), exist_ok=True)
        # MemoryFileSystem says FileNotFoundError for a folder; say what is wrong.
        if self._protocol == "memory" and "r" in mode and self._fs.isdir(native):
            raise IsADirectoryError(f"{url!r} is a folder, not a file")
        f: IO[Any] = self._fs.open(native, mode)
        return f

    def _exists(self, url: str) -> bool:
        return bool(self._fs.exists(self._native(url)))

    def _isdir(self, url: str) -> bool:
        return bool(self._fs.isdir(self._native(url)))

    def _ls(self, url: str) -> list[str]:
        native = self._native(url)
        children = [p for p in self._fs.ls(native, detail=False) if p.rstrip("/") != native]
        return self._urls(children)

    def _find(self, url: str) -> list[str]:
        native = self._native(url)
        if not self._fs.isdir(native):
            if not self._fs.exists(native):
                raise FileNotFoundError(f"nothing at {url!r}")
            return [url]
        return self._urls(list(self._fs.find(native, withdirs=False)))

    def _makedirs(self, url: str, exist_ok: bool) -> None:
        self._fs.makedirs(self._native(url), exist_ok=exist_ok)

    def _rm_file(self, url: str) -> None:
        self._fs.rm_file(self._native(url))

    def _rmtree(self, url: str) -> None:
        self._fs.rm(self._native(url), recursive=True)

    def _glob(self, pattern: str) -> list[str]:
        return self._urls([str(p) for p in self._fs.glob(self._native(pattern))])

    def _size(self, url: str) -> int:
        native = self._native(url)
        if self._fs.isdir(native):
            raise IsADirectoryError(f"{url!r} is a folder; size() measures files")
        return int(self._fs.size(native))


class InMemoryArtifactStore(FsspecArtifactStore):
    """The fake for unit tests: an fsspec memory store with its own unique root.

    fsspec's memory filesystem is global to the process, so each instance gets
    ``memory://lineagelog-<uuid>``; call ``clear()`` (fixtures should) to drop
    its files.
    """

    def __init__(self, name: str | None = None) -> None:
        super().__init__(f"memory://{name or f'lineagelog-{uuid.uuid4().hex}'}")

    def clear(self) -> None:
        """Delete every file and folder under this store's root (the root stays usable)."""
        native = self._native_root
        if self._fs.exists(native):
            self._fs.rm(native, recursive=True)
        # MemoryFileSystem keeps files and pseudo-folders in class-level containers.
        store = getattr(self._fs, "store", {})
        for key in [k for k in store if k == native or k.startswith(native + "/")]:
            del store[key]
        pseudo_dirs = getattr(self._fs, "pseudo_dirs", [])
        pseudo_dirs[:] = [d for d in pseudo_dirs if not (d == native or d.startswith(native + "/"))]


def _split_protocol(url: str) -> tuple[str | None, str]:
    if "://" in url:
        protocol, rest = url.split("://", 1)
        if len(protocol) > 1 and protocol.isascii() and protocol.replace("+", "").isalnum():
            return protocol.lower(), rest
    return None, url


def _make_filesystem(url: str, protocol: str, options: dict[str, Any]) -> AbstractFileSystem:
    # Imported here: fsspec costs ~0.1 s and most modules never need it.
    import fsspec  # type: ignore[import-untyped, unused-ignore]

    try:
        return fsspec.filesystem(protocol, **options)
    except ImportError as e:
        hint = _INSTALL_HINTS.get(protocol, "install the fsspec implementation for it")
        raise ConfigurationError(
            f"artifact store URL {url!r} needs a package that is not installed "
            f"for protocol {protocol!r}: {hint} ({e})"
        ) from e
    except ValueError as e:
        raise ConfigurationError(
            f"artifact store URL {url!r} uses protocol {protocol!r}, which fsspec does not "
            f"know; usable protocols: {', '.join(_USABLE_PROTOCOLS)}, or any protocol listed "
            "by fsspec.available_protocols()"
        ) from e
    except TypeError as e:
        raise ConfigurationError(
            f"artifact store URL {url!r}: storage options {sorted(options)} are not "
            f"accepted by the {protocol!r} filesystem ({e})"
        ) from e


def _protocols_of(fs: AbstractFileSystem, protocol: str) -> tuple[str, ...]:
    declared = fs.protocol
    names = (declared,) if isinstance(declared, str) else tuple(declared)
    return (protocol, *(n for n in names if n != protocol))
