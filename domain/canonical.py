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

__all__ = [
    "CANONICAL_FORMAT",
    "MAX_INT_DIGITS",
    "canonical_bytes",
    "digest",
    "readable_text",
    "to_jsonable",
    "typed_jsonable",
]

CANONICAL_FORMAT = 1

MAX_INT_DIGITS = 4000
"""The longest integer recorded (Python refuses to print ints past 4300 digits by default)."""

_INT_BOUND = 10**MAX_INT_DIGITS

_PLAIN = frozenset((str, int, bool))  # types JSON holds as they are (exactly these, no subclass)

_TAGS = frozenset(
    ("__float__", "__tuple__", "__set__", "__frozenset__", "__datetime__", "__uuid__", "__enum__")
) | {"__dict__"}


def readable_text(text: str) -> str:
    r"""``text`` with lone surrogates (which UTF-8 cannot encode) written as ``\udc80`` escapes.

    An exception message or traceback may hold them (bytes decoded with
    ``surrogateescape``); the log only stores valid Unicode.

    Examples:
        >>> print(readable_text("bad \udc80 byte"))
        bad \udc80 byte
        >>> readable_text("fine")
        'fine'
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _checked_str(value: str) -> str:
    if value.isascii():  # the common case, answered without encoding
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise TypeError(
            f"str value {value!r} holds the lone surrogate {value[e.start]!r}, which is not "
            "valid Unicode and cannot be recorded"
        ) from None
    return value


def _checked_int(value: int) -> int:
    if -_INT_BOUND < value < _INT_BOUND:
        return value
    raise TypeError(
        f"int value with {len(str(abs(value) // 10**MAX_INT_DIGITS)) + MAX_INT_DIGITS} digits is "
        f"too large to record (at most {MAX_INT_DIGITS}); pass it as a string"
    )


def to_jsonable(value: Any) -> Any:
    """Turn a value made of builtins, UUIDs, datetimes and enums into plain JSON types.

    Raises:
        TypeError: for anything else (the caller names the offending parameter).

    Examples:
        >>> to_jsonable({"b": (1, 2), "a": UUID(int=1)})
        {'b': [1, 2], 'a': '00000000-0000-0000-0000-000000000001'}
    """
    kind = type(value)
    if kind is str:  # exact types first: event hashing passes through here for every field
        return value if value.isascii() else _checked_str(value)
    if kind is int:
        return value if -_INT_BOUND < value < _INT_BOUND else _checked_int(value)
    if kind is dict:
        return {key: to_jsonable(item) for key, item in _checked_items(value)}
    if value is None or kind is bool:
        return value
    if isinstance(value, str):
        return _checked_str(value)
    if isinstance(value, int) and not isinstance(value, Enum):
        return _checked_int(value)
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
        return {key: to_jsonable(item) for key, item in _checked_items(value)}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_jsonable(item) for item in value), key=repr)
    raise TypeError(f"{type(value).__name__} value {value!r} is not JSON-serializable")


def typed_jsonable(value: Any) -> Any:
    """Like ``to_jsonable``, but keeping apart the values it makes equal.

    ``to_jsonable`` records ``float('nan')`` as ``"nan"``, a tuple or a set as a
    list, a datetime or UUID as a string and an enum member as its value. Here
    each of those is tagged with its type (``{"__tuple__": [...]}``), so that
    two values encode alike only when they are alike; values JSON holds as they
    are stay as they are. A dict that looks like a tag is tagged ``__dict__``.

    Raises:
        TypeError: for anything ``to_jsonable`` refuses.

    Examples:
        >>> typed_jsonable({"a": (1, 2), "b": [1, 2], "c": float("nan"), "d": "nan"})
        {'a': {'__tuple__': [1, 2]}, 'b': [1, 2], 'c': {'__float__': 'nan'}, 'd': 'nan'}
    """
    if value is None or type(value) in _PLAIN:
        return to_jsonable(value)
    if isinstance(value, Enum):
        kind = type(value)
        return {"__enum__": [f"{kind.__module__}:{kind.__qualname__}", typed_jsonable(value.value)]}
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, UUID):
        return {"__uuid__": str(value)}
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dict):
        out = {key: typed_jsonable(item) for key, item in _checked_items(value)}
        return {"__dict__": out} if len(out) == 1 and next(iter(out)) in _TAGS else out
    if isinstance(value, list):
        return [typed_jsonable(item) for item in value]
    if isinstance(value, tuple):
        return {"__tuple__": [typed_jsonable(item) for item in value]}
    if isinstance(value, (set, frozenset)):
        items = sorted((typed_jsonable(item) for item in value), key=canonical_bytes)
        return {"__frozenset__" if isinstance(value, frozenset) else "__set__": items}
    return to_jsonable(value)


def _checked_items(value: dict[Any, Any]) -> Any:
    for key in value:
        if type(key) is not str or not key.isascii():
            if not isinstance(key, str):
                raise TypeError(f"dict key {key!r} is not a string")
            _checked_str(key)
    return value.items()


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
