"""A step's failure as the runner records it (``StepFailed``) and reports it."""

from __future__ import annotations

import traceback as tb
from typing import Any

from lineagelog.domain.canonical import readable_text

__all__ = ["StepFailure"]


class StepFailure(Exception):
    """Carries a step's failure out of the step, its cause the original error."""

    def __init__(self, summary: str, recorded: dict[str, Any]) -> None:
        super().__init__(summary)
        self.summary = summary
        self.recorded = recorded  # the ``StepFailed`` fields

    @classmethod
    def of(
        cls, error: BaseException, duration_s: float, traceback: str | None = None
    ) -> StepFailure:
        """The failure ``error`` is, with its traceback (``traceback`` when formatted elsewhere).

        The caller raises it ``from error``, so the original error is the cause.
        The log holds valid Unicode only: a message with a lone surrogate must still
        end the run ``failed``, so it is recorded (and raised) escaped.
        """
        return cls(
            readable_text(f"{type(error).__name__}: {error}"),
            {
                "error_type": f"{type(error).__module__}.{type(error).__qualname__}",
                "message": readable_text(str(error)),
                "traceback": readable_text(traceback or "".join(tb.format_exception(error))),
                "duration_s": duration_s,
            },
        )
