"""The status a run reports: ``cached`` for a completed run every step of which was a cache hit.

As in ZenML, a run whose every step was served from the cache reports ``cached``.
The log and the runs view hold ``completed`` for it (no event says "cached"); the
status is derived when read, by the run queries and the lineage queries alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists

from lineagelog.projections import schema as t

__all__ = ["all_steps_cached", "reported_run_status"]


def all_steps_cached(run_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL: true for the run whose id is ``run_id`` when it has steps and all are ``cached``.

    The step runs are read through their own alias, so the condition can sit in
    a query that already joins ``step_runs`` for other rows.
    """
    steps = t.step_runs.alias("run_steps")
    return and_(
        exists().where(steps.c.run_id == run_id),
        ~exists().where(steps.c.run_id == run_id, steps.c.status != "cached"),
    )


def reported_run_status(status: str, *, ended: bool, fully_cached: bool) -> str:
    """Return the status a run reports, given its stored status as of some position.

    Examples:
        >>> reported_run_status("completed", ended=True, fully_cached=True)
        'cached'
        >>> reported_run_status("completed", ended=False, fully_cached=True)
        'running'
        >>> reported_run_status("failed", ended=True, fully_cached=False)
        'failed'

    """
    if not ended:
        return "running"
    if status == "completed" and fully_cached:
        return "cached"
    return status
