"""The drawn error tree in domain/errors.py is the real class tree, all of it public."""

from __future__ import annotations

import importlib
import pkgutil
import re

import lineagelog.api
from lineagelog.domain import errors
from lineagelog.domain.errors import LineageError

_BRANCH = re.compile(r"^(?P<indent>[ │]*)[├└]── \[?(?P<name>\w+)\]?")


def _drawn_tree() -> dict[str, str]:
    """Each drawn error's name -> the name drawn as its parent."""
    lines = errors.__doc__.split("::", 1)[1].splitlines()
    parents: dict[str, str] = {}
    stack = ["LineageError"]
    for line in lines:
        match = _BRANCH.match(line.strip("\n")[4:])
        if match is None:
            continue
        depth = len(match["indent"]) // 4
        del stack[depth + 1 :]
        parents[match["name"]] = stack[depth]
        stack.append(match["name"])
    return parents


def _real_errors() -> dict[str, type[LineageError]]:
    for info in pkgutil.walk_packages(lineagelog.__path__, "lineagelog."):
        if ".tests" in info.name or ".examples" in info.name or ".benchmarks" in info.name:
            continue
        importlib.import_module(info.name)
    found: dict[str, type[LineageError]] = {}
    pending = [LineageError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("lineagelog.") and ".tests" not in sub.__module__:
                found[sub.__name__] = sub
            pending.append(sub)
    return found


def _lineage_parent(cls: type) -> str:
    return next(b.__name__ for b in cls.__mro__[1:] if issubclass(b, LineageError))


def test_the_drawn_tree_names_every_error_with_its_real_parent():
    drawn = _drawn_tree()
    real = _real_errors()

    assert sorted(drawn) == sorted(real)
    assert {name: _lineage_parent(cls) for name, cls in real.items()} == drawn


def test_every_error_a_user_can_meet_is_exported_from_the_public_api():
    real = _real_errors()

    missing = [name for name in real if getattr(lineagelog.api, name, None) is not real[name]]

    assert missing == []
    assert lineagelog.api.LineageError is LineageError
