"""The values a listing may be filtered by, from the domain's enums, checked one way.

The Client and the command line both check ``status=`` and ``outcome=`` here,
so an unknown value is the same error, naming the allowed values, in both.
Kept free of SQLAlchemy: importing ``lineagelog.api`` must not load it.
"""

from __future__ import annotations

from collections.abc import Iterable

from lineagelog.domain.errors import InvalidFilterError
from lineagelog.domain.values import CacheOutcome, RunStatus, StepStatus

__all__ = ["CACHE_OUTCOMES", "RUN_STATUSES", "STEP_STATUSES", "check_choice"]

RUN_STATUSES: tuple[str, ...] = (*(s.value for s in RunStatus), StepStatus.CACHED.value)
"""What a run's status can be: ``cached`` is a completed run whose every step was cached."""
STEP_STATUSES: tuple[str, ...] = tuple(s.value for s in StepStatus)
CACHE_OUTCOMES: tuple[str, ...] = tuple(c.value for c in CacheOutcome)


def check_choice(what: str, value: str | None, allowed: Iterable[str]) -> str | None:
    """Return ``value`` when it is one of ``allowed`` (or None); otherwise raise naming them.

    Raises:
        InvalidFilterError: ``value`` is not one of ``allowed``.

    Examples:
        >>> check_choice("cache outcome", "hit", CACHE_OUTCOMES)
        'hit'
        >>> check_choice("run status", "done", RUN_STATUSES)
        Traceback (most recent call last):
        ...
        lineagelog.domain.errors.InvalidFilterError: unknown run status 'done'; use one of running, completed, failed, interrupted, cached

    """  # noqa: E501
    choices = tuple(allowed)
    if value is None or value in choices:
        return value
    raise InvalidFilterError(f"unknown {what} {value!r}; use one of {', '.join(choices)}")
