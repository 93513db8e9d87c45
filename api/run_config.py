"""``run.config`` and ``step.config``: the configuration a run recorded, ZenML's way.

Read from what ``RunStarted`` and ``StepStarted`` recorded (the parameters and
the DAG spec), never from the code as it is now. Runs recorded before the DAG
held cache settings answer ``enable_cache=None``. ``settings`` is always empty:
lineagelog refuses ZenML's ``settings=`` rather than record and ignore it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunConfig", "StepConfig"]


@dataclass(frozen=True)
class RunConfig:
    """A run's configuration (ZenML's ``PipelineConfiguration``), as recorded.

    ``name`` is the pipeline's name; ``enable_cache`` the run's setting
    (``run(enable_cache=...)``, else the pipeline's; None when neither set one);
    ``parameters`` the pipeline's parameters; ``extra`` the pipeline's ``extra``.
    """

    name: str
    run_name: str
    enable_cache: bool | None
    parameters: dict[str, Any]
    extra: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def recorded(
        cls, pipeline: str, run_name: str, parameters: dict[str, Any], dag: Mapping[str, Any]
    ) -> RunConfig:
        """The configuration of a run from its recorded parameters and DAG spec."""
        return cls(
            name=pipeline,
            run_name=run_name,
            enable_cache=dag.get("enable_cache"),
            parameters=dict(parameters),
            extra=dict(dag.get("extra", {})),
        )


@dataclass(frozen=True)
class StepConfig:
    """A step run's configuration (ZenML's ``StepConfiguration``), as recorded.

    ``name`` is the step's name (the invocation id is ``StepRun.name``);
    ``parameters`` what the step was called with; ``enable_cache`` the setting
    that decided for it (None for runs recorded before it was kept);
    ``outputs`` the output names; ``extra`` the step's ``extra``.
    """

    name: str
    enable_cache: bool | None
    parameters: dict[str, Any]
    outputs: tuple[str, ...]
    extra: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def recorded(
        cls, step_name: str, parameters: dict[str, Any], spec: Mapping[str, Any] | None
    ) -> StepConfig:
        """The configuration of a step run from its parameters and its entry in the DAG spec."""
        entry = spec or {}
        return cls(
            name=step_name,
            enable_cache=entry.get("enable_cache"),
            parameters=dict(parameters),
            outputs=tuple(entry.get("outputs", ())),
            extra=dict(entry.get("extra", {})),
        )
