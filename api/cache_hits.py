"""Finding a cache hit the log vouches for, and preparing its ``VersionReused`` events.

The cache view only proposes candidates (step runs with the cache key, newest
first). A candidate is served only when:

1. its own stream records a succeeded execution under that cache key, with
   outputs whose recorded URI, materializer, data type and content hash are
   what the views say (else the views were edited or are damaged: a miss that
   says so);
2. no output version is deleted, by the log (the ``ArtifactName`` stream);
3. the stored bytes of every output still match the record (``content_check``).

Serving it appends ``VersionReused`` to each output's ``ArtifactName`` stream in
the same append as the ``CacheDecided`` (the names are held by the caller's
``Changes``): a concurrent tombstone takes the same stream version, so one of
the two appends fails and the repository decides again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from lineagelog.api.content_check import bytes_problem
from lineagelog.api.recorded import (
    VIEWS_DISAGREE,
    ProducedOutput,
    RecordedExecution,
    recorded_execution,
)
from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.errors import ArtifactUriError, LineageError
from lineagelog.domain.names import artifact_name_id

if TYPE_CHECKING:
    from lineagelog.adapters.repository import Changes
    from lineagelog.api.context import LineageContext
    from lineagelog.projections.records import CachedExecution

__all__ = ["find_hit"]


def find_hit(
    context: LineageContext,
    changes: Changes,
    cache_key: str,
    step_run_id: UUID,
    own: RecordedExecution | None,
) -> RecordedExecution | str | None:
    """The newest usable execution with ``cache_key``, or why there is none (None: no candidate).

    ``own`` is an execution this process appended itself (not yet in the views).
    On a hit, the output names' aggregates in ``changes`` carry pending
    ``VersionReused`` events, to be saved with the step run's decision.
    """
    candidates: list[RecordedExecution | CachedExecution] = [] if own is None else [own]
    candidates.extend(context.queries.cached_executions(cache_key))
    reasons: list[str] = []
    for candidate in candidates:
        execution = (
            candidate
            if isinstance(candidate, RecordedExecution)
            else _as_recorded(context, candidate, cache_key)
        )
        if isinstance(execution, str):
            reasons.append(execution)
            continue
        problem = _reuse(context, changes, execution, step_run_id)
        if problem is None:
            return execution
        reasons.append(problem)
    return reasons[0] if reasons else None


def _disagree(step_run_id: object, what: str) -> str:
    return f"the views disagree with the log about cached step run {step_run_id}: {what}; " + (
        VIEWS_DISAGREE
    )


def _as_recorded(
    context: LineageContext, candidate: CachedExecution, cache_key: str
) -> RecordedExecution | str:
    """The candidate as its stream records it, or how the views disagree with the log."""
    recorded = recorded_execution(context.events, candidate.step_run_id, cache_key)
    if isinstance(recorded, str):
        return _disagree(candidate.step_run_id, recorded)
    if set(recorded.outputs) != set(candidate.outputs):
        return _disagree(
            candidate.step_run_id,
            f"the views list outputs {sorted(candidate.outputs)}, "
            f"the log {sorted(recorded.outputs)}",
        )
    for output_name, view in sorted(candidate.outputs.items()):
        logged = recorded.outputs[output_name]
        if view.id != logged.artifact_version_id:
            return _disagree(
                candidate.step_run_id,
                f"output `{output_name}` is {view.id} in the views, "
                f"{logged.artifact_version_id} in the log",
            )
        differences = logged.differences(view)
        if differences:
            return _disagree(
                candidate.step_run_id,
                f"the views give output `{output_name}` ({logged.label}) " + ", ".join(differences),
            )
    return recorded


def _reuse(
    context: LineageContext, changes: Changes, execution: RecordedExecution, step_run_id: UUID
) -> str | None:
    """Check the execution's outputs are live and intact; then trigger their ``VersionReused``.

    Returns why the execution cannot be served, or None when it can.
    """
    names: dict[str, ArtifactName] = {}
    for output_name, output in sorted(execution.outputs.items()):
        # Brought up to the end of its stream (one read of newer events): a tombstone counts.
        aggregate = names.get(output.name) or changes.find(
            artifact_name_id(output.name), ArtifactName, fastforward=True
        )
        if aggregate is None or aggregate.versions.get(output.number) != UUID(
            output.artifact_version_id
        ):
            return (
                f"the log records output `{output_name}` of step run {execution.step_run_id} as "
                f"{output.label}, but the artifact name's stream does not; run `lineagelog audit`"
            )
        if output.number in aggregate.deleted:
            return f"cached output `{output_name}` ({output.label}) was deleted"
        names[output.name] = aggregate
    problems = {
        output_name: bytes_problem(context.artifacts, output)
        for output_name, output in sorted(execution.outputs.items())
    }
    for output_name, problem in problems.items():
        if problem is not None:
            if not any(_exists(context, o) for o in execution.outputs.values()):
                return "cached outputs were deleted from the artifact store"
            return (
                f"cached output `{output_name}` of step run {execution.step_run_id} no longer "
                f"matches its recorded bytes: {problem}"
            )
    try:
        for output in execution.outputs.values():
            names[output.name].reuse_version(
                output.number, UUID(output.artifact_version_id), step_run_id
            )
    except LineageError as e:  # checked above; only a damaged stream gets here
        for aggregate in names.values():
            changes.discard(aggregate)  # its applied VersionReused must not be saved
        return f"cannot reuse the outputs of step run {execution.step_run_id}: {e}"
    return None


def _exists(context: LineageContext, output: ProducedOutput) -> bool:
    try:
        return context.artifacts.exists(output.location(context.artifacts))
    except ArtifactUriError:
        return False
