"""Recording a step's source text once per distinct code hash (``StepCode.CodeRecorded``).

A comparison of two runs shows how a step's code changed; the code hash alone
only says that it did. The runner records the source in the same append as the
step's start, only when no run recorded that code hash before: the repository
keeps the ``StepCode`` it saved, so a step that runs again reads nothing.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import TYPE_CHECKING, Any

from lineagelog.domain.names import step_code_id
from lineagelog.domain.step_code import StepCode

if TYPE_CHECKING:
    from lineagelog.adapters.repository import Changes
    from lineagelog.api.step import Step

__all__ = ["record_step_code", "source_text"]


def source_text(func: Any) -> str | None:
    """``func``'s source, dedented; None when Python cannot read it (made by ``exec``).

    Examples:
        >>> def double(x):
        ...     return 2 * x
        >>> print(source_text(double), end="")
        def double(x):
            return 2 * x
    """
    try:
        return textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return None


def record_step_code(changes: Changes, step: Step) -> None:
    """Add ``CodeRecorded`` for ``step``'s code hash to ``changes`` unless it was recorded.

    Two runs racing to record the same hash both create the stream's first event;
    the one that appends second conflicts, and its retry finds the code recorded.
    """
    code_hash = step.code_hash
    if changes.find(step_code_id(code_hash), StepCode) is not None:
        return
    changes.add(
        StepCode.record(
            code_hash=code_hash,
            step_name=step.name,
            source_ref=step.source_ref,
            source=source_text(step.func),
        )
    )
