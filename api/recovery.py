"""Recovering runs whose process vanished: mark them ``interrupted``, never guess.

A run records the host and process id that ran it (``RunStarted.environment``).
The runner appends nothing extra while it works: the run's latest event (on its
own stream or any of its step runs' streams) is its heartbeat. A run still
``running`` in the views is judged like this:

- started on this host and its process is gone (or its pid now belongs to a
  process that started after the run did): ``interrupted``;
- started on this host and its process is alive: left ``running``, whatever the
  timeout, because a live process is a fact and a quiet step is not a crash;
- started elsewhere (or without a recorded pid): with a ``timeout``, a run with
  no event for longer than it is ``interrupted`` and one with a recent event is
  left ``running``; without a timeout it is ``unknown`` and never marked.

Marking appends ``RunInterrupted`` to the run and ``StepInterrupted`` to each of
its step runs still running, in one atomic append. A run that ended meanwhile is
left alone (the append's optimistic concurrency check sees it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.adapters import processes
from lineagelog.domain.errors import ConcurrencyConflict, LineageError
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import RunStatus, StepStatus

if TYPE_CHECKING:
    from lineagelog.adapters.repository import Changes
    from lineagelog.api.context import LineageContext
    from lineagelog.projections.records import RunRecord

__all__ = ["RecoveryDecision", "RecoveryReport", "process_is_alive", "recover_runs"]

INTERRUPTED = "interrupted"
RUNNING = "running"
UNKNOWN = "unknown"
ENDED = "ended"
"""A pid whose process started this long after the run did belongs to someone else."""


@dataclass(frozen=True)
class RecoveryDecision:
    """What recovery concluded about one running run, and why.

    ``verdict`` is ``interrupted`` (marked, or to be marked with ``apply``),
    ``running`` (left alone), ``unknown`` (cannot tell: give a timeout) or
    ``ended`` (the run ended while recovery looked at it).
    """

    run_id: str
    pipeline: str
    run_name: str
    host: str | None
    pid: int | None
    last_event_at: datetime
    idle_s: float
    verdict: str
    reason: str
    step_run_ids: tuple[str, ...] = ()
    marked: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return the decision as plain JSON-able values."""
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "run_name": self.run_name,
            "host": self.host,
            "pid": self.pid,
            "last_event_at": self.last_event_at.isoformat(),
            "idle_s": round(self.idle_s, 3),
            "verdict": self.verdict,
            "reason": self.reason,
            "step_run_ids": list(self.step_run_ids),
            "marked": self.marked,
        }


@dataclass(frozen=True)
class RecoveryReport:
    """Every running run recovery looked at; ``applied`` says whether it marked any."""

    decisions: list[RecoveryDecision] = field(default_factory=list)
    applied: bool = False
    timeout: float | None = None

    @property
    def interrupted(self) -> list[RecoveryDecision]:
        """The runs judged interrupted (marked when ``applied``)."""
        return [d for d in self.decisions if d.verdict == INTERRUPTED]

    @property
    def unknown(self) -> list[RecoveryDecision]:
        """The runs recovery cannot judge without a timeout."""
        return [d for d in self.decisions if d.verdict == UNKNOWN]


