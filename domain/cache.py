"""Cache keys and the reasons behind every cache decision.

The key is a sha256 over the canonical encoding of the step's ingredients: code
hash, parameters, input content hashes, output names with their materializers,
the artifact store and the cache format. A miss says why, found by comparing the
ingredients with the latest earlier execution of the same step invocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lineagelog.domain.canonical import digest, to_jsonable

__all__ = ["CACHE_FORMAT_VERSION", "CacheIngredients", "explain_miss"]

CACHE_FORMAT_VERSION = 1
_SHOWN = 60


@dataclass(frozen=True)
class CacheIngredients:
    """Everything that decides whether an earlier execution can be reused."""

    code_hash: str
    parameters: dict[str, Any]
    inputs: dict[str, str]  # input name -> content hash
    outputs: dict[str, str]  # output name -> materializer
    artifact_store: str
    format: int = CACHE_FORMAT_VERSION

    def as_dict(self) -> dict[str, Any]:
        """The ingredients as recorded in ``CacheDecided``."""
        return {
            "format": self.format,
            "code_hash": self.code_hash,
            "parameters": to_jsonable(self.parameters),
            "inputs": dict(self.inputs),
            "outputs": dict(self.outputs),
            "artifact_store": self.artifact_store,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CacheIngredients:
        """Read ingredients back from a ``CacheDecided`` event."""
        return cls(
            code_hash=data["code_hash"],
            parameters=dict(data["parameters"]),
            inputs=dict(data["inputs"]),
            outputs=dict(data["outputs"]),
            artifact_store=data["artifact_store"],
            format=data["format"],
        )

    @property
    def key(self) -> str:
        """The cache key: sha256 hex over the canonical encoding of the ingredients."""
        return digest(self.as_dict())


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _compare_named(kind: str, now: dict[str, Any], before: dict[str, Any]) -> list[str]:
    reasons = []
    for name in sorted(now.keys() | before.keys()):
        if name not in before:
            reasons.append(f"{kind} `{name}` added")
        elif name not in now:
            reasons.append(f"{kind} `{name}` removed")
        elif now[name] != before[name]:
            reasons.append(f"{kind} `{name}` changed")
    return reasons


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
    """
    if previous is None:
        return ["no earlier execution"]
    reasons: list[str] = []
    if current.get("format") != previous.get("format"):
        reasons.append(f"cache format changed {previous.get('format')} -> {current.get('format')}")
    if current["code_hash"] != previous["code_hash"]:
        reasons.append("code changed")
    now_params, old_params = current["parameters"], previous["parameters"]
    for name in sorted(now_params.keys() | old_params.keys()):
        if name not in old_params:
            reasons.append(f"parameter `{name}` added ({_show(now_params[name])})")
        elif name not in now_params:
            reasons.append(f"parameter `{name}` removed (was {_show(old_params[name])})")
        elif now_params[name] != old_params[name]:
            reasons.append(
                f"parameter `{name}` changed {_show(old_params[name])} -> {_show(now_params[name])}"
            )
    reasons += _compare_named("input", current["inputs"], previous["inputs"])
    reasons += _compare_named("output", current["outputs"], previous["outputs"])
    if current["artifact_store"] != previous["artifact_store"]:
        before, after = previous["artifact_store"], current["artifact_store"]
        reasons.append(f"artifact store changed {before!r} -> {after!r}")
    return reasons
