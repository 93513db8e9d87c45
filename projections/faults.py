"""Named crash points, for fault-injection tests that kill a real process mid-write.

``checkpoint(name)`` is called at the moments where a crash is most dangerous
(a step running, bytes written but not yet recorded, a view page applied but
not committed). It does nothing unless a test process armed it with ``arm``:
then the process SIGKILLs itself the ``after``-th time it passes one of the
armed points, exactly as a power cut or the OOM killer would stop it. Armed
with ``stop=True`` it SIGSTOPs itself there instead, once: the test process sees
it stopped (``waitpid`` with ``WUNTRACED``), does something in between (a delete,
an edit of stored bytes) and resumes it with SIGCONT, a deterministic
interleaving of two real processes.

It lives in the lowest layer that calls it (the projector), so the adapters
and the runner can call it too. Unarmed, a checkpoint costs one truthiness test.
"""

from __future__ import annotations

import os
import signal

__all__ = ["arm", "checkpoint", "disarm"]

_armed: frozenset[str] = frozenset()
_remaining = 0
_signal = signal.SIGKILL


def arm(points: str | set[str] | frozenset[str], after: int = 1, *, stop: bool = False) -> None:
    """Kill this process (SIGKILL) the ``after``-th time it passes one of ``points``.

    ``points`` is a set of names or a comma-separated string of them. With
    ``stop`` the process stops (SIGSTOP) there instead, and goes on when sent
    SIGCONT; the points are disarmed then, so it stops once.
    """
    global _armed, _remaining, _signal
    names = points.split(",") if isinstance(points, str) else points
    _armed = frozenset(n.strip() for n in names if n.strip())
    _remaining = max(1, int(after))
    _signal = signal.SIGSTOP if stop else signal.SIGKILL


def disarm() -> None:
    """Make every checkpoint a no-op again."""
    global _armed
    _armed = frozenset()


def checkpoint(name: str) -> None:
    """Mark a named point where an armed test process is killed; a no-op otherwise."""
    if _armed and name in _armed:
        _hit()


def _hit() -> None:
    global _remaining
    _remaining -= 1
    if _remaining <= 0:
        if _signal == signal.SIGSTOP:
            disarm()
        os.kill(os.getpid(), _signal)
