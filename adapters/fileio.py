"""ZenML's ``fileio``: file operations on local paths and any fsspec URL.

The functions and their behaviour are ZenML's (``zenml.io.fileio``), so a
custom materializer written for ZenML runs unchanged:
``with fileio.open(os.path.join(self.uri, "data.txt"), "w") as f: ...``.

Which filesystem serves a path: the one of an artifact store this process
uses, when the path lies under that store's root (so its credentials and
endpoint apply, as ZenML uses the active stack's artifact store); otherwise
fsspec's filesystem for the URL's protocol (``s3://``, ``gcs://``, ``memory://``
...), and the local disk for a path without one. Paths come back in the form
they were given: plain local paths stay plain, URLs keep their protocol.

Unlike the artifact store's own methods, these functions are not confined to
the store's root: they are for the user's code, which may read any file it
could read anyway.
"""

from __future__ import annotations

import builtins
import os
import posixpath
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lineagelog.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "copy",
    "exists",
    "glob",
    "isdir",
    "listdir",
    "makedirs",
    "mkdir",
    "open",
    "register_filesystem",
    "remove",
    "rename",
    "rmtree",
    "size",
    "stat",
    "walk",
]

# Root URL of an artifact store in use -> its filesystem (credentials included).
_STORE_FILESYSTEMS: dict[str, AbstractFileSystem] = {}


def register_filesystem(root: str, fs: AbstractFileSystem) -> None:
    """Serve paths under ``root`` (a URL such as ``s3://bucket/prefix``) with ``fs``.

    Artifact stores register themselves when a materializer is given one, so
    ``fileio`` reaches a store with the same settings the store uses.
    """
    _STORE_FILESYSTEMS[root.rstrip("/")] = fs


def open(path: str | os.PathLike[str], mode: str = "r") -> Any:
    """Open the file at ``path`` (``"r"``, ``"rb"``, ``"w"``, ``"wb"``, ``"a"`` ...).

    Writing creates missing parent folders on the local disk.
    """
    fs, native = _filesystem(path)
    if any(flag in mode for flag in "wax") and _is_local(fs):
        parent = os.path.dirname(native)
        if parent:
            os.makedirs(parent, exist_ok=True)
    return fs.open(native, mode)


def copy(src: str | os.PathLike[str], dst: str | os.PathLike[str], overwrite: bool = False) -> None:
    """Copy the file ``src`` to ``dst``, also between filesystems (local to S3, ...).

    Raises:
        FileExistsError: when ``dst`` exists and ``overwrite`` is False.
        FileNotFoundError: when ``src`` does not exist.

    """
    if not overwrite and exists(dst):
        raise FileExistsError(
            f"destination file {_text(dst)!r} already exists and `overwrite` is False; "
            "pass overwrite=True to replace it"
        )
    src_fs, src_native = _filesystem(src)
    dst_fs, dst_native = _filesystem(dst)
    if not src_fs.isfile(src_native):
        raise FileNotFoundError(f"no file to copy at {_text(src)!r}")
    if src_fs is dst_fs:
        if _is_local(dst_fs):
            os.makedirs(os.path.dirname(dst_native) or ".", exist_ok=True)
        src_fs.copy(src_native, dst_native)
        return
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(1024 * 1024):
            fout.write(chunk)


def exists(path: str | os.PathLike[str]) -> bool:
    """Whether a file or folder exists at ``path``."""
    fs, native = _filesystem(path)
    return bool(fs.exists(native))


def glob(pattern: str | os.PathLike[str]) -> list[str]:
    """The paths matching the glob ``pattern``, in the form the pattern was given."""
    fs, native = _filesystem(pattern)
    return sorted(_outward(str(match), pattern) for match in fs.glob(native))


