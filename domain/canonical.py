"""Canonical encoding: one byte string for one value, whatever the dict order.

Cache keys and the event hash chain are sha256 digests over this encoding, so it
must never change silently: bump ``CANONICAL_FORMAT`` when it does.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

__all__ = ["CANONICAL_FORMAT", "canonical_bytes", "digest", "to_jsonable"]

CANONICAL_FORMAT = 1


def to_jsonable(value: Any) -> Any:
    """Turn a value made of builtins, UUIDs, datetimes and enums into plain JSON types.

    Raises:
        TypeError: for anything else (the caller names the offending parameter).

    Examples:
        >>> to_jsonable({"b": (1, 2), "a": UUID(int=1)})
        {'b': [1, 2], 'a': '00000000-0000-0000-0000-000000000001'}
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return repr(value)
        return value
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"dict key {key!r} is not a string")
            out[key] = to_jsonable(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(item) for item in value), key=repr)
    raise TypeError(f"{type(value).__name__} value {value!r} is not JSON-serializable")


def canonical_bytes(value: Any) -> bytes:
    """Encode ``value`` as compact JSON with sorted keys.

    Examples:
        >>> canonical_bytes({"b": 1, "a": [1.5, None]})
        b'{"a":[1.5,null],"b":1}'
    """
    return json.dumps(
        to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def digest(value: Any) -> str:
    """Return the hex sha256 of the canonical encoding of ``value``.

    Examples:
        >>> digest({"a": 1}) == digest({"a": 1})
        True
    """
    return hashlib.sha256(canonical_bytes(value)).hexdigest()
