"""Where steps run: the executor port and its adapters (in this process, on Dask)."""

from lineagelog.adapters.executors.port import (
    ExecutorTask,
    Placement,
    StepExecutor,
    TaskFinished,
    TaskNews,
    TaskStarted,
)

__all__ = [
    "ExecutorTask",
    "Placement",
    "StepExecutor",
    "TaskFinished",
    "TaskNews",
    "TaskStarted",
]
