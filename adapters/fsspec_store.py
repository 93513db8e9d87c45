"""The artifact store over fsspec: a local folder, memory, S3, GCS, Azure...

``FsspecArtifactStore`` implements the ``ArtifactStore`` port
(``lineagelog.adapters.artifact_store``) over any fsspec URL;
``InMemoryArtifactStore`` gives each instance its own ``memory://`` root, since
fsspec's memory filesystem is global to the class.
"""

from __future__ import annotations

import datetime
import os
import posixpath
import stat
import uuid
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote

from lineagelog.domain.errors import ConfigurationError, StorageError
from lineagelog.domain.redaction import is_secret_parameter, redact_url

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem  # type: ignore[import-untyped, unused-ignore]

from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = ["FsspecArtifactStore", "InMemoryArtifactStore"]

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
                f"artifact store URL {redact_url(url)!r} is empty or not a string; "
                "give a local folder or an fsspec URL such as 's3://bucket/prefix'"
            )
        protocol, rest = _split_protocol(url)
        protocol = protocol or "file"
        rest = _take_credentials(url, protocol, rest, storage_options)
        url = redact_url(url)  # from here on, only for messages
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
            return self._to_url(self._real_local(rest))
        return self._to_url(self._normalize_native(rest))

    def _real_local(self, native: str) -> str:
        """``os.path.realpath(native)``, asking the disk only about the part below the root.

        The root was resolved when the store opened. A path spelled under it with no
        empty, ``.`` or ``..`` component resolves to itself unless the root or one
        of the components below it is now a symlink, which ``lstat`` of those
        components tells (a missing one ends the walk: nothing below it exists).
        Anything else, or any symlink met, goes to ``os.path.realpath``. Every path
        a store reads or writes comes here, and a full ``realpath`` asks the disk
        about every folder from ``/`` down.
        """
        root = self._native_root
        if not native.startswith(root + "/"):
            return os.path.realpath(native)
        parts = native[len(root) + 1 :].split("/")
        if "" in parts or "." in parts or ".." in parts:
            return os.path.realpath(native)
        current = root
        for part in ("", *parts):
            current = current + "/" + part if part else current
            try:
                mode = os.lstat(current).st_mode
            except OSError:  # missing (or under a file): realpath keeps the rest as spelled
                break
            if stat.S_ISLNK(mode):
                return os.path.realpath(native)
        return native

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
        if self._local:
            return _open_local(native, mode)
        # MemoryFileSystem says FileNotFoundError for a folder; say what is wrong.
        if self._protocol == "memory" and "r" in mode and self._fs.isdir(native):
            raise IsADirectoryError(f"{url!r} is a folder, not a file")
        f: IO[Any] = self._fs.open(native, mode)
        return f

    def _exists(self, url: str) -> bool:
        return bool(self._fs.exists(self._native(url)))

    def _create(self, url: str, data: bytes) -> bool:
        # s3fs sends If-None-Match: * (atomic on S3 and its compatible servers) and
        # the memory filesystem opens "xb"; fsspec's generic fallback checks first.
        try:
            self._fs.pipe_file(self._native(url), data, mode="create")
        except FileExistsError:
            return False
        return True

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


def _open_local(native: str, mode: str) -> IO[Any]:
    """Open a file on local disk as fsspec would, its folders made when writing.

    The built-in ``open``, without fsspec's file object: a step opens several
    files, and its folder usually exists, so it is made only when opening says
    it is missing.
    """
    try:
        return open(native, mode)
    except FileNotFoundError:
        if not any(c in mode for c in "wax"):
            raise
    os.makedirs(os.path.dirname(native), exist_ok=True)
    return open(native, mode)


def _split_protocol(url: str) -> tuple[str | None, str]:
    if "://" in url:
        protocol, rest = url.split("://", 1)
        if len(protocol) > 1 and protocol.isascii() and protocol.replace("+", "").isalnum():
            return protocol.lower(), rest
    return None, url


_S3_PROTOCOLS = ("s3", "s3a")
_USE_ENVIRONMENT = (
    "give the credentials through the environment (AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_ACCOUNT_KEY ...) "
    "or fsspec's configuration instead"
)


def _take_credentials(url: str, protocol: str, rest: str, options: dict[str, Any]) -> str:
    """Move ``s3://KEY:SECRET@bucket`` credentials into ``options``; return the URL's rest.

    The store's root is recorded (in cache keys, artifact URIs, messages), so
    it must never hold a credential: an S3 key and secret in the URL become
    s3fs's ``key`` and ``secret``; other credentials in a URL are refused.
    """
    path, _, query = rest.partition("?")
    secret_parameters = [
        name for name in (item.partition("=")[0] for item in query.split("&")) if name
    ]
    if any(is_secret_parameter(name) for name in secret_parameters):
        raise ConfigurationError(
            f"artifact store URL {redact_url(url)!r} carries a credential in its query; "
            f"{_USE_ENVIRONMENT}"
        )
    userinfo, at, location = path.rpartition("@") if "@" in path else ("", "", path)
    if not at or ":" not in userinfo or protocol in ("file", "memory"):
        return rest
    if protocol not in _S3_PROTOCOLS:
        raise ConfigurationError(
            f"artifact store URL {redact_url(url)!r} carries a user and password; "
            f"{_USE_ENVIRONMENT}"
        )
    key, _, secret = userinfo.partition(":")
    if not key or not secret:
        raise ConfigurationError(
            f"artifact store URL {redact_url(url)!r} carries an incomplete S3 key and "
            f"secret; write s3://KEY:SECRET@bucket/prefix (percent-encoded), or {_USE_ENVIRONMENT}"
        )
    options.setdefault("key", unquote(key))
    options.setdefault("secret", unquote(secret))
    return location + ("?" + query if query else "")


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
