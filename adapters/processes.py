"""Processes on this machine: is the one that recorded something still running?

Write leases and run recovery both ask it of a pid they read back from data
(a lease file, a run's environment). A pid alone is not enough: after the
process exits, the pid may be reused by another, so the process's start is
compared too, read from Linux's ``/proc``; where ``/proc`` is missing the
signal check alone has to do.
"""

from __future__ import annotations

import functools
import os
import socket
from datetime import datetime
from pathlib import Path
from uuid import UUID

__all__ = [
    "ProcessStat",
    "boot_id",
    "is_uuid",
    "own_start_ticks",
    "proc_stat",
    "process_alive",
    "this_host",
]

_CLOCK_SLACK_S = 2.0
"""How far a process may seem to start after the moment it recorded (clock rounding)."""

ProcessStat = tuple[str, int]
"""A process's state letter and its start time in clock ticks since boot."""


@functools.cache
def this_host() -> str:
    """This machine's host name."""
    return socket.gethostname()


@functools.cache
def boot_id() -> str | None:
    """This machine's boot id on Linux: tells apart hosts of one name, and reboots."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()[:64] or None
    except OSError:
        return None


def proc_stat(pid: int) -> ProcessStat | None:
    """State and start time (clock ticks since boot) of ``pid`` from /proc, if any."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name in parentheses may hold spaces or parentheses: split after the last.
    fields = text.rsplit(")", 1)[-1].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


@functools.cache
def own_start_ticks(pid: int) -> int | None:
    """The start of this process (``os.getpid()``), read once per pid (a fork has its own)."""
    stat = proc_stat(pid)
    return None if stat is None else stat[1]


def process_alive(
    pid: int, *, start_ticks: int | None = None, started_by: datetime | None = None
) -> bool:
    """Tell whether process ``pid`` on this host is alive, and is the process meant.

    Args:
        pid: the process id read back.
        start_ticks: the process's start as recorded (``own_start_ticks``); another
            start means the pid was reused.
        started_by: a moment the process was already running at; a process that
            started after it reused the pid.

    A zombie (exited, not yet reaped) counts as gone. When the answer cannot be
    known (no permission to ask), the process counts as alive: callers protect.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    except OSError:
        return True
    stat = proc_stat(pid)
    if stat is None:
        return True  # no /proc here: the signal check has to do
    state, start = stat
    if state in ("Z", "X"):
        return False
    if start_ticks is not None and start != start_ticks:
        return False
    boot = _boot_time()
    if started_by is not None and boot is not None:
        ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        if boot + start / ticks > started_by.timestamp() + _CLOCK_SLACK_S:
            return False
    return True


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a UUID (folder and file names the store gives versions)."""
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None
