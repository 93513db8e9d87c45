"""Comparing two runs: steps aligned by invocation id, every ingredient that differs.

The same comparison that explains a cache miss (``cache.compare_ingredients``)
lines up two executions of a step; this module adds what a person debugging a
regression asks next: which input versions the steps read, whether each
output's content is the same, how the code changed (a unified diff of the
recorded source) and how long each took. Pure functions over plain facts.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from lineagelog.domain.cache import IngredientDifference, compare_ingredients

__all__ = [
    "CodeChange",
    "OutputComparison",
    "RunComparison",
    "RunFacts",
    "StepComparison",
    "StepFacts",
    "VersionFacts",
    "compare_code",
    "compare_runs",
    "compare_steps",
    "ingredients_of",
]

NO_SOURCE = (
    "no source was recorded for this code (the run is older than source recording, "
    "or Python could not read the step's source)"
)
SAME_SOURCE = (
    "the step's own source is the same: something it computes with changed "
    "(a helper function, a global value or a closure it uses)"
)

_SUCCEEDED = {"completed": "succeeded", "cached": "succeeded"}
StepChange = Literal["added", "removed", "changed", "same"]


@dataclass(frozen=True)
class VersionFacts:
    """What the log recorded about one artifact version (deleted ones too) that lineage compares.

    A version's materializer metadata is not here: it is compared only for the
    two versions asked about, from their catalog records.
    """

    id: str
    name: str
    version: str
    content_hash: str
    materializer: str
    data_type: str
    size: int
    producer_step_run_id: str | None
    deleted: bool = False

    @property
    def label(self) -> str:
        """``name:version``."""
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class StepFacts:
    """What the log recorded about one step execution.

    ``inputs`` and ``outputs`` map names to artifact version ids; ``ingredients``
    is the cache decision's record (None when the step ended before one).
    """

    id: str
    run_id: str
    invocation_id: str
    step_name: str
    status: str
    cache_outcome: str | None
    code_hash: str
    parameters: dict[str, Any]
    inputs: dict[str, str]
    outputs: dict[str, str]
    ingredients: dict[str, Any] | None
    duration_s: float | None
    original_step_run_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunFacts:
    """What the log recorded about one pipeline run."""

    id: str
    name: str
    pipeline: str
    status: str
    parameters: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end (None while running)."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class CodeChange:
    """A step's code hash in two executions, and the recorded source of each.

    ``source_a`` / ``source_b`` are None when no source is recorded for that hash.
    """

    step_name: str
    hash_a: str
    hash_b: str
    source_a: str | None
    source_b: str | None

    @property
    def diff(self) -> str | None:
        """A unified diff of the two sources; None when either is not recorded."""
        if self.source_a is None or self.source_b is None:
            return None
        lines = difflib.unified_diff(
            self.source_a.splitlines(keepends=True),
            self.source_b.splitlines(keepends=True),
            fromfile=f"{self.step_name} (code {self.hash_a[:12]})",
            tofile=f"{self.step_name} (code {self.hash_b[:12]})",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    @property
    def note(self) -> str | None:
        """What to know beyond the diff: no source recorded, or the same source."""
        if self.source_a is None or self.source_b is None:
            return NO_SOURCE
        if self.source_a == self.source_b:
            return SAME_SOURCE
        return None


@dataclass(frozen=True)
class OutputComparison:
    """One output (or input) of a step in both executions, by content."""

    name: str
    a: VersionFacts | None
    b: VersionFacts | None

    @property
    def same(self) -> bool:
        """Whether both executions have it, with the same content."""
        return (
            self.a is not None and self.b is not None and self.a.content_hash == self.b.content_hash
        )


@dataclass(frozen=True)
class StepComparison:
    """One step invocation in two runs: cache outcomes, differing ingredients, outputs, times."""

    invocation_id: str
    a: StepFacts | None
    b: StepFacts | None
    differences: tuple[IngredientDifference, ...] = ()
    inputs: tuple[OutputComparison, ...] = ()
    outputs: tuple[OutputComparison, ...] = ()
    code: CodeChange | None = None

    @property
    def change(self) -> StepChange:
        """``added`` (only in b), ``removed`` (only in a), ``changed`` or ``same``."""
        if self.a is None:
            return "added"
        if self.b is None:
            return "removed"
        if self.differences or not all(o.same for o in self.outputs):
            return "changed"
        # Served from the cache is as good as executed; a failure is a change.
        if _SUCCEEDED.get(self.a.status, self.a.status) != _SUCCEEDED.get(
            self.b.status, self.b.status
        ):
            return "changed"
        return "same"


@dataclass(frozen=True)
class RunComparison:
    """Two runs side by side: run parameters, and every step aligned by invocation id."""

    a: RunFacts
    b: RunFacts
    parameters: tuple[IngredientDifference, ...]
    steps: tuple[StepComparison, ...] = field(default_factory=tuple)

    @property
    def same(self) -> bool:
        """Whether nothing differs: no parameter, and every step the same."""
        return not self.parameters and all(s.change == "same" for s in self.steps)


def ingredients_of(step: StepFacts, versions: Mapping[str, VersionFacts]) -> dict[str, Any]:
    """The step's recorded ingredients (for one that ended before its cache decision, less).

    A step that never decided has what its start recorded: code, parameters and
    the content hashes of its inputs.
    """
    if step.ingredients is not None:
        return step.ingredients
    return {
        "code_hash": step.code_hash,
        "parameters": step.parameters,
        "inputs": {
            name: versions[vid].content_hash if vid in versions else vid
            for name, vid in step.inputs.items()
        },
    }


def _comparable(a: dict[str, Any], b: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Leave out ingredient groups one side did not record (a step that never decided)."""
    keys = a.keys() & b.keys()
    return {k: a[k] for k in keys}, {k: b[k] for k in keys}


