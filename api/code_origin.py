"""Where code comes from: the user's (hashed by content) or a library's (named).

*User code* is code whose file lies outside the standard library, outside every
``site-packages``/``dist-packages`` folder, and outside lineagelog's own engine
(``lineagelog.domain``/``projections``/``adapters``/``api``); code without a file
(a notebook cell, ``exec``) is user code too. Library code is named by its module
and qualified name, with its distribution's version when it is third-party.
"""

from __future__ import annotations

import functools
import sys
import sysconfig
import types
from pathlib import Path
from typing import Any

__all__ = ["importable_name", "is_user_code", "is_user_module", "library_name"]

_ENGINE_PACKAGES = (
    "lineagelog.domain",
    "lineagelog.projections",
    "lineagelog.adapters",
    "lineagelog.api",
)
_ENGINE_FOLDERS = tuple(
    Path(__file__).resolve().parent.parent / name.rpartition(".")[2] for name in _ENGINE_PACKAGES
)


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    paths = sysconfig.get_paths(vars=base)
    roots = {paths["stdlib"], paths["platstdlib"]}
    roots |= {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    return tuple(str(Path(root).resolve()) for root in roots)


@functools.lru_cache(maxsize=4096)
def _is_library_file(filename: str) -> bool:
    if not filename or filename.startswith("<"):
        return False  # exec'd or interactive code: the user's
    path = Path(filename).resolve()
    if {"site-packages", "dist-packages"} & set(path.parts):
        return True
    roots: tuple[str | Path, ...] = (*_library_roots(), *_ENGINE_FOLDERS)
    return any(path.is_relative_to(root) for root in roots)


def _is_engine(module_name: str) -> bool:
    return module_name == "lineagelog" or any(
        module_name == package or module_name.startswith(package + ".")
        for package in _ENGINE_PACKAGES
    )


def is_user_module(module: types.ModuleType) -> bool:
    """Whether ``module`` is user code (its attributes are hashed by content)."""
    if _is_engine(module.__name__):
        return False
    filename = getattr(module, "__file__", None)
    if filename is None:
        # A builtin or frozen module (sys, builtins), or a namespace package.
        return module.__name__ == "__main__"
    return not _is_library_file(filename)


def is_user_code(module_name: str | None, filename: str | None) -> bool:
    """Whether code defined in ``filename`` (else in module ``module_name``) is the user's."""
    # A function's file decides before its module name: code compiled from a
    # string (a doctest, ``exec``) may run with an engine module's globals.
    if filename is not None:
        return not _is_library_file(filename)
    if module_name and _is_engine(module_name):
        return False
    module = sys.modules.get(module_name or "")
    return module is not None and is_user_module(module)


@functools.lru_cache(maxsize=1024)
def _distribution_version(top_level: str) -> str | None:
    module = sys.modules.get(top_level)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        import importlib.metadata  # only when a third-party name is hashed: slow to import

        return importlib.metadata.version(top_level)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None


def library_name(module_name: str, qualname: str) -> list[Any]:
    """The encoding of a library object: its names, and its distribution version if third-party.

    Examples:
        >>> library_name("json", "dumps")
        ['library', 'json', 'dumps', None]
    """
    module = sys.modules.get(module_name)
    filename = getattr(module, "__file__", None)
    top = module_name.partition(".")[0]
    third_party = filename is not None and _is_third_party_file(filename)
    return ["library", module_name, qualname, _distribution_version(top) if third_party else None]


def _is_third_party_file(filename: str) -> bool:
    return bool({"site-packages", "dist-packages"} & set(Path(filename).parts))


def importable_name(value: Any) -> tuple[str, str] | None:
    """``(module, qualname)`` when ``value`` is what that name imports (``typing.Any``)."""
    module_name = getattr(value, "__module__", None)
    qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    target: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return (module_name, qualname) if target is value else None
