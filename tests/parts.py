"""What a test needs from outside Python: a server, a program, an optional library.

Outside CI a missing part skips its tests with a message saying how to get it;
with ``CI=true`` it fails them instead, so CI cannot pass by skipping. Import
these from any test module (``from parts import require_module``).
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest

__all__ = ["in_ci", "require_dot", "require_module", "unavailable"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, how: str) -> None:
    """Skip (or, in CI, fail) a test whose server is not there."""
    message = f"{what} is not available; {how}"
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message, allow_module_level=True)  # also from a module's top, for its imports


def require_module(name: str, extra: str) -> ModuleType:
    """Import an optional library a test needs (skip, or in CI fail, when it is missing)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(f"the Python package {name!r}", f"install it: pip install -e '.[{extra}]'")
        raise  # unreachable: unavailable() skips or fails


def require_dot() -> str:
    """The path of the Graphviz ``dot`` program (skip, or in CI fail, when it is missing)."""
    found = shutil.which("dot")
    if found is None:
        unavailable("the Graphviz `dot` program", "install it: apt-get install graphviz")
        raise AssertionError("unreachable")
    return found
