"""Named crash points, for fault-injection tests that kill a real process mid-write.

``checkpoint(name)`` is called at the moments where a crash is most dangerous
(a step running, bytes written but not yet recorded, a view page applied but
not committed). It does nothing unless a test process armed it with ``arm``:
then the process SIGKILLs itself the ``after``-th time it passes one of the
armed points, exactly as a power cut or the OOM killer would stop it.

It lives in the lowest layer that calls it (the projector), so the adapters
and the runner can call it too. Unarmed, a checkpoint costs one truthiness test.
"""

from __future__ import annotations

import os
import signal

__all__ = ["arm", "checkpoint", "disarm"]

_armed: frozenset[str] = frozenset()
_remaining = 0


def arm(points: str | set[str] | frozenset[str], after: int = 1) -> None:
    """Kill this process (SIGKILL) the ``after``-th time it passes one of ``points``.

    ``points`` is a set of names or a comma-separated string of them.
    """
    global _armed, _remaining
    names = points.split(",") if isinstance(points, str) else points
    _armed = frozenset(n.strip() for n in names if n.strip())
    _remaining = max(1, int(after))


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
        os.kill(os.getpid(), signal.SIGKILL)
