"""A lossless JSON encoding of built-in Python values.

Plain JSON where the value allows it, so files stay readable: ``None``,
``bool``, ``int``, finite ``float``, ``str``, ``list`` and ``dict`` with string
keys are written as themselves. Everything JSON cannot say exactly is wrapped in
an object tagged with ``"__lineagelog__"``:

- ``{"__lineagelog__": "tuple", "items": [...]}``, likewise ``"set"`` and
  ``"frozenset"`` (items sorted by their encoding, so equal sets write equal bytes)
- ``{"__lineagelog__": "dict", "items": [[key, value], ...]}`` for dicts with
  non-string keys, or with the key ``"__lineagelog__"`` itself
- ``{"__lineagelog__": "float", "value": "nan" | "inf" | "-inf"}``
- ``{"__lineagelog__": "bytes", "base64": "..."}``
- ``{"__lineagelog__": "int", "hex": "..."}`` for integers too long for ``json``

Any other type (an object, a subclass such as an ``Enum``) raises
``NoMaterializerError`` naming where in the value it sits.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

from lineagelog.domain.errors import MaterializerError, NoMaterializerError

__all__ = ["TAG", "decode", "dumps", "encode", "loads", "serialize", "to_display"]

TAG = "__lineagelog__"
_MAX_INT_DIGITS = 4000


def encode(value: Any, where: str = "value") -> Any:
    """Return the JSON-able form of ``value`` (see the module docstring).

    Raises:
        NoMaterializerError: naming the first element whose type JSON cannot hold.

    """
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        if abs(value) >= 10**_MAX_INT_DIGITS:
            return {TAG: "int", "hex": hex(value)}
        return value
    if kind is float:
        return value if math.isfinite(value) else {TAG: "float", "value": repr(value)}
    if kind is list:
        return [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if kind is dict:
        if all(type(key) is str for key in value) and TAG not in value:
            return {key: encode(item, f"{where}[{key!r}]") for key, item in value.items()}
        return {
            TAG: "dict",
            "items": [
                [encode(key, f"{where} key {key!r}"), encode(item, f"{where}[{key!r}]")]
                for key, item in value.items()
            ],
        }
    if kind is tuple:
        return {TAG: "tuple", "items": [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if kind is set or kind is frozenset:
        items = [encode(item, f"{where} item") for item in value]
        items.sort(key=lambda item: json.dumps(item, sort_keys=True))
        return {TAG: kind.__name__, "items": items}
    if kind is bytes:
        return {TAG: "bytes", "base64": base64.b64encode(value).decode("ascii")}
    raise NoMaterializerError(
        f"{where} is of type '{kind.__module__}:{kind.__qualname__}', which the built-in "
        "JSON materializer cannot store exactly (it holds None, bool, int, float, str, "
        "bytes and lists, tuples, sets and dicts of them). Write a materializer for the "
        "containing value (subclass BaseMaterializer with ASSOCIATED_TYPES), pass "
        "output_materializers=... to @step, or opt in to pickle"
    )


def decode(obj: Any) -> Any:
    """Return the value ``encode`` turned into ``obj``."""
    if isinstance(obj, list):
        return [decode(item) for item in obj]
    if not isinstance(obj, dict):
        return obj
    tag = obj.get(TAG)
    if tag is None:
        return {key: decode(item) for key, item in obj.items()}
    if tag == "tuple":
        return tuple(decode(item) for item in obj["items"])
    if tag == "set":
        return {decode(item) for item in obj["items"]}
    if tag == "frozenset":
        return frozenset(decode(item) for item in obj["items"])
    if tag == "dict":
        return {decode(key): decode(item) for key, item in obj["items"]}
    if tag == "float":
        return float(obj["value"])
    if tag == "bytes":
        return base64.b64decode(obj["base64"])
    if tag == "int":
        return int(obj["hex"], 16)
    raise MaterializerError(
        f"unknown tag {TAG}={tag!r} in stored JSON; the artifact was written by a newer "
        "lineagelog, upgrade to load it"
    )


def dumps(value: Any) -> bytes:
    """``encode`` then serialize to UTF-8 JSON bytes (deterministic for equal input)."""
    return serialize(encode(value))


def serialize(encoded: Any) -> bytes:
    """UTF-8 JSON bytes of an already ``encode``-d value (or a structure of them)."""
    try:
        return json.dumps(encoded, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: fall back to \\u escapes
        return json.dumps(encoded, ensure_ascii=True, allow_nan=False).encode("ascii")


def loads(data: bytes) -> Any:
    """Inverse of ``dumps``."""
    return decode(json.loads(data.decode("utf-8")))


def to_display(value: Any) -> Any:
    """Render plain JSON for people (tuples and sets as lists, keys as strings)."""
    if isinstance(value, dict):
        return {
            key if isinstance(key, str) else repr(key): to_display(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [to_display(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_display(item) for item in value), key=repr)
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, bytes):
        return repr(value)
    return value
