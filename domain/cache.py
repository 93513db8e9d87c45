"""Cache keys and the reasons behind every cache decision.

The key is a sha256 over the canonical encoding of the step's ingredients: code
hash, parameters, input content hashes, output names with their materializers,
the artifact store and the cache format. A miss says why, found by comparing the
ingredients with the latest earlier execution of the same step invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lineagelog.domain.canonical import digest, typed_jsonable

__all__ = [
    "CACHE_FORMAT_VERSION",
    "CacheIngredients",
    "IngredientDifference",
    "compare_ingredients",
    "explain_miss",
    "shown_value",
]

CACHE_FORMAT_VERSION = 2
"""2: parameters are encoded with their types (``typed_jsonable``): ``float('nan')`` is not
``"nan"``, nor a tuple a list."""
_SHOWN = 60


@dataclass(frozen=True)
class CacheIngredients:
    """Everything that decides whether an earlier execution can be reused."""

    code_hash: str
    parameters: dict[str, Any]  # the values as passed to the step
    inputs: dict[str, str]  # input name -> content hash
    outputs: dict[str, str]  # output name -> materializer
    artifact_store: str
    format: int = CACHE_FORMAT_VERSION

    def as_dict(self) -> dict[str, Any]:
        """The ingredients as recorded in ``CacheDecided``."""
        return {
            "format": self.format,
            "code_hash": self.code_hash,
            "parameters": typed_jsonable(self.parameters),
            "inputs": dict(self.inputs),
            "outputs": dict(self.outputs),
            "artifact_store": self.artifact_store,
        }

    @property
    def key(self) -> str:
        """The cache key: sha256 hex over the canonical encoding of the ingredients."""
        return digest(self.as_dict())


class _Shown:
    """A value shown by a text of our choosing (an enum member by its qualified name)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _readable(value: Any) -> Any:
    """A parameter as ``typed_jsonable`` encoded it, back in a form whose repr reads as Python."""
    if isinstance(value, list):
        return [_readable(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {key: _readable(item) for key, item in value.items()}
    ((tag, inner),) = value.items()
    if tag == "__float__":
        return float(inner)
    if tag == "__tuple__":
        return tuple(_readable(item) for item in inner)
    if tag in ("__set__", "__frozenset__"):
        items = ", ".join(repr(_readable(item)) for item in inner)
        kind = tag[2:-2]
        if not inner:
            return _Shown(f"{kind}()")
        return _Shown(f"{{{items}}}" if kind == "set" else f"{kind}({{{items}}})")
    if tag == "__datetime__":
        return _Shown(f"datetime({inner!r})")
    if tag == "__uuid__":
        return _Shown(f"UUID({inner!r})")
    if tag == "__enum__":
        return _Shown(f"{inner[0].rsplit(':', 1)[-1]}({_readable(inner[1])!r})")
    if tag == "__dict__":
        return {key: _readable(item) for key, item in inner.items()}
    return {tag: _readable(inner)}


def shown_value(value: Any) -> str:
    """An ingredient as a person reads it: a parameter's typed encoding back as Python text.

    Examples:
        >>> shown_value({"__tuple__": [1, {"__float__": "nan"}]})
        '(1, nan)'
        >>> [shown_value(typed_jsonable(v)) for v in ({2, 1}, frozenset({3}), set())]
        ['{1, 2}', 'frozenset({3})', 'set()']
    """
    return repr(_readable(value))


def _show(value: Any) -> str:
    text = shown_value(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


@dataclass(frozen=True)
class IngredientDifference:
    """One ingredient of two executions side by side.

    ``kind`` is ``code``, ``parameter``, ``input``, ``output``, ``artifact store``
    or ``cache format``; ``name`` names the parameter, input or output (None for
    the others); ``this`` and ``compared`` are the two values (None where absent,
    and then ``in_this`` or ``in_compared`` is False).
    """

    kind: str
    name: str | None
    this: Any
    compared: Any
    in_this: bool = True
    in_compared: bool = True

    @property
    def label(self) -> str:
        """How the ingredient is named to a person: ``code hash``, ``parameter lr``."""
        if self.kind == "code":
            return "code hash"
        return self.kind if self.name is None else f"{self.kind} {self.name}"

    @property
    def same(self) -> bool:
        """Whether both executions had this ingredient, with equal values."""
        return self.in_this == self.in_compared and bool(self.this == self.compared)

    def reason(self) -> str | None:
        """Why this ingredient makes a miss, in the words a cache decision records."""
        if self.same:
            return None
        if self.kind == "code":
            return "code changed"
        if self.kind == "cache format":
            return f"cache format changed {self.compared} -> {self.this}"
        if self.kind == "artifact store":
            return f"artifact store changed {self.compared!r} -> {self.this!r}"
        shown = self.kind == "parameter"
        if not self.in_compared:
            return f"{self.kind} `{self.name}` added" + (f" ({_show(self.this)})" if shown else "")
        if not self.in_this:
            return f"{self.kind} `{self.name}` removed" + (
                f" (was {_show(self.compared)})" if shown else ""
            )
        if shown:
            return f"parameter `{self.name}` changed {_show(self.compared)} -> {_show(self.this)}"
        return f"{self.kind} `{self.name}` changed"


_NAMED = (("parameters", "parameter"), ("inputs", "input"), ("outputs", "output"))


def compare_ingredients(
    current: dict[str, Any], previous: dict[str, Any]
) -> list[IngredientDifference]:
    """Line two ingredient sets up, one entry per ingredient, in a fixed order.

    The order is code hash, parameters, inputs and outputs (each by name),
    artifact store, cache format. Both ``cache explain`` and ``explain_miss``
    read this one comparison.

    Examples:
        >>> a = CacheIngredients("c1", {"lr": 0.1}, {}, {"output": "M"}, "s").as_dict()
        >>> b = CacheIngredients("c1", {"lr": 0.2}, {}, {"output": "M"}, "s").as_dict()
        >>> [(d.label, d.same) for d in compare_ingredients(b, a)][:2]
        [('code hash', True), ('parameter lr', False)]
    """
    rows = [IngredientDifference("code", None, current.get("code_hash"), previous.get("code_hash"))]
    for group, kind in _NAMED:
        mine, theirs = current.get(group) or {}, previous.get(group) or {}
        rows += [
            IngredientDifference(
                kind, name, mine.get(name), theirs.get(name), name in mine, name in theirs
            )
            for name in sorted(mine.keys() | theirs.keys())
        ]
    rows.append(
        IngredientDifference(
            "artifact store", None, current.get("artifact_store"), previous.get("artifact_store")
        )
    )
    rows.append(
        IngredientDifference("cache format", None, current.get("format"), previous.get("format"))
    )
    return rows


def explain_miss(current: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    """Say, ingredient by ingredient, why ``current`` differs from ``previous``.

    Parameters:
        current: the ingredients of this execution (``CacheIngredients.as_dict()``).
        previous: those of the latest earlier execution of the same step, or None.

    Returns:
        Human reasons, most decisive first; empty when the ingredients are equal.

    Examples:
        >>> base = CacheIngredients("c1", {"lr": 0.1}, {"data": "h1"}, {"output": "M"}, "s")
        >>> explain_miss(base.as_dict(), None)
        ['no earlier execution']
        >>> changed = CacheIngredients("c2", {"lr": 0.2}, {"data": "h1"}, {"output": "M"}, "s")
        >>> explain_miss(changed.as_dict(), base.as_dict())
        ['code changed', 'parameter `lr` changed 0.1 -> 0.2']
        >>> as_tuple = CacheIngredients("c2", {"lr": (1, float("nan"))}, {}, {}, "s")
        >>> as_list = CacheIngredients("c2", {"lr": [1, "nan"]}, {}, {}, "s")
        >>> explain_miss(as_tuple.as_dict(), as_list.as_dict())
        ["parameter `lr` changed [1, 'nan'] -> (1, nan)"]
    """
    if previous is None:
        return ["no earlier execution"]
    rows = compare_ingredients(current, previous)
    # The format first: when it changed, every other difference may follow from it.
    ordered = [rows[-1], *rows[:-1]]
    return [reason for row in ordered if (reason := row.reason()) is not None]
