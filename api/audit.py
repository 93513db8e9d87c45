"""What the Client offers auditors: audit, seal, replay into a scratch database, state as of.

``replay`` does not trust the views: it projects the raw log, up to a moment,
into a fresh SQLite file and answers from there. ``Client.as_of`` is the fast
path over the live views; both must agree, and a test holds them to it.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from lineagelog.adapters.audit import AuditReport, audit_log
from lineagelog.adapters.point_in_time import aggregate_as_of
from lineagelog.adapters.sealing import SealResult, seal_log
from lineagelog.adapters.wiring import drop_scratch, scratch_views
from lineagelog.api.context import LineageContext
from lineagelog.domain.errors import LineageError, RunNotFoundError, StepRunNotFoundError
from lineagelog.projections.bounded_log import BoundedLog

__all__ = [
    "ReplayContext",
    "audit",
    "replay_context",
    "resolve_position",
    "run_state",
    "seal",
    "step_run_state",
]


@dataclass
class ReplayContext(LineageContext):
    """A context whose views live in a scratch database; closing it deletes that database.

    Its ``events`` is the real log (never closed by this context).
    """

    until: int = 0
    scratch: str = ""

    def close(self) -> None:
        """Drop the scratch database (the real event store stays open)."""
        drop_scratch(self.engine, self.scratch)


def audit(
    context: LineageContext,
    *,
    verify_artifacts: bool = True,
    views: bool = True,
    anchor: str | None = None,
) -> AuditReport:
    """Verify the whole log (chains, seals) and, when asked, the artifacts, views and anchors.

    ``views``: rebuild every view from the log into a scratch database and
    compare it row for row with the live views (what queries and the cache
    read). ``anchor``: an anchor file (local path or fsspec URL) written by
    ``seal(anchor=...)``; the log must still hold every anchored history.

    Raises:
        AnchorFileError: the anchor file is missing or malformed (naming the line).
        StorageError: a database could not be read at all.

    """
    started = time.perf_counter()
    check = None
    if anchor is not None:
        from lineagelog.adapters.anchor import AnchorCheck, read_anchors

        check = AnchorCheck(read_anchors(anchor), anchor)
    report = audit_log(
        context.events,
        context.artifacts if verify_artifacts else None,
        on_range=check.reached if check is not None else None,
    )
    problems, truncated = list(report.problems), report.problems_truncated
    if check is not None:
        check.finish(report.events_checked)
        problems.extend(check.problems)
    views_position = None
    if views:
        from lineagelog.adapters.view_audit import audit_views

        found = audit_views(context.events, context.engine)
        problems.extend(found.problems)
        truncated = truncated or found.truncated
        views_position = found.position
    return replace(
        report,
        problems=problems,
        problems_truncated=truncated,
        anchors_checked=check.checked if check is not None else 0,
        views_position=views_position,
        seconds=time.perf_counter() - started,
    )


def seal(context: LineageContext, *, anchor: str | None = None) -> SealResult:
    """Seal every event recorded so far; with ``anchor``, append the seal to that file too.

    The anchor file (a local path or an fsspec URL) keeps the seal outside the
    log: ``audit(anchor=...)`` then proves the log still holds that history.

    Raises:
        AnchorFileError: the anchor file cannot be written (the seal is in the log).

    """
    result = seal_log(context.events, repository=context.repository)
    if anchor is not None:
        from lineagelog.adapters.anchor import append_anchor

        append_anchor(anchor, result)
    return result


def resolve_position(context: LineageContext, at: datetime | int) -> int:
    """Resolve a log position from a position or a moment (the last event at or before it)."""
    if isinstance(at, bool) or not isinstance(at, (int, datetime)):
        raise LineageError(f"expected a datetime or a log position (int), got {at!r}")
    if isinstance(at, int):
        if at < 0:
            raise LineageError(f"log position {at} is negative; positions start at 1")
        return min(at, context.events.max_position())
    context.catch_up()
    return context.queries.position_at(at)


def replay_context(context: LineageContext, until: datetime | int) -> ReplayContext:
    """Project the raw log up to ``until`` into a scratch SQLite database.

    The scratch database is deleted when the returned context is closed or
    garbage-collected.
    """
    position = resolve_position(context, until)
    views = scratch_views(BoundedLog(context.events, position))
    try:
        views.projector.rebuild()  # empty views: the bulk load (see projections.bulk_load)
    except BaseException:
        views.close()
        raise
    replayed = ReplayContext(
        settings=context.settings,
        events=context.events,
        engine=views.engine,
        projector=views.projector,
        queries=views.queries,
        artifacts=context.artifacts,
        until=position,
        scratch=views.folder,
    )
    weakref.finalize(replayed, drop_scratch, views.engine, views.folder)
    return replayed


def _uuid(value: UUID | str, error: type[LineageError], what: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise error(
            f"{what} id {value!r} is not a UUID; copy one from `lineagelog runs list`"
        ) from None


def run_state(context: LineageContext, run_id: UUID | str, as_of: datetime | int | None) -> Any:
    """Rebuild the ``PipelineRun`` aggregate as it stood at ``as_of`` (now when None).

    Raises:
        RunNotFoundError: no such run existed then.

    """
    return _state_as_of(
        context, run_id, as_of, RunNotFoundError, "run", "PipelineRun", "`lineagelog runs list`"
    )


def step_run_state(
    context: LineageContext, step_run_id: UUID | str, as_of: datetime | int | None
) -> Any:
    """Rebuild the ``StepRun`` aggregate as it stood at ``as_of`` (now when None).

    Raises:
        StepRunNotFoundError: no such step run existed then.

    """
    return _state_as_of(
        context,
        step_run_id,
        as_of,
        StepRunNotFoundError,
        "step run",
        "StepRun",
        "`lineagelog runs show RUN`",
    )


def _state_as_of(
    context: LineageContext,
    stream_id: UUID | str,
    as_of: datetime | int | None,
    missing: type[LineageError],
    what: str,
    aggregate: str,
    listing: str,
) -> Any:
    """The ``aggregate`` of stream ``stream_id`` as it stood at ``as_of`` (now when None)."""
    stream = _uuid(stream_id, missing, what)
    position = context.events.max_position() if as_of is None else resolve_position(context, as_of)
    state = aggregate_as_of(context.events, stream, position)
    if state is None or type(state).__name__ != aggregate:  # none, or another kind of stream
        raise missing(
            f"{what} {stream} did not exist at log position {position}; "
            f"pick a later moment or check the id with {listing}"
        )
    return state
