"""The JSON shapes of runs, step runs, artifact versions and cache decisions.

The CLI's ``--json`` output and the lineage server's API print the same
shapes, built here from the Client's models, so a script can move from one to
the other without translating.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import Notification
    from lineagelog.api.client import Client
    from lineagelog.api.models import ArtifactVersion, Run, StepRun
    from lineagelog.projections.records import StepRunRecord

__all__ = [
    "artifact_ref",
    "cache_explanation",
    "compare_ingredients",
    "event_record",
    "run_detail",
    "run_seconds",
    "run_summary",
    "step_detail",
    "version_detail",
    "version_summary",
]


def run_seconds(r: Run) -> float | None:
    """How long a run took, in seconds (None while it runs)."""
    if r.ended_at is None:
        return None
    return (r.ended_at - r.started_at).total_seconds()


def run_summary(r: Run) -> dict[str, Any]:
    """A run as ``runs list --json`` (and ``replay --json``) print it."""
    return {
        "id": r.id,
        "pipeline": r.pipeline_name,
        "run_name": r.run_name,
        "status": r.status,
        "started_at": r.started_at,
        "ended_at": r.ended_at,
        "duration_s": run_seconds(r),
        "steps": len(r.steps),
        "cached_steps": sum(1 for s in r.steps.values() if s.cache_hit),
        "parameters": r.parameters,
        "failed_step": r.failed_step,
        "error": r.error,
        "tags": list(r.tags),
    }


def run_detail(r: Run) -> dict[str, Any]:
    """A run with its steps, as ``runs show --json`` prints it.

    ``environment`` is where the run's steps ran, as its ``RunStarted`` recorded
    it: host, Python, platform, process id, package versions.
    """
    return {
        **run_summary(r),
        "environment": r.environment,
        "steps": [step_detail(s) for s in r.steps.values()],
    }


def step_detail(s: StepRun) -> dict[str, Any]:
    """A step run as ``runs show --json`` lists it."""
    return {
        "id": s.id,
        "invocation": s.name,
        "step": s.step_name,
        "status": s.status,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "duration_s": s.duration_s,
        "cache_outcome": s.cache_outcome,
        "cache_reason": s.cache_reason,
        "cache_key": s.cache_key,
        "original_step_run_id": s.original_step_run_id,
        "parameters": s.parameters,
        "inputs": {k: artifact_ref(v) for k, v in s.inputs.items()},
        "outputs": {k: artifact_ref(v) for k, v in s.outputs.items()},
        "error_type": s.error_type,
        "error_message": s.error_message,
        "executor": s.executor,
        "worker": s.worker,
        "attempts": [
            {
                "attempt": a.attempt,
                "worker": a.worker,
                "executor": a.executor,
                "started_at": a.started_at,
            }
            for a in s.attempts
        ],
    }


def artifact_ref(v: Any) -> dict[str, Any]:
    """An artifact version named by id, name and version."""
    return {"id": v.id, "name": v.name, "version": v.version}


def version_summary(v: ArtifactVersion) -> dict[str, Any]:
    """An artifact version as ``artifacts list --json`` (and ``replay --json``) print it."""
    return {
        "id": v.id,
        "name": v.name,
        "version": v.version,
        "number": v.number,
        "data_type": v.data_type,
        "size": v.size,
        "content_hash": v.content_hash,
        "created_at": v.created_at,
        "tags": list(v.tags),
        "deleted": v.deleted,
        "deleted_at": v.deleted_at,
        "deleted_reason": v.deleted_reason,
    }


def version_detail(client: Client, v: ArtifactVersion) -> dict[str, Any]:
    """An artifact version as ``artifacts show --json`` prints it: producer, consumers, more."""
    queries = client.context.queries
    as_of = client.as_of_position
    consumers = queries.consumers_of(str(v.id), as_of=as_of)
    return {
        **version_summary(v),
        "uri": v.uri,
        "materializer": v.materializer,
        "artifact_type": v.artifact_type,
        "producer": _step_ref(client, _text(v.producer_step_run_id)),
        "consumers": [_step_ref(client, c) for c in sorted(set(consumers))],
        "metadata": v.metadata,
        "visualizations": v.visualizations,
    }


def compare_ingredients(
    current: dict[str, Any] | None, previous: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Line two ingredient sets up: one row per ingredient, with whether it is the same.

    Rows are ``{"ingredient", "this", "compared", "same"}``; named ingredients
    (parameters, inputs, outputs) get one row each, e.g. ``parameter lr``. The
    comparison is the domain's, the one that explains a miss.
    """
    from lineagelog.domain.cache import compare_ingredients as compare

    return [
        {
            "ingredient": row.label,
            "this": row.this,
            "compared": row.compared,
            "same": previous is not None and row.same,
        }
        for row in compare(current or {}, previous or {})
    ]


def cache_explanation(client: Client, step_run: str) -> dict[str, Any]:
    """A cache decision as ``cache explain --json`` prints it: reason and ingredients.

    Raises:
        StepRunNotFoundError: no step run is named ``step_run``.

    """
    queries = client.context.queries
    step = queries.get_step_run(str(client.get_step_run(step_run).id))
    compared_id, compared = _compared_with(queries, step)
    return {
        "step_run_id": step.id,
        "run_id": step.run_id,
        "step": step.name,
        "pipeline": step.pipeline,
        "outcome": step.cache_outcome,
        "reason": step.cache_reason,
        "cache_key": step.cache_key,
        "compared_with": compared_id,
        "ingredients": compare_ingredients(step.ingredients, compared),
    }


def _compared_with(queries: Any, step: StepRunRecord) -> tuple[str | None, dict[str, Any] | None]:
    if step.cache_outcome == "hit" and step.original_step_run_id:
        original = queries.get_step_run(step.original_step_run_id)
        return original.id, original.ingredients
    earlier = queries.latest_ingredients(step.pipeline, step.name, before_position=step.started_pos)
    return (None, None) if earlier is None else earlier


def _step_ref(client: Client, step_run_id: str | None) -> dict[str, Any] | None:
    if step_run_id is None:
        return None
    record = client.context.queries.get_step_run(step_run_id)
    return {"step_run_id": record.id, "step": record.name, "run_id": record.run_id}


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


def event_record(n: Notification) -> dict[str, Any]:
    """An event of the log as ``events tail --json`` prints it (its payload decoded).

    A payload that cannot be decoded (damaged, or a type lineagelog does not
    record) is shown as ``{"timestamp": "?", "error": ...}``, never loaded.
    """
    from lineagelog.adapters.raw_events import hashed
    from lineagelog.adapters.stored_events import UndecodableEvent

    try:
        content: dict[str, Any] = hashed(
            n.id, n.originator_id, n.originator_version, n.topic, n.state
        ).content
    except UndecodableEvent as e:
        content = {"timestamp": "?", "error": str(e)}
    return {
        "position": n.id,
        "stream_id": str(n.originator_id),
        "stream_version": n.originator_version,
        "type": n.topic,
        "payload": content,
    }
