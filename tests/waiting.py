"""Wait on a condition with a bound, never on the clock alone.

A test that sleeps a fixed time is slow when the machine is fast and flaky when it
is slow. Waiting on the condition itself, with a bound that fails the test saying
what never happened, is neither. Import from any test module
(``from waiting import wait_until``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["wait_until"]

# Short enough that a test waits little past the moment the condition holds, long
# enough that polling a database or a folder does not starve the process it waits on.
POLL_INTERVAL_S = 0.02


def wait_until(condition: Callable[[], object], timeout: float, message: str) -> None:
    """Return as soon as ``condition()`` is truthy; fail the test after ``timeout`` seconds.

    Args:
        condition: checked first at once, then every ``POLL_INTERVAL_S``; it may
            itself fail the test (e.g. when the process it waits on has ended).
        timeout: the bound, in seconds.
        message: what was awaited, for the failure ("the daemon to catch up").

    Raises:
        AssertionError: the condition did not hold within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(POLL_INTERVAL_S)
