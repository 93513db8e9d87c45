"""Typed canonical encodings of plain values that code computes with.

A step's code hash covers the constants its code reads (module-level names,
closure cells, default arguments). Unlike parameters, these are encoded with
their type, so that ``1``, ``1.0``, ``True`` and ``"1"`` hash differently, and
only values whose encoding is the whole value are accepted: scalars, paths,
UUIDs, dates and times, decimals and compiled regular expressions. Containers
and code are walked by the caller, which knows how to encode their members.
"""

from __future__ import annotations

import datetime
import decimal
import re
import uuid
from pathlib import PurePath
from typing import Any

__all__ = ["plain_value"]

_SCALARS: dict[type, str] = {type(None): "none", bool: "bool", int: "int", str: "str"}
_TIMES = (datetime.datetime, datetime.date, datetime.time, datetime.timedelta)


def plain_value(value: Any) -> list[Any] | None:
    """Encode ``value`` as a JSON-able ``[type tag, value]`` pair, or None if it is not plain.

    Examples:
        >>> plain_value(1), plain_value(1.0), plain_value(True)
        (['int', 1], ['float', '1.0'], ['bool', True])
        >>> plain_value(PurePath("data") / "raw.csv")
        ['PurePosixPath', 'data/raw.csv']
        >>> plain_value(object()) is None
        True
    """
    kind = type(value)
    if kind in _SCALARS:
        return [_SCALARS[kind], value]
    if kind is float or kind is complex:
        return [kind.__name__, repr(value)]  # repr keeps -0.0, nan and inf apart
    if kind is bytes:
        return ["bytes", value.hex()]
    if isinstance(value, PurePath):
        # The path, not the file: a file a step reads belongs in its inputs.
        return [kind.__name__, value.as_posix()]
    if isinstance(value, uuid.UUID):
        return ["uuid", str(value)]
    if isinstance(value, _TIMES):
        return [kind.__name__, repr(value)]
    if isinstance(value, decimal.Decimal):
        return ["decimal", str(value)]
    if isinstance(value, re.Pattern):
        pattern = value.pattern
        shown = pattern.hex() if isinstance(pattern, bytes) else pattern
        return ["regex", type(pattern).__name__, shown, value.flags]
    return None