def isdir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder."""
    fs, native = _filesystem(path)
    return bool(fs.isdir(native))


def listdir(path: str, only_file_names: bool = True) -> list[str]:
    """The entries of the folder ``path``: names, or full paths with ``only_file_names=False``.

    A missing folder gives an empty list, as in ZenML.
    """
    fs, native = _filesystem(path)
    try:
        entries = fs.ls(native, detail=False)
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = sorted(
        posixpath.basename(str(entry).rstrip("/"))
        for entry in entries
        if str(entry).rstrip("/") != native.rstrip("/")
    )
    if only_file_names:
        return names
    return [_join(_text(path), name) for name in names]


def makedirs(path: str | os.PathLike[str]) -> None:
    """Create the folder ``path`` and its missing parents (no error if it exists)."""
    fs, native = _filesystem(path)
    fs.makedirs(native, exist_ok=True)


def mkdir(path: str | os.PathLike[str]) -> None:
    """Create the folder ``path``; its parent must exist.

    Raises:
        FileExistsError: when something exists at ``path`` already.
        FileNotFoundError: when the parent folder does not exist (local disk).

    """
    fs, native = _filesystem(path)
    if fs.exists(native):
        raise FileExistsError(f"{_text(path)!r} exists already")
    if _is_local(fs):
        os.mkdir(native)
    else:
        fs.mkdir(native, create_parents=False)


def remove(path: str | os.PathLike[str]) -> None:
    """Delete the file at ``path``.

    Raises:
        FileNotFoundError: when nothing exists at ``path``.
        IsADirectoryError: when ``path`` is a folder (use ``rmtree``).

    """
    fs, native = _filesystem(path)
    if not fs.exists(native):
        raise FileNotFoundError(f"{_text(path)} does not exist!")
    if fs.isdir(native):
        raise IsADirectoryError(f"{_text(path)!r} is a folder; delete folders with rmtree")
    fs.rm_file(native)


def rename(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], overwrite: bool = False
) -> None:
    """Move the file or folder ``src`` to ``dst`` on the same filesystem.

    Raises:
        FileExistsError: when ``dst`` exists and ``overwrite`` is False.
        NotImplementedError: when ``src`` and ``dst`` are on different
            filesystems (copy, then remove, instead).

    """
    src_fs, src_native = _filesystem(src)
    dst_fs, dst_native = _filesystem(dst)
    if src_fs is not dst_fs:
        raise NotImplementedError(
            f"renaming from {_text(src)!r} to {_text(dst)!r} crosses filesystems; "
            "copy the file with fileio.copy, then remove the source"
        )
    if dst_fs.exists(dst_native):
        if not overwrite:
            raise FileExistsError(
                f"destination {_text(dst)!r} already exists and `overwrite` is False; "
                "pass overwrite=True to replace it"
            )
        if dst_fs.isdir(dst_native):
            dst_fs.rm(dst_native, recursive=True)
    if _is_local(src_fs):
        os.replace(src_native, dst_native)
    else:
        src_fs.mv(src_native, dst_native, recursive=True)


def rmtree(dir_path: str) -> None:
    """Delete the folder ``dir_path`` and everything under it.

    Raises:
        TypeError: when ``dir_path`` is not a folder (ZenML's error).

    """
    fs, native = _filesystem(dir_path)
    if not fs.isdir(native):
        raise TypeError(f"Path {dir_path!r} is not a directory; delete a file with remove")
    fs.rm(native, recursive=True)


def size(path: str | os.PathLike[str]) -> int:
    """Size in bytes of the file at ``path``, or of all files under the folder ``path``."""
    fs, native = _filesystem(path)
    if fs.isdir(native):
        return int(fs.du(native, total=True))
    return int(fs.size(native))


def stat(path: str | os.PathLike[str]) -> Any:
    """The stat of ``path``: ``os.stat_result`` on the local disk, fsspec's info dict elsewhere."""
    fs, native = _filesystem(path)
    if _is_local(fs):
        return os.stat(native)
    return fs.info(native)


def walk(
    top: str | os.PathLike[str],
    topdown: bool = True,
    onerror: Callable[..., None] | None = None,
) -> Iterator[tuple[str, list[str], list[str]]]:
    """Walk the folder ``top``: ``(folder, subfolder names, file names)`` as ``os.walk`` does.

    Folders are given in the form ``top`` was given.
    """
    fs, native = _filesystem(top)
    if _is_local(fs):
        yield from os.walk(native, topdown=topdown, onerror=onerror)
        return
    prefix = native.rstrip("/")
    outward_top = _text(top).rstrip("/")
    try:
        walked = list(fs.walk(native, topdown=topdown))
    except OSError as e:
        if onerror is not None:
            onerror(e)
        return
    for folder, subfolders, files in walked:
        relative = str(folder).rstrip("/")[len(prefix) :].lstrip("/")
        shown = _join(outward_top, relative) if relative else outward_top
        yield shown, sorted(subfolders), sorted(files)


def _filesystem(path: str | os.PathLike[str]) -> tuple[AbstractFileSystem, str]:
    text = _text(path)
    for root, fs in _STORE_FILESYSTEMS.items():
        if text == root or text.startswith(root + "/"):
            return fs, _native(fs, text)
    try:
        from fsspec.core import url_to_fs
    except ImportError as e:  # pragma: no cover - fsspec is a dependency
        raise ConfigurationError("fileio needs fsspec: pip install fsspec") from e
    try:
        fs, native = url_to_fs(text)
    except (ImportError, ValueError) as e:
        raise ConfigurationError(
            f"fileio cannot open {text!r}: {e}; install the package for that protocol "
            "(s3: pip install lineagelog[s3], gcs: gcsfs, abfs: adlfs) or give a local path"
        ) from e
    return fs, str(native)


def _native(fs: AbstractFileSystem, url: str) -> str:
    native: str = fs._strip_protocol(url)
    return native


def _is_local(fs: AbstractFileSystem) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def _outward(native: str, given: str | os.PathLike[str]) -> str:
    text = _text(given)
    if "://" not in text:
        return native
    protocol, rest = text.split("://", 1)
    lead = "/" if rest.startswith("/") else ""
    return f"{protocol}://{lead}{native.lstrip('/')}"


def _join(base: str, name: str) -> str:
    return posixpath.join(base, name) if "://" in base else os.path.join(base, name)


def _text(path: str | os.PathLike[str]) -> str:
    if isinstance(path, bytes):
        return path.decode("utf-8")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"fileio paths are strings or os.PathLike, got {builtins.type(path)!r}")
    return os.fspath(path)
