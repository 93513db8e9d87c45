"""Which ``enable_cache`` setting decides for a step, as ZenML resolves them.

From strongest to weakest: the run's setting (``pipeline.run(enable_cache=...)``,
ZenML's run configuration) overrides every step; then the step's own setting
(``@step``, ``configure``, ``with_options``); then the pipeline's (``@pipeline``,
``configure``, ``with_options``), which the steps without a setting follow; by
default caching is on.
"""

from __future__ import annotations

__all__ = ["cache_disabled_reason"]


def cache_disabled_reason(
    *,
    run: bool | None,
    step: bool | None,
    pipeline: bool | None,
    step_name: str,
    pipeline_name: str,
) -> str | None:
    """Why caching is off for one step, naming the setting that decided; None if it is on.

    Examples:
        >>> cache_disabled_reason(
        ...     run=False, step=True, pipeline=None, step_name="load", pipeline_name="p"
        ... )
        'caching is disabled for this run: run(enable_cache=False) overrides every step'
        >>> cache_disabled_reason(
        ...     run=None, step=True, pipeline=False, step_name="load", pipeline_name="p"
        ... ) is None
        True
    """
    if run is not None:
        if run:
            return None
        return "caching is disabled for this run: run(enable_cache=False) overrides every step"
    if step is not None:
        if step:
            return None
        return f"caching is disabled for this step: step {step_name!r} has enable_cache=False"
    if pipeline is False:
        return (
            f"caching is disabled for this pipeline: pipeline {pipeline_name!r} has "
            "enable_cache=False and the step has no setting of its own"
        )
    return None
