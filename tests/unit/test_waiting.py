"""The tests' bounded wait: it returns when the condition holds and fails when it never does."""

from __future__ import annotations

import time

import pytest
from waiting import wait_until


def test_wait_until_returns_once_the_condition_holds() -> None:
    calls: list[int] = []

    wait_until(lambda: calls.append(1) or len(calls) >= 3, 5, "three calls")

    assert len(calls) == 3


def test_wait_until_fails_naming_what_never_happened_after_its_bound() -> None:
    started = time.monotonic()

    with pytest.raises(AssertionError, match=r"timed out after 0\.1s waiting for the marker"):
        wait_until(lambda: False, 0.1, "the marker")

    assert 0.1 <= time.monotonic() - started < 5
