"""Which ``enable_cache`` setting decides for a step, as ZenML resolves them.

The levels and their order are ``lineagelog.domain.step_settings``'s; this
module says why caching is off in the words of the level that decided.
"""

from __future__ import annotations

from lineagelog.domain.step_settings import deciding_setting

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
    enabled, level = deciding_setting(run=run, step=step, pipeline=pipeline)
    if enabled:
        return None
    if level == "run":
        return "caching is disabled for this run: run(enable_cache=False) overrides every step"
    if level == "step":
        return f"caching is disabled for this step: step {step_name!r} has enable_cache=False"
    return (
        f"caching is disabled for this pipeline: pipeline {pipeline_name!r} has "
        "enable_cache=False and the step has no setting of its own"
    )
