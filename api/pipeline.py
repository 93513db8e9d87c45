"""``@pipeline``: calling it builds the DAG from its step calls, then runs it here."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

from lineagelog.api.building import building
from lineagelog.domain.canonical import to_jsonable
from lineagelog.domain.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from lineagelog.api.models import Run

__all__ = ["Pipeline", "pipeline"]


class Pipeline:
    """A pipeline: call it with its parameters to run it and get the run back."""

    def __init__(
        self, func: Callable[..., Any], *, name: str | None = None, enable_cache: bool = True
    ) -> None:
        """Wrap ``func``; see ``pipeline`` for the options."""
        self.func = func
        self.name = name or func.__name__
        self.enable_cache = enable_cache
        self.signature = inspect.signature(func)
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Run:
        """Run the pipeline now, in this process; return the run's post-execution view.

        Raises:
            RunFailedError: a step raised; ``run_id`` names the failed run.
        """
        return self.run(*args, **kwargs)

    def run(
        self,
        *args: Any,
        run_name: str | None = None,
        enable_cache: bool | None = None,
        database_url: str | None = None,
        artifact_store: str | None = None,
        **kwargs: Any,
    ) -> Run:
        """Run with explicit options (run name, cache, stores) besides the parameters."""
        from lineagelog.api.context import open_context  # the stores load on first run
        from lineagelog.api.models import Run
        from lineagelog.api.runner import PipelineRunner

        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} called with arguments that do not fit "
                f"{self.signature}: {e}"
            ) from None
        bound.apply_defaults()
        parameters: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            try:
                parameters[name] = to_jsonable(value)
            except TypeError as e:
                raise PipelineDefinitionError(
                    f"parameter {name!r} of pipeline {self.name!r} is not JSON-serializable ({e}); "
                    "pass plain values (numbers, strings, lists, dicts)"
                ) from None
        with building(self.name) as builder:
            self.func(*bound.args, **bound.kwargs)
        if not builder.invocations:
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} called no steps; call @step functions inside it"
            )
        context = open_context(database_url, artifact_store)
        runner = PipelineRunner(
            context,
            pipeline=self.name,
            enable_cache=self.enable_cache if enable_cache is None else enable_cache,
            run_name=run_name or f"{self.name}-{datetime.now(UTC):%Y_%m_%d-%H_%M_%S_%f}",
        )
        run_id = runner.run(builder, parameters)  # raises RunFailedError when a step fails
        context.catch_up()
        return Run.from_record(context, context.queries.get_run(str(run_id)))

    def __repr__(self) -> str:
        return f"<pipeline {self.name!r}>"


@overload
def pipeline(func: Callable[..., Any], /) -> Pipeline: ...


@overload
def pipeline(
    *, name: str | None = None, enable_cache: bool = True
) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    enable_cache: bool = True,
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Turn a function that calls steps into a pipeline.

    Parameters:
        name: the pipeline's name (default: the function's name).
        enable_cache: False to execute every step, whatever the cache holds.
    """
    if func is not None:
        return Pipeline(func)

    def decorate(f: Callable[..., Any]) -> Pipeline:
        return Pipeline(f, name=name, enable_cache=enable_cache)

    return decorate
