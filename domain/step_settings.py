"""Which of a step's on/off settings decides, as ZenML resolves them.

``enable_cache``, ``enable_artifact_metadata`` and ``enable_artifact_visualization``
are each given at three levels. From strongest to weakest: the run's
(``pipeline.run(...)``, ZenML's run configuration) overrides every step; then the
step's own (``@step``, ``configure``, ``with_options``); then the pipeline's
(``@pipeline``, ``configure``, ``with_options``), which the steps without a
setting follow; when none is given the setting is on.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["SettingLevel", "deciding_setting"]

SettingLevel = Literal["run", "step", "pipeline", "default"]
"""Where the deciding value of a setting was given."""


def deciding_setting(
    *, run: bool | None, step: bool | None, pipeline: bool | None
) -> tuple[bool, SettingLevel]:
    """The value a step runs with, and the level that gave it.

    Examples:
        >>> deciding_setting(run=None, step=False, pipeline=True)
        (False, 'step')
        >>> deciding_setting(run=None, step=None, pipeline=None)
        (True, 'default')
    """
    if run is not None:
        return run, "run"
    if step is not None:
        return step, "step"
    if pipeline is not None:
        return pipeline, "pipeline"
    return True, "default"
