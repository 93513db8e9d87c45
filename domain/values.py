"""Small value objects of the lineage language."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CacheOutcome", "RunStatus", "StepStatus"]


class RunStatus(StrEnum):
    """Where a pipeline run stands."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class StepStatus(StrEnum):
    """Where a step run stands; ``cached`` means served from an earlier execution."""

    RUNNING = "running"
    COMPLETED = "completed"
    CACHED = "cached"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class CacheOutcome(StrEnum):
    """What the cache decided for a step run."""

    HIT = "hit"
    MISS = "miss"
    DISABLED = "disabled"