def process_is_alive(pid: int, started_at: datetime | None = None) -> bool:
    """Tell whether process ``pid`` on this host is alive (and not a pid reuse).

    With ``started_at``, a process that started after it reused the pid.
    A zombie (exited, not yet reaped) counts as gone.
    """
    return processes.process_alive(pid, started_by=started_at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _last_event_at(context: LineageContext, run: RunRecord) -> datetime:
    """When the latest event of the run's stream or its steps' was recorded.

    Read from the log: the last event of each stream is one lookup of its primary key.
    """
    stamps = [
        event.timestamp
        for stream in (run.id, *(s.id for s in run.steps.values()))
        if (event := context.events.last_event(UUID(stream))) is not None
    ]
    return _aware(max(stamps, key=_aware)) if stamps else _aware(run.started_at)


def _pid_of(environment: dict[str, Any]) -> int | None:
    pid = environment.get("pid")
    return pid if isinstance(pid, int) and not isinstance(pid, bool) else None


def _judge(
    run: RunRecord, last: datetime, now: datetime, timeout: float | None, this_host: str
) -> tuple[str, str]:
    environment = run.environment if isinstance(run.environment, dict) else {}
    host = environment.get("host")
    pid = _pid_of(environment)
    idle = (now - last).total_seconds()
    if host == this_host and pid is not None:
        if process_is_alive(pid, _aware(run.started_at)):
            return RUNNING, f"process {pid} is still alive on this host ({host})"
        return INTERRUPTED, f"process {pid} on host {host} is gone"
    where = (
        f"started on host {host!r} (this is {this_host!r})"
        if pid is not None
        else "recorded no process id"
    )
    if timeout is None:
        return (
            UNKNOWN,
            f"{where}; its process cannot be checked from here: give --timeout SECONDS "
            "to mark runs with no event for that long",
        )
    if idle > timeout:
        return INTERRUPTED, f"no event for {idle:.0f} s (timeout {timeout:g} s); {where}"
    return RUNNING, f"last event {idle:.0f} s ago, within the timeout of {timeout:g} s; {where}"


def _mark(context: LineageContext, decision: RecoveryDecision) -> RecoveryDecision:
    def interrupt(changes: Changes) -> str | None:
        """Interrupt the run and its running steps; or say how the run ended meanwhile."""
        # Current state, not a kept copy: a run that ended meanwhile must not be interrupted.
        run = changes.find(UUID(decision.run_id), PipelineRun, fastforward=True)
        if run is None or run.status is not RunStatus.RUNNING:
            return "missing" if run is None else run.status.value
        for step_run_id in decision.step_run_ids:
            step_run = changes.find(UUID(step_run_id), StepRun, fastforward=True)
            if step_run is not None and step_run.status is StepStatus.RUNNING:
                step_run.interrupt(f"its run was interrupted: {decision.reason}")
        run.interrupt(decision.reason)
        return None

    try:
        # One attempt: a run that appends while recovery judges it is alive, not gone.
        ended = context.repository.change_together(interrupt, attempts=1)
    except ConcurrencyConflict:
        return _replace(
            decision,
            verdict=ENDED,
            reason="the run appended an event while recovery looked at it; it is not gone",
        )
    if ended is not None:
        return _replace(decision, verdict=ENDED, reason=f"the run ended meanwhile ({ended})")
    return _replace(decision, marked=True)


def _replace(decision: RecoveryDecision, **changes: Any) -> RecoveryDecision:
    from dataclasses import replace

    return replace(decision, **changes)


def recover_runs(
    context: LineageContext,
    *,
    timeout: float | None = None,
    apply: bool = True,
    now: datetime | None = None,
) -> RecoveryReport:
    """Judge every run still ``running`` and, with ``apply``, mark the gone ones ``interrupted``.

    ``timeout`` is the number of seconds without an event after which a run
    started on another host (or without a recorded pid) counts as interrupted;
    without it such runs are reported ``unknown`` and never marked. ``apply``
    appends ``RunInterrupted`` / ``StepInterrupted``; False is a dry run.
    ``now`` is the current time (tests). Returns one decision per running run,
    oldest first; raises ``LineageError`` when ``timeout`` is negative.
    """
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise LineageError(
                f"recovery timeout {timeout!r} is not a number of seconds >= 0; "
                "pass e.g. timeout=600 (ten minutes without an event)"
            )
        timeout = float(timeout)
    context.catch_up()
    moment = _aware(now) if now is not None else datetime.now(UTC)
    this_host = processes.this_host()
    decisions = []
    for run in reversed(context.queries.list_runs(status=RunStatus.RUNNING.value)):
        last = _last_event_at(context, run)
        verdict, reason = _judge(run, last, moment, timeout, this_host)
        environment = run.environment if isinstance(run.environment, dict) else {}
        decision = RecoveryDecision(
            run_id=run.id,
            pipeline=run.pipeline,
            run_name=run.run_name,
            host=environment.get("host"),
            pid=_pid_of(environment),
            last_event_at=last,
            idle_s=(moment - last).total_seconds(),
            verdict=verdict,
            reason=reason,
            step_run_ids=tuple(
                s.id for s in run.steps.values() if s.status == StepStatus.RUNNING.value
            ),
        )
        if apply and verdict == INTERRUPTED:
            decision = _mark(context, decision)
        decisions.append(decision)
    if apply and any(d.marked for d in decisions):
        _seal(context)
        context.catch_up()
    return RecoveryReport(decisions=decisions, applied=apply, timeout=timeout)


def _seal(context: LineageContext) -> None:
    from lineagelog.adapters.sealing import seal_log

    try:
        seal_log(context.events, repository=context.repository)
    except LineageError as e:
        logging.getLogger(__name__).warning("runs recovered but the log could not be sealed: %s", e)
