"""Run metadata: the key-value facts users log on runs, step runs and artifact versions.

ZenML's ``MetadataType``: strings, integers, floats, booleans, lists, tuples,
sets and dicts of JSON values, plus four typed wrappers (``Uri``, ``Path``,
``DType``, ``StorageSize``). A logged value is recorded as JSON beside the name
of its type, so a tuple, a set or a wrapper reads back as what was logged.
Anything else is refused before anything is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from lineagelog.domain.errors import InvalidMetadataError

__all__ = [
    "DType",
    "MetadataType",
    "Path",
    "StorageSize",
    "Uri",
    "checked_metadata",
    "merged_metadata",
    "typed_value",
]

MAX_KEY_LENGTH = 255
"""The longest metadata key, as in ZenML (a key is a column of a view table)."""


class Uri(str):
    """A URI, shown as a link (ZenML's ``Uri``)."""

    __slots__ = ()


class Path(str):
    """A file system path (ZenML's ``Path``; not ``pathlib.Path``)."""

    __slots__ = ()


class DType(str):
    """A data type's name, such as ``"int64"`` (ZenML's ``DType``)."""

    __slots__ = ()


class StorageSize(int):
    """A size in bytes (ZenML's ``StorageSize``)."""

    __slots__ = ()


MetadataType = (
    str
    | int
    | float
    | bool
    | list[Any]
    | dict[str, Any]
    | tuple[Any, ...]
    | set[Any]
    | frozenset[Any]
)
"""What a metadata value may be: the wrappers above are subclasses of ``str`` and ``int``."""

# Checked in this order: a wrapper before its base, bool before int.
_TYPES: tuple[tuple[str, type], ...] = (
    ("Uri", Uri),
    ("Path", Path),
    ("DType", DType),
    ("StorageSize", StorageSize),
    ("bool", bool),
    ("int", int),
    ("float", float),
    ("str", str),
    ("list", list),
    ("tuple", tuple),
    ("set", set),
    ("set", frozenset),
    ("dict", dict),
)
_BY_NAME: dict[str, type] = {name: cls for name, cls in _TYPES if cls is not frozenset}


def _json(value: Any, where: str) -> Any:
    """``value`` as plain JSON, or ``InvalidMetadataError`` naming where it is not."""
    if value is None or isinstance(value, bool | str):
        return str(value) if isinstance(value, str) else value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise InvalidMetadataError(
                f"metadata {where} is {value!r}, which JSON cannot hold; log a finite number "
                "or a string such as 'nan'"
            )
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidMetadataError(
                    f"metadata {where} has the key {key!r}; keys of a dict value must be strings"
                )
            out[key] = _json(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, list | tuple):
        return [_json(item, f"{where}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        return sorted((_json(item, f"{where} member") for item in value), key=repr)
    raise InvalidMetadataError(
        f"metadata {where} is a {type(value).__qualname__} ({value!r:.80}), which is not a "
        "metadata type; log str, int, float, bool, list, tuple, set or dict values (or Uri, "
        "Path, DType, StorageSize), converting other objects first (str(x), float(x))"
    )


def _type_name(value: Any) -> str:
    return next(name for name, cls in _TYPES if isinstance(value, cls))


def checked_metadata(metadata: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Split ``metadata`` into its JSON values and their type names, refusing what is not metadata.

    Raises:
        InvalidMetadataError: ``metadata`` is not a non-empty dict with string
            keys of at most 255 characters, or a value is not a metadata type.

    Examples:
        >>> checked_metadata({"size": StorageSize(3), "shape": (2, 3)})
        ({'size': 3, 'shape': [2, 3]}, {'size': 'StorageSize', 'shape': 'tuple'})
    """
    if not isinstance(metadata, Mapping) or not metadata:
        raise InvalidMetadataError(
            f"metadata must be a non-empty dict of names to values, got {metadata!r:.80}; "
            "log_metadata(metadata={'accuracy': 0.9})"
        )
    values: dict[str, Any] = {}
    types: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise InvalidMetadataError(
                f"metadata key {key!r:.80} must be a non-empty string of at most "
                f"{MAX_KEY_LENGTH} characters"
            )
        if value is None:
            raise InvalidMetadataError(
                f"metadata {key!r} is None, which is not a metadata type; leave the key out "
                "or log a value"
            )
        values[key] = _json(value, repr(key))
        types[key] = _type_name(value)
    return values, types


def typed_value(value: Any, type_name: str) -> Any:
    """A recorded JSON value as the type it was logged as (a tuple, a set, a ``Uri``...)."""
    cls = _BY_NAME.get(type_name)
    if cls is None or cls in (list, dict) or value is None:
        return value
    try:
        return cls(value)
    except (TypeError, ValueError):  # a value recorded under another name: keep it as JSON
        return value


def merged_metadata(entries: Iterable[tuple[str, Any, str]]) -> dict[str, Any]:
    """Entries ``(key, value, type name)`` in log order, merged: the latest value of a key wins.

    Examples:
        >>> merged_metadata([("a", 1, "int"), ("p", "/x", "Path"), ("a", 2, "int")])
        {'a': 2, 'p': '/x'}
    """
    merged: dict[str, Any] = {}
    for key, value, type_name in entries:
        merged[key] = typed_value(value, type_name)
    return merged
