"""How each view applies events: one handler per (view, event type).

Handlers are deterministic functions of the event and its position, so a view
rebuilt from the log is row-for-row identical to one maintained incrementally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.artifact_uri import portable_uri, portable_visualizations
from lineagelog.domain.base import LineageAggregate
from lineagelog.domain.openlineage import OpenLineageEvent
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_code import StepCode
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.tag_name import TagName
from lineagelog.domain.values import CacheOutcome, RunStatus, StepStatus
from lineagelog.projections import schema as t
from lineagelog.projections.batch import PageBatch, utc_text
from lineagelog.projections.metadata_view import METADATA_HANDLERS
from lineagelog.projections.openlineage_view import artifact_located, openlineage_received

__all__ = ["ALWAYS", "HANDLERS", "VIEWS", "EventClass", "Handler"]

Handler = Callable[[PageBatch, int, Any], None]
EventClass = type[LineageAggregate.Event]


_ts = utc_text
"""An event timestamp (datetime or ISO text) as the UTC text ``PageBatch`` binds."""


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def version_name(e: Any) -> str:
    """The version name an artifact event gives (events from before names: the number)."""
    return e.version_name or str(e.version)


# -- runs view -----------------------------------------------------------------


def _run_started(b: PageBatch, pos: int, e: Any) -> None:
    b.insert(
        t.runs,
        {
            "id": str(e.originator_id),
            "pipeline": e.pipeline,
            "run_name": e.run_name,
            "parameters": e.parameters,
            "dag": e.dag,
            "environment": e.environment,
            "status": RunStatus.RUNNING.value,
            "started_at": _ts(e.timestamp),
            "started_pos": pos,
            "ended_at": None,
            "ended_pos": None,
            "failed_step": None,
            "error": None,
        },
        key=(str(e.originator_id),),
    )


def _run_ended(status: RunStatus) -> Handler:
    def handle(b: PageBatch, pos: int, e: Any) -> None:
        values: dict[str, Any] = {
            "status": status.value,
            "ended_at": _ts(e.timestamp),
            "ended_pos": pos,
        }
        if status is RunStatus.FAILED:
            values.update(failed_step=e.failed_step, error=e.error)
        if status is RunStatus.INTERRUPTED:
            values.update(error=e.reason)
        b.update(t.runs, (str(e.originator_id),), values)

    return handle


def _opened(table: Any, owner: str, e: Any, b: PageBatch, pos: int) -> None:
    """A tag row opened at ``pos`` (``removed_pos`` set when the tag is removed)."""
    b.insert(
        table,
        {owner: str(e.originator_id), "tag": e.tag, "added_pos": pos, "removed_pos": None},
        key=(str(e.originator_id), e.tag, pos),
    )


def _closed(table: Any, owner: str, owner_id: str, tag: str, b: PageBatch, pos: int) -> None:
    """Close the open row of ``tag`` on ``owner_id`` (pending in this page, or stored)."""
    for key, row in b.pending_rows(table):
        if key[:2] == (owner_id, tag) and row["removed_pos"] is None:
            row["removed_pos"] = pos
            return
    where = {owner: owner_id, "tag": tag, "removed_pos": None}
    for open_row in b.stored_rows(table, ["added_pos"], where)[:1]:
        b.update(table, (owner_id, tag, open_row.added_pos), {"removed_pos": pos})


def _run_tagged(b: PageBatch, pos: int, e: Any) -> None:
    _opened(t.run_tags, "run_id", e, b, pos)


def _run_untagged(b: PageBatch, pos: int, e: Any) -> None:
    _closed(t.run_tags, "run_id", str(e.originator_id), e.tag, b, pos)


def _step_started(b: PageBatch, pos: int, e: Any) -> None:
    b.insert(
        t.step_runs,
        {
            "id": str(e.originator_id),
            "run_id": str(e.run_id),
            "pipeline": e.pipeline,
            "invocation_id": e.invocation_id,
            "step_name": e.step_name,
            "source_ref": e.source_ref,
            "code_hash": e.code_hash,
            "parameters": e.parameters,
            "inputs": e.inputs,
            "status": StepStatus.RUNNING.value,
            "started_at": _ts(e.timestamp),
            "started_pos": pos,
            "cache_key": None,
            "cache_outcome": None,
            "cache_reason": None,
            "ingredients": None,
            "original_step_run_id": None,
            "cache_pos": None,
            "ended_at": None,
            "ended_pos": None,
            "duration_s": None,
            "error_type": None,
            "error_message": None,
            "traceback": None,
        },
        key=(str(e.originator_id),),
    )
    _step_placed(b, pos, e)


def _cache_decided(b: PageBatch, pos: int, e: Any) -> None:
    step_run_id = str(e.originator_id)
    b.update(
        t.step_runs,
        (step_run_id,),
        {
            "cache_key": e.cache_key,
            "cache_outcome": e.outcome,
            "cache_reason": e.reason,
            "ingredients": e.ingredients,
            "original_step_run_id": _id(e.original_step_run_id),
            "cache_pos": pos,
        },
    )
    for output_name, artifact_version_id in sorted(e.reused_outputs.items()):
        b.insert(
            t.step_outputs,
            {
                "step_run_id": step_run_id,
                "output_name": output_name,
                "artifact_version_id": artifact_version_id,
                "reused": True,
                "position": pos,
            },
        )


def _output_written(b: PageBatch, pos: int, e: Any) -> None:
    b.insert(
        t.step_outputs,
        {
            "step_run_id": str(e.originator_id),
            "output_name": e.output_name,
            "artifact_version_id": str(e.artifact_version_id),
            "reused": False,
            "position": pos,
        },
    )


def _step_succeeded(b: PageBatch, pos: int, e: Any) -> None:
    b.update(
        t.step_runs,
        (str(e.originator_id),),
        {
            "status": (StepStatus.CACHED if e.cached else StepStatus.COMPLETED).value,
            "ended_at": _ts(e.timestamp),
            "ended_pos": pos,
            "duration_s": e.duration_s,
        },
    )


def _step_failed(b: PageBatch, pos: int, e: Any) -> None:
    b.update(
        t.step_runs,
        (str(e.originator_id),),
        {
            "status": StepStatus.FAILED.value,
            "ended_at": _ts(e.timestamp),
            "ended_pos": pos,
            "duration_s": e.duration_s,
            "error_type": e.error_type,
            "error_message": e.message,
            "traceback": e.traceback,
        },
    )


def _step_placed(b: PageBatch, pos: int, e: Any) -> None:
    if e.executor is not None:  # None: recorded before StepStarted said where it runs
        b.insert(
            t.step_places,
            {
                "step_run_id": str(e.originator_id),
                "executor": e.executor,
                "worker": e.worker,
                "position": pos,
            },
        )


def _attempt_started(b: PageBatch, pos: int, e: Any) -> None:
    b.insert(
        t.step_attempts,
        {
            "step_run_id": str(e.originator_id),
            "attempt": e.attempt,
            "worker": e.worker,
            "executor": e.executor,
            "started_at": _ts(e.timestamp),
            "position": pos,
        },
    )


def _step_interrupted(b: PageBatch, pos: int, e: Any) -> None:
    b.update(
        t.step_runs,
        (str(e.originator_id),),
        {
            "status": StepStatus.INTERRUPTED.value,
            "ended_at": _ts(e.timestamp),
            "ended_pos": pos,
            "error_message": e.reason,
        },
    )


def _code_recorded(b: PageBatch, pos: int, e: Any) -> None:
    b.insert(
        t.step_code,
        {
            "code_hash": e.code_hash,
            "step_name": e.step_name,
            "source_ref": e.source_ref,
            "source": e.source,
            "truncated": e.truncated,
            "position": pos,
        },
        key=(e.code_hash,),
    )


# -- catalog view --------------------------------------------------------------


def _artifact_row(b: PageBatch, pos: int, e: Any, producer: str | None, output: str | None) -> None:
    """A catalog row from an event that carries a whole artifact version."""
    b.insert(
        t.artifact_versions,
        {
            "id": str(e.artifact_version_id),
            "name": e.name,
            "version": e.version,
            "version_name": version_name(e),
            "uri": portable_uri(e.uri, e.name, e.artifact_version_id),
            "materializer": e.materializer,
            "data_type": e.data_type,
            "artifact_type": e.artifact_type,
            "content_hash": e.content_hash,
            "size": e.size,
            "metadata": e.metadata,
            "visualizations": portable_visualizations(
                e.visualizations, e.name, e.artifact_version_id
            ),
            "run_metadata": e.run_metadata or {},
            "producer_step_run_id": producer,
            "output_name": output,
            "created_at": _ts(e.timestamp),
            "position": pos,
            "deleted_at": None,
            "deleted_pos": None,
            "deleted_reason": None,
        },
        key=(str(e.artifact_version_id),),
    )


def _artifact_written(b: PageBatch, pos: int, e: Any) -> None:
    _artifact_row(b, pos, e, str(e.originator_id), e.output_name)


def _version_tagged(b: PageBatch, pos: int, e: Any) -> None:
    avid = str(e.artifact_version_id)
    b.insert(
        t.artifact_tags,
        {"artifact_version_id": avid, "tag": e.tag, "added_pos": pos, "removed_pos": None},
        key=(avid, e.tag, pos),
    )


def _version_untagged(b: PageBatch, pos: int, e: Any) -> None:
    _closed(t.artifact_tags, "artifact_version_id", str(e.artifact_version_id), e.tag, b, pos)


def _tag_created(b: PageBatch, pos: int, e: Any) -> None:
    b.insert(
        t.tags,
        {"name": e.name, "exclusive": e.exclusive, "created_at": _ts(e.timestamp), "position": pos},
        key=(e.name,),
    )


def _external_registered(b: PageBatch, pos: int, e: Any) -> None:
    _artifact_row(b, pos, e, None, None)


def _version_deleted(b: PageBatch, pos: int, e: Any) -> None:
    b.update(
        t.artifact_versions,
        (str(e.artifact_version_id),),
        {"deleted_at": _ts(e.timestamp), "deleted_pos": pos, "deleted_reason": e.reason},
    )


# -- cache view ----------------------------------------------------------------


def _cache_candidate(b: PageBatch, pos: int, e: Any) -> None:
    if e.outcome != CacheOutcome.HIT:
        step_run_id = str(e.originator_id)
        b.insert(
            t.cache_entries,
            {
                "step_run_id": step_run_id,
                "cache_key": e.cache_key,
                "decided_pos": pos,
                "succeeded_pos": None,
            },
            key=(step_run_id,),
        )


def _cache_entry_succeeded(b: PageBatch, pos: int, e: Any) -> None:
    if not e.cached:
        b.update(t.cache_entries, (str(e.originator_id),), {"succeeded_pos": pos})


# -- lineage view --------------------------------------------------------------


def _node(
    b: PageBatch, pos: int, e: Any, node_id: str, kind: str, label: str, run_id: str | None
) -> None:
    b.insert(
        t.lineage_nodes,
        {
            "id": node_id,
            "kind": kind,
            "label": label,
            "run_id": run_id,
            "position": pos,
        },
        key=(node_id,),
    )


def _edge(b: PageBatch, pos: int, e: Any, src: str, dst: str, kind: str) -> None:
    b.insert(
        t.lineage_edges,
        {"src": src, "dst": dst, "kind": kind, "position": pos},
        key=(src, dst, kind),
    )


def _lineage_run(b: PageBatch, pos: int, e: Any) -> None:
    _node(
        b, pos, e, str(e.originator_id), "run", f"{e.pipeline} / {e.run_name}", str(e.originator_id)
    )


def _lineage_step(b: PageBatch, pos: int, e: Any) -> None:
    step_run_id, run_id = str(e.originator_id), str(e.run_id)
    _node(b, pos, e, step_run_id, "step_run", e.invocation_id, run_id)
    _edge(b, pos, e, run_id, step_run_id, "contains")
    for artifact_version_id in sorted(e.inputs.values()):
        _edge(b, pos, e, artifact_version_id, step_run_id, "consumed")


def _lineage_cache(b: PageBatch, pos: int, e: Any) -> None:
    if e.outcome == CacheOutcome.HIT:
        step_run_id = str(e.originator_id)
        _edge(b, pos, e, str(e.original_step_run_id), step_run_id, "cached_from")
        for artifact_version_id in sorted(set(e.reused_outputs.values())):
            _edge(b, pos, e, step_run_id, artifact_version_id, "reused")


def _lineage_artifact(b: PageBatch, pos: int, e: Any) -> None:
    avid = str(e.artifact_version_id)
    _node(b, pos, e, avid, "artifact", f"{e.name}:{version_name(e)}", None)
    _edge(b, pos, e, str(e.originator_id), avid, "produced")


def _lineage_external(b: PageBatch, pos: int, e: Any) -> None:
    avid = str(e.artifact_version_id)
    _node(b, pos, e, avid, "artifact", f"{e.name}:{version_name(e)}", None)


def _both(first: Handler, second: Handler) -> Handler:
    def handle(b: PageBatch, pos: int, e: Any) -> None:
        first(b, pos, e)
        second(b, pos, e)

    return handle


def _timeline(b: PageBatch, pos: int, e: Any) -> None:
    b.insert(
        t.timeline,
        {"position": pos, "timestamp": t.utc_micros(e.timestamp)},
    )


VIEWS: tuple[str, ...] = tuple(t.VIEW_TABLES)

HANDLERS: dict[str, dict[EventClass, Handler]] = {
    "runs": {
        PipelineRun.RunStarted: _run_started,
        PipelineRun.RunCompleted: _run_ended(RunStatus.COMPLETED),
        PipelineRun.RunFailed: _run_ended(RunStatus.FAILED),
        PipelineRun.RunInterrupted: _run_ended(RunStatus.INTERRUPTED),
        PipelineRun.RunTagged: _run_tagged,
        PipelineRun.RunUntagged: _run_untagged,
        StepRun.StepStarted: _step_started,
        StepRun.CacheDecided: _cache_decided,
        StepRun.ArtifactWritten: _output_written,
        StepRun.StepSucceeded: _step_succeeded,
        StepRun.StepFailed: _step_failed,
        StepRun.StepInterrupted: _step_interrupted,
        StepCode.CodeRecorded: _code_recorded,
        StepRun.AttemptStarted: _attempt_started,
    },
    "catalog": {
        StepRun.ArtifactWritten: _artifact_written,
        ArtifactName.VersionTagged: _version_tagged,
        ArtifactName.VersionUntagged: _version_untagged,
        ArtifactName.ExternalVersionRegistered: _external_registered,
        ArtifactName.VersionDeleted: _version_deleted,
        TagName.TagCreated: _tag_created,
    },
    "cache": {
        StepRun.CacheDecided: _cache_candidate,
        StepRun.StepSucceeded: _cache_entry_succeeded,
    },
    "lineage": {
        PipelineRun.RunStarted: _lineage_run,
        StepRun.StepStarted: _lineage_step,
        StepRun.CacheDecided: _lineage_cache,
        StepRun.ArtifactWritten: _both(_lineage_artifact, artifact_located(produced=True)),
        ArtifactName.ExternalVersionRegistered: _both(
            _lineage_external, artifact_located(produced=False)
        ),
        OpenLineageEvent.Received: openlineage_received,
    },
    "metadata": dict(METADATA_HANDLERS),
}
"""view name -> domain event class -> handler. Events a view has no handler for only
move its tracking position. Keyed by the classes themselves, so a renamed event
cannot silently stop matching."""

ALWAYS: dict[str, Handler] = {"lineage": _timeline}
"""Handlers a view runs for every event, whatever its type."""
