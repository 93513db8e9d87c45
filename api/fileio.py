"""ZenML's ``fileio`` (``from lineagelog.api import fileio``): files on local paths and fsspec URLs.

``open``, ``exists``, ``makedirs``, ``mkdir``, ``listdir``, ``copy``, ``remove``,
``rename``, ``rmtree``, ``glob``, ``isdir``, ``size``, ``stat`` and ``walk``, with
ZenML's signatures and behaviour; see ``lineagelog.adapters.fileio``.
"""

from __future__ import annotations

from lineagelog.adapters.fileio import (
    copy,
    exists,
    glob,
    isdir,
    listdir,
    makedirs,
    mkdir,
    open,
    remove,
    rename,
    rmtree,
    size,
    stat,
    walk,
)

__all__ = [
    "copy",
    "exists",
    "glob",
    "isdir",
    "listdir",
    "makedirs",
    "mkdir",
    "open",
    "remove",
    "rename",
    "rmtree",
    "size",
    "stat",
    "walk",
]
