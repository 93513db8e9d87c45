"""How two artifact values differ, said as cheaply as it can be said.

JSON-like values get a structural diff (capped); DataFrames and numpy arrays
are compared by what their materializer recorded (shape, columns and dtypes,
row count, summary statistics), so they are never loaded; anything else by
its content hash and its materializer's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_CHANGES", "ValueChange", "ValueDifference", "structural_diff"]

MAX_CHANGES = 20
"""Changes listed at most; the rest is counted."""
_SHOWN = 80


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


@dataclass(frozen=True)
class ValueChange:
    """One place where two values differ: ``path`` (``$.w[1]``) and both sides as text.

    ``old`` / ``new`` are None where the place exists on one side only.
    """

    path: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ValueDifference:
    """How two values differ, and how that was found out.

    ``how`` is ``values`` (loaded and compared), ``metadata`` (the materializers'
    records) or ``content hash``; ``note`` says what was not done, and why.
    """

    how: str
    changes: tuple[ValueChange, ...]
    more: int = 0
    note: str | None = None


def structural_diff(old: Any, new: Any, limit: int = MAX_CHANGES) -> tuple[list[ValueChange], int]:
    """The places where two JSON-like values differ, at most ``limit`` of them, and how many more.

    Dicts are compared key by key, lists and tuples item by item; anything else by equality.

    Examples:
        >>> changes, more = structural_diff({"w": [1, 2], "b": 0}, {"w": [1, 3], "c": 1})
        >>> [(c.path, c.old, c.new) for c in changes], more
        ([('$.b', '0', None), ('$.c', None, '1'), ('$.w[1]', '2', '3')], 0)
    """
    found: list[ValueChange] = []
    total = _walk(old, new, "$", found, limit)
    return found, total - len(found)


def _walk(old: Any, new: Any, path: str, found: list[ValueChange], limit: int) -> int:
    def add(change: ValueChange) -> int:
        if len(found) < limit:
            found.append(change)
        return 1

    if isinstance(old, dict) and isinstance(new, dict):
        count = 0
        for key in sorted(old.keys() | new.keys(), key=repr):
            where = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key!r}]"
            if key not in new:
                count += add(ValueChange(where, _show(old[key]), None))
            elif key not in old:
                count += add(ValueChange(where, None, _show(new[key])))
            else:
                count += _walk(old[key], new[key], where, found, limit)
        return count
    if isinstance(old, list | tuple) and isinstance(new, list | tuple) and type(old) is type(new):
        count = 0
        for index in range(max(len(old), len(new))):
            where = f"{path}[{index}]"
            if index >= len(new):
                count += add(ValueChange(where, _show(old[index]), None))
            elif index >= len(old):
                count += add(ValueChange(where, None, _show(new[index])))
            else:
                count += _walk(old[index], new[index], where, found, limit)
        return count
    if type(old) is type(new) and old == new:
        return 0
    return add(ValueChange(path, _show(old), _show(new)))
