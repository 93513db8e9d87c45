"""Why two artifact versions differ: their upstream histories aligned, and the root causes.

Both versions' lineage is walked upstream together: a version's producing step
in one history is aligned with the producing step in the other, and each input
of those steps with the input of the same name. At every aligned step the
ingredients are compared (``cache.compare_ingredients``, the comparison that
explains a cache miss); a difference other than an input (a parameter, the
code, an output's materializer, the artifact store) is a root cause there. An
input whose content differs is followed further up; it is a consequence of
whatever is found there, never a cause of its own. The upstream-most places
the histories diverge are the root causes, each with the path from it down to
the two versions and the changed versions it led to.

Examples:
    >>> v = lambda i, ver, h, p=None: VersionFacts(i, "raw", ver, h, "M", "list", 1, p)
    >>> old, new = v("a", "4", "h4"), v("b", "5", "h5")
    >>> [c.description for c in trace_root_causes(old, new, {}, {}, {}).root_causes]
    ['raw was version 4, now 5, registered outside any pipeline']
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from lineagelog.domain.cache import IngredientDifference, compare_ingredients
from lineagelog.domain.comparison import (
    CodeChange,
    StepFacts,
    VersionFacts,
    compare_code,
    ingredients_of,
)
from lineagelog.domain.value_diff import ValueDifference

__all__ = [
    "AlignedEdge",
    "AlignedNode",
    "ArtifactComparison",
    "RootCause",
    "trace_root_causes",
]

_SHOWN = 60
NodeKind = Literal["artifact", "step"]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


@dataclass(frozen=True)
class AlignedNode:
    """An artifact version or step run of one history with its counterpart in the other."""

    key: str
    kind: NodeKind
    a_id: str | None
    b_id: str | None
    a_label: str | None
    b_label: str | None
    differs: bool

    @property
    def label(self) -> str:
        """``raw:4 -> raw:5``, ``train`` when both sides are named alike, or the one side."""
        if self.a_label == self.b_label or self.b_label is None:
            return self.a_label or ""
        if self.a_label is None:
            return self.b_label
        if self.kind == "artifact":
            return f"{self.a_label} -> {self.b_label}"
        return f"{self.a_label} / {self.b_label}"


@dataclass(frozen=True)
class AlignedEdge:
    """An input consumed by an aligned step (``consumed``) or an output it produced."""

    src: str
    dst: str
    kind: Literal["consumed", "produced"]


@dataclass
class RootCause:
    """One upstream-most place where the two histories diverge.

    ``kind`` is ``parameter``, ``code``, ``materializer``, ``artifact store``,
    ``cache format``, ``input added``, ``input removed``, ``input version``
    (a version registered outside any pipeline, or of unknown origin),
    ``producer`` (made by different steps) or ``not reproducible`` (the same
    ingredients gave different content). ``step`` is the step invocation it
    happened in (None for an input version). ``old`` and ``new`` are the two
    values; ``path`` the keys of the aligned nodes from the cause down to the
    two versions; ``consequences`` the changed versions it led to, as labels.
    """

    kind: str
    step: str | None
    description: str
    old: Any = None
    new: Any = None
    code: CodeChange | None = None
    path: list[str] = field(default_factory=list)
    consequences: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ArtifactComparison:
    """Two artifact versions, their aligned upstream histories and the root causes.

    ``value`` says how the two values differ (None when they are the same, or
    when the comparison was asked without it).
    """

    a: VersionFacts
    b: VersionFacts
    root_causes: tuple[RootCause, ...]
    nodes: dict[str, AlignedNode]
    edges: tuple[AlignedEdge, ...]
    value: ValueDifference | None = None

    @property
    def same_content(self) -> bool:
        """Whether the two versions hold the same bytes (by content hash)."""
        return self.a.content_hash == self.b.content_hash

    def path_labels(self, cause: RootCause) -> list[str]:
        """The cause's path as labels: ``["clean", "data:1 -> data:2", "train", ...]``."""
        return [self.nodes[key].label for key in cause.path]


_Visit = Generator["_Visit", tuple[str, list[int]], tuple[str, list[int]]]
"""A visit of an aligned node: yields the visits it needs, returns (its key, causes below it)."""