def compare_code(
    step_name: str, hash_a: str, hash_b: str, sources: Mapping[str, str | None]
) -> CodeChange | None:
    """The code change between two code hashes (None when they are equal)."""
    if hash_a == hash_b:
        return None
    return CodeChange(step_name, hash_a, hash_b, sources.get(hash_a), sources.get(hash_b))


def _by_name(
    names_a: Mapping[str, str], names_b: Mapping[str, str], versions: Mapping[str, VersionFacts]
) -> tuple[OutputComparison, ...]:
    return tuple(
        OutputComparison(
            name,
            versions.get(names_a[name]) if name in names_a else None,
            versions.get(names_b[name]) if name in names_b else None,
        )
        for name in sorted(names_a.keys() | names_b.keys())
    )


def compare_steps(
    a: StepFacts,
    b: StepFacts,
    versions: Mapping[str, VersionFacts],
    sources: Mapping[str, str | None],
) -> StepComparison:
    """Line up two executions of one step invocation (``a`` the older, ``b`` the newer).

    ``differences`` holds the ingredients that differ (``this`` is b's value,
    ``compared`` a's), in ``compare_ingredients`` order.

    Examples:
        >>> def facts(lr):
        ...     return StepFacts("s", "r", "train", "train", "completed", "miss", "c1",
        ...                      {"lr": lr}, {}, {}, None, 1.0)
        >>> [d.reason() for d in compare_steps(facts(0.1), facts(0.2), {}, {}).differences]
        ['parameter `lr` changed 0.1 -> 0.2']
    """
    mine, theirs = _comparable(ingredients_of(b, versions), ingredients_of(a, versions))
    differences = tuple(d for d in compare_ingredients(mine, theirs) if not d.same)
    return StepComparison(
        invocation_id=b.invocation_id,
        a=a,
        b=b,
        differences=differences,
        inputs=_by_name(a.inputs, b.inputs, versions),
        outputs=_by_name(a.outputs, b.outputs, versions),
        code=compare_code(b.step_name, a.code_hash, b.code_hash, sources),
    )


def compare_runs(
    a: RunFacts,
    b: RunFacts,
    steps_a: Sequence[StepFacts],
    steps_b: Sequence[StepFacts],
    versions: Mapping[str, VersionFacts],
    sources: Mapping[str, str | None],
) -> RunComparison:
    """Compare run ``a`` (the baseline) with run ``b``, step by step.

    Steps are aligned by invocation id, in b's order, then the steps only a had.
    ``versions`` holds every artifact version either run read or wrote, by id;
    ``sources`` the recorded source of each code hash (absent: not recorded).

    Examples:
        >>> from datetime import datetime, UTC
        >>> now = datetime(2026, 1, 1, tzinfo=UTC)
        >>> run = RunFacts("r1", "one", "p", "completed", {"n": 1}, now, now)
        >>> compare_runs(run, run, [], [], {}, {}).same
        True
    """
    run_params = tuple(
        d
        for d in compare_ingredients({"parameters": b.parameters}, {"parameters": a.parameters})
        if d.kind == "parameter" and not d.same
    )
    older = {s.invocation_id: s for s in steps_a}
    newer = {s.invocation_id: s for s in steps_b}
    compared: list[StepComparison] = []
    for step in steps_b:
        before = older.get(step.invocation_id)
        if before is None:
            compared.append(
                StepComparison(
                    step.invocation_id, None, step, outputs=_by_name({}, step.outputs, versions)
                )
            )
        else:
            compared.append(compare_steps(before, step, versions, sources))
    compared += [
        StepComparison(s.invocation_id, s, None, outputs=_by_name(s.outputs, {}, versions))
        for s in steps_a
        if s.invocation_id not in newer
    ]
    return RunComparison(a, b, run_params, tuple(compared))
