"""The views' audit: the live views must equal a rebuild of them from the log.

Queries, cache hits and loads read the views, so an audit that checks only the
log would pass while a forged view row (a failed run shown as completed, a
zeroed content hash) steers what the system does. This projects the log into
a scratch database (``wiring.scratch_views``, as ``lineagelog replay`` does)
and compares every view table with the live one, row for row, at the very log
position the live views record in their tracking rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from lineagelog.adapters.audit import AuditProblem
from lineagelog.adapters.view_engine import sqlite_bulk_writes
from lineagelog.adapters.wiring import scratch_views
from lineagelog.domain.errors import StorageError
from lineagelog.projections import schema as t
from lineagelog.projections.bounded_log import BoundedLog
from lineagelog.projections.projector import Projector
from lineagelog.projections.view_diff import RowDifference, compare_views
from lineagelog.projections.views import VIEWS

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["ViewAudit", "audit_views"]

_MAX_PROBLEMS = 10_000
_SHOWN = 80


@dataclass
class ViewAudit:
    """What comparing the live views with a rebuild found."""

    position: int | None
    """The log position both sides were compared at (None: they could not be compared)."""
    problems: list[AuditProblem] = field(default_factory=list)
    truncated: bool = False


def audit_views(events: EventStore, engine: Engine) -> ViewAudit:
    """Rebuild the log into a scratch database and compare it with the live views on ``engine``.

    The live views are read in one snapshot and never written: each view is
    compared with the rebuild brought to the position its tracking row records
    (views may stand at different positions: a run catches up only the cache's
    views). Never raises for what it finds.

    Raises:
        StorageError: a database could not be read at all.

    """
    with _snapshot(engine) as live:
        positions = _positions(live)  # the first read fixes the snapshot
        log_end = events.max_position()
        found = ViewAudit(min(max(positions.values(), default=0), log_end))
        groups: dict[int, list[str]] = {}
        for view in VIEWS:
            position = positions.get(view, 0)
            _tracking_problem(found, view, positions.get(view), log_end)
            groups.setdefault(min(position, log_end), []).append(view)
        rebuild = scratch_views(BoundedLog(events, min(groups)))
        try:
            try:
                rebuild.projector.rebuild()
            # A forged log can break the projector in any way; the log audit names the cause.
            except Exception as e:
                return _unchecked(e)
            for position in sorted(groups):
                try:
                    Projector(
                        rebuild.engine, BoundedLog(events, position), bulk_writes=sqlite_bulk_writes
                    ).catch_up()
                except Exception as e:
                    return _unchecked(e)
                tables = [table for view in groups[position] for table in t.VIEW_TABLES[view]]
                with rebuild.engine.connect() as rebuilt:
                    for difference in compare_views(live, rebuilt, tables):
                        if len(found.problems) >= _MAX_PROBLEMS:
                            found.truncated = True
                            return found
                        found.problems.append(_problem(difference))
        finally:
            rebuild.close()
    return found


def _unchecked(error: Exception) -> ViewAudit:
    return ViewAudit(
        None,
        [
            AuditProblem(
                "views-unchecked",
                f"the views could not be rebuilt from the log to compare them ({error!r}); "
                "the log's problems listed above say why",
            )
        ],
    )


def _positions(conn: Connection) -> dict[str, int]:
    try:
        rows = conn.execute(select(t.tracking.c.view, t.tracking.c.position)).all()
    except SQLAlchemyError as e:
        raise StorageError(f"could not read the views' tracking positions: {e}") from e
    return {str(row.view): row.position for row in rows}


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A read transaction on the live views that sees one moment throughout."""
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":  # SQLite's read transaction is a snapshot already
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin() as transaction:
            yield conn
            transaction.rollback()


def _tracking_problem(found: ViewAudit, view: str, position: int | None, log_end: int) -> None:
    if position is None:
        found.problems.append(
            AuditProblem(
                "view-tracking",
                f"the view {view!r} has no tracking row: the views were altered; "
                "run `lineagelog projections rebuild`",
            )
        )
    elif position > log_end:
        found.problems.append(
            AuditProblem(
                "view-tracking",
                f"the view {view!r} records log position {position} but the log ends at "
                f"{log_end}: its tracking row was altered, or events were deleted from the log; "
                "run `lineagelog projections rebuild`",
                position=position,
            )
        )


def _problem(d: RowDifference) -> AuditProblem:
    key = ", ".join(f"{name}={_show(value)}" for name, value in d.key.items())
    where = f"the view table {d.table!r}, row {key},"
    if d.where == "live":
        message = f"{where} is in the views but the log does not produce it (a forged row)"
    elif d.where == "rebuild":
        message = f"{where} is produced by the log but missing from the views (a deleted row)"
    else:
        changes = "; ".join(
            f"{name} {_show(old)} -> {_show(new)}" for name, (old, new) in d.columns.items()
        )
        message = f"{where} differs from the log's projection (views -> log): {changes}"
    return AuditProblem("view-row", message + "; run `lineagelog projections rebuild`")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."