class _Tracer:
    def __init__(
        self,
        steps: Mapping[str, StepFacts],
        versions: Mapping[str, VersionFacts],
        sources: Mapping[str, str | None],
    ) -> None:
        self.steps, self.versions, self.sources = steps, versions, sources
        self.nodes: dict[str, AlignedNode] = {}
        self.edges: dict[tuple[str, str, str], AlignedEdge] = {}
        self.causes: list[RootCause] = []
        self.memo: dict[str, list[int]] = {}

    def _cause(self, at: str, cause: RootCause) -> int:
        cause.path.append(at)
        self.causes.append(cause)
        return len(self.causes) - 1

    def _passed_on(self, found: list[int], via: str, to: str) -> None:
        """Extend the path of each cause that reached ``via`` first, down to ``to``."""
        for index in found:
            if self.causes[index].path[-1] == via:
                self.causes[index].path.append(to)

    def run(self, a: VersionFacts, b: VersionFacts) -> None:
        """Trace from the two versions, with a stack of its own (lineage can be deep)."""
        stack: list[_Visit] = [self.version(a, b)]
        result: tuple[str, list[int]] | None = None
        while stack:
            try:
                # A visit just begun is started; one that asked for another gets its answer.
                request = next(stack[-1]) if result is None else stack[-1].send(result)
            except StopIteration as done:
                stack.pop()
                result = done.value
                continue
            stack.append(request)
            result = None

    def version(self, a: VersionFacts, b: VersionFacts) -> _Visit:
        key = f"artifact:{a.id}|{b.id}"
        if key in self.memo:
            return key, self.memo[key]
        self.memo[key] = []  # the log holds no cycles; this only guards a corrupted view
        self.nodes[key] = AlignedNode(
            key, "artifact", a.id, b.id, a.label, b.label, a.content_hash != b.content_hash
        )
        found: list[int] = []
        if a.id != b.id:
            step_a = self.steps.get(a.producer_step_run_id or "")
            step_b = self.steps.get(b.producer_step_run_id or "")
            if step_a is None or step_b is None:
                if a.content_hash != b.content_hash:
                    found.append(self._cause(key, self._unproduced(a, b, step_a, step_b)))
            else:
                step_key, found = yield self.step(step_a, step_b)
                self.edges[(step_key, key, "produced")] = AlignedEdge(step_key, key, "produced")
                self._passed_on(found, step_key, key)
                if not found and a.content_hash != b.content_hash:
                    found = [self._cause(step_key, self._not_reproducible(step_b, b))]
                    self._passed_on(found, step_key, key)
        for index in found:
            if a.content_hash != b.content_hash and key not in self.causes[index].path[:1]:
                self.causes[index].consequences.append(self.nodes[key].label)
        self.memo[key] = found
        return key, found

    def step(self, a: StepFacts, b: StepFacts) -> _Visit:
        key = f"step:{a.id}|{b.id}"
        if key in self.memo:
            return key, self.memo[key]
        if a.step_name != b.step_name:
            # Different steps: their inputs are not counterparts, so nothing above is aligned.
            # (One step under two invocation ids is comparable: a cache hit reuses a version
            # whatever invocation first produced it.)
            self.nodes[key] = AlignedNode(
                key, "step", a.id, b.id, a.invocation_id, b.invocation_id, True
            )
            text = (
                f"made by step `{a.invocation_id}` in one history and `{b.invocation_id}` "
                "in the other"
            )
            cause = RootCause("producer", b.invocation_id, text, a.invocation_id, b.invocation_id)
            self.memo[key] = [self._cause(key, cause)]
            return key, self.memo[key]
        self.memo[key] = []
        found: list[int] = []
        for name in sorted(a.inputs.keys() & b.inputs.keys()):
            input_a = self.versions.get(a.inputs[name])
            input_b = self.versions.get(b.inputs[name])
            if input_a is None or input_b is None:
                continue
            input_key, upstream = yield self.version(input_a, input_b)
            self.edges[(input_key, key, "consumed")] = AlignedEdge(input_key, key, "consumed")
            if input_a.content_hash != input_b.content_hash:
                self._passed_on(upstream, input_key, key)
                seen = set(found)
                found += [i for i in upstream if i not in seen]
        differences = self._differences(a, b)
        self.nodes[key] = AlignedNode(
            key,
            "step",
            a.id,
            b.id,
            a.invocation_id,
            b.invocation_id,
            bool(differences) or bool(found),
        )
        for difference in differences:
            if difference.kind != "input" or not (difference.in_this and difference.in_compared):
                found.append(self._cause(key, self._local(b, difference)))
        self.memo[key] = found
        return key, found

    def _differences(self, a: StepFacts, b: StepFacts) -> list[IngredientDifference]:
        mine, theirs = ingredients_of(b, self.versions), ingredients_of(a, self.versions)
        keys = mine.keys() & theirs.keys()
        rows = compare_ingredients({k: mine[k] for k in keys}, {k: theirs[k] for k in keys})
        return [row for row in rows if not row.same]

    def _local(self, step: StepFacts, d: IngredientDifference) -> RootCause:
        name, old, new = d.name, d.compared, d.this
        where = f"step `{step.invocation_id}`"
        if d.kind == "code":
            code = compare_code(step.step_name, str(old), str(new), self.sources)
            return RootCause(
                "code", step.invocation_id, f"the code of {where} changed", old, new, code
            )
        if d.kind == "parameter":
            if not d.in_compared:
                text = f"parameter `{name}` of {where} was added ({_show(new)})"
            elif not d.in_this:
                text = f"parameter `{name}` of {where} was removed (was {_show(old)})"
            else:
                text = f"parameter `{name}` of {where} changed {_show(old)} -> {_show(new)}"
            return RootCause("parameter", step.invocation_id, text, old, new)
        if d.kind == "input":
            added = not d.in_compared
            return RootCause(
                "input added" if added else "input removed",
                step.invocation_id,
                f"{where} {'has a new' if added else 'no longer has its'} input `{name}`",
                old,
                new,
            )
        if d.kind == "output":
            if d.in_this and d.in_compared:
                text = f"the materializer of output `{name}` of {where} changed {old} -> {new}"
            else:
                text = f"output `{name}` of {where} was {'added' if d.in_this else 'removed'}"
            return RootCause("materializer", step.invocation_id, text, old, new)
        if d.kind == "artifact store":
            text = f"{where} wrote to another artifact store: {old!r} -> {new!r}"
            return RootCause("artifact store", step.invocation_id, text, old, new)
        text = f"the cache format of {where} changed {old} -> {new}"
        return RootCause("cache format", step.invocation_id, text, old, new)

    def _unproduced(
        self,
        a: VersionFacts,
        b: VersionFacts,
        step_a: StepFacts | None,
        step_b: StepFacts | None,
    ) -> RootCause:
        def origin(version: VersionFacts, step: StepFacts | None) -> str:
            if step is not None:
                return f"produced by step `{step.invocation_id}`"
            if version.producer_step_run_id is None:
                return "registered outside any pipeline"
            return (
                f"produced by step run {version.producer_step_run_id}, which the log does not show"
            )

        origin_a, origin_b = origin(a, step_a), origin(b, step_b)
        if a.name == b.name:
            text = f"{a.name} was version {a.version}, now {b.version}"
        else:
            text = f"{a.label} was replaced by {b.label}"
        if origin_a == origin_b:
            text += f", {origin_b}"
        else:
            text += f" ({a.label} {origin_a}; {b.label} {origin_b})"
        return RootCause("input version", None, text, a.label, b.label)

    def _not_reproducible(self, step: StepFacts, version: VersionFacts) -> RootCause:
        return RootCause(
            "not reproducible",
            step.invocation_id,
            f"step `{step.invocation_id}` wrote different content to `{version.name}` from the "
            "same ingredients: it is not deterministic, or reads something its ingredients do "
            "not cover (the time, an unseeded random generator, a file or service it reads "
            "directly)",
        )


def trace_root_causes(
    a: VersionFacts,
    b: VersionFacts,
    steps: Mapping[str, StepFacts],
    versions: Mapping[str, VersionFacts],
    sources: Mapping[str, str | None],
) -> ArtifactComparison:
    """Align the upstream histories of versions ``a`` (the baseline) and ``b``; find root causes.

    Parameters:
        a, b: the two versions.
        steps: every step run upstream of either, by id.
        versions: every artifact version upstream of either, by id.
        sources: the recorded source of each code hash (absent: not recorded).

    Returns:
        The comparison: root causes in the order found (upstream first), and the
        aligned nodes and edges for drawing.
    """
    tracer = _Tracer(steps, versions, sources)
    tracer.run(a, b)
    edges = tuple(tracer.edges[k] for k in sorted(tracer.edges))
    return ArtifactComparison(a, b, tuple(tracer.causes), tracer.nodes, edges)
