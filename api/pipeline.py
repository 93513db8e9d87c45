"""``@pipeline``: calling it builds the DAG from its step calls, then runs it here."""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

from lineagelog.api.building import ArtifactSettings, building
from lineagelog.api.executors import (
    ExecutorChoice,
    OnFailure,
    checked_executor,
    checked_on_failure,
    executor_for,
)
from lineagelog.api.naming import check_printable_name, default_run_name, format_name_template
from lineagelog.api.options import (
    check_options,
    checked_switches,
    configure_switches,
    jsonable_mapping,
    merged,
    recordable_mapping,
    substitution_texts,
)
from lineagelog.api.tagging import Tag, as_tags
from lineagelog.domain.canonical import to_jsonable, typed_jsonable
from lineagelog.domain.errors import PipelineDefinitionError

if TYPE_CHECKING:
    from lineagelog.api.models import PipelineModel, Run

__all__ = ["Pipeline", "pipeline"]

_PIPELINE_OPTIONS = [
    "enable_cache",
    "enable_artifact_metadata",
    "enable_artifact_visualization",
    "parameters",
    "extra",
    "substitutions",
    "tags",
    "executor",
    "on_failure",
]
_WITH_OPTIONS = ["run_name", "steps", "step_configurations", *_PIPELINE_OPTIONS]


class Pipeline:
    """A pipeline: call it with its parameters to run it and get the run back.

    ``configure`` and ``with_options`` change its options as in ZenML.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        enable_cache: bool | None = None,
        enable_artifact_metadata: bool | None = None,
        enable_artifact_visualization: bool | None = None,
        parameters: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        substitutions: dict[str, str] | None = None,
        tags: Sequence[str | Tag] | None = None,
        executor: ExecutorChoice | None = None,
        on_failure: OnFailure | None = None,
        **options: Any,
    ) -> None:
        """Wrap ``func``; see ``pipeline`` for the options."""
        self.func = func
        self.name = name or func.__name__
        if not isinstance(self.name, str) or not self.name.strip():
            raise PipelineDefinitionError(
                f"pipeline name {self.name!r} is not a name; give a non-empty string"
            )
        check_printable_name("pipeline name", self.name)
        self.enable_cache: bool | None = None
        self.enable_artifact_metadata: bool | None = None
        self.enable_artifact_visualization: bool | None = None
        self.parameters: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}
        self.substitutions: dict[str, str] = {}
        self.tags: list[Tag] = []
        self.run_name: str | None = None
        self.step_options: dict[str, dict[str, Any]] = {}
        self.executor: ExecutorChoice | None = None
        self.on_failure: OnFailure | None = None
        self.signature = inspect.signature(func)
        functools.update_wrapper(self, func)
        self.configure(
            enable_cache=enable_cache,
            enable_artifact_metadata=enable_artifact_metadata,
            enable_artifact_visualization=enable_artifact_visualization,
            parameters=parameters,
            extra=extra,
            substitutions=substitutions,
            tags=tags,
            executor=executor,
            on_failure=on_failure,
            **options,
        )

    def configure(
        self,
        *,
        enable_cache: bool | None = None,
        enable_artifact_metadata: bool | None = None,
        enable_artifact_visualization: bool | None = None,
        parameters: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        substitutions: dict[str, str] | None = None,
        tags: Sequence[str | Tag] | None = None,
        executor: ExecutorChoice | None = None,
        on_failure: OnFailure | None = None,
        merge: bool = True,
        **options: Any,
    ) -> Pipeline:
        """Change this pipeline's options in place and return it, as ZenML's ``configure``.

        ``enable_cache`` is the setting of every step that has none of its own
        (a step's ``enable_cache`` wins over it, as in ZenML; only
        ``run(enable_cache=...)`` overrides every step). ``parameters`` gives
        the pipeline function's arguments a call does not pass. With
        ``merge=True`` dict options merge into the current ones, else replace
        them. ``tags`` (names or ``Tag`` objects) go on every run of the
        pipeline; with ``merge=True`` they are added to the current ones, as
        ZenML merges the tags given in each place. ``executor`` says where its
        steps run (``lineagelog.api.executors``); ``on_failure="continue"`` keeps
        running the steps that do not depend on a failed one. ZenML options of parts
        lineagelog does not have (``settings``, ``model``, ``schedule``...) are
        refused.

        Raises:
            PipelineDefinitionError: an unknown or out-of-scope option, or a bad value.
            InvalidTagError: a tag that is not a usable name or ``Tag``.
            ExecutorError: an ``executor`` or ``on_failure`` that names nothing.
        """
        owner = f"pipeline {self.name!r}"
        check_options(owner, options, _PIPELINE_OPTIONS)
        if executor is not None:
            self.executor = checked_executor(owner, executor)
        if on_failure is not None:
            self.on_failure = checked_on_failure(owner, on_failure)
        configure_switches(
            owner,
            self,
            {
                "enable_cache": enable_cache,
                "enable_artifact_metadata": enable_artifact_metadata,
                "enable_artifact_visualization": enable_artifact_visualization,
            },
        )
        if parameters is not None:
            given = recordable_mapping(owner, "parameters", parameters)
            unknown = sorted(set(given) - set(self.signature.parameters))
            if unknown:
                raise PipelineDefinitionError(
                    f"{owner}: parameters names {unknown}, which its function does not take; "
                    f"its parameters are {list(self.signature.parameters)}"
                )
            self.parameters = merged(self.parameters, given, merge)
        if extra is not None:
            self.extra = merged(self.extra, jsonable_mapping(owner, "extra", extra), merge)
        if substitutions is not None:
            texts = substitution_texts(owner, substitutions)
            self.substitutions = merged(self.substitutions, texts, merge)
        if tags is not None:
            given_tags = as_tags(tags, owner)
            self.tags = as_tags([*self.tags, *given_tags], owner) if merge else given_tags
        return self

    def with_options(
        self,
        *,
        run_name: str | None = None,
        steps: Mapping[str, Mapping[str, Any]] | None = None,
        step_configurations: Mapping[str, Mapping[str, Any]] | None = None,
        enable_cache: bool | None = None,
        enable_artifact_metadata: bool | None = None,
        enable_artifact_visualization: bool | None = None,
        parameters: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        substitutions: dict[str, str] | None = None,
        tags: Sequence[str | Tag] | None = None,
        executor: ExecutorChoice | None = None,
        on_failure: OnFailure | None = None,
        merge: bool = True,
        **options: Any,
    ) -> Pipeline:
        """A copy of this pipeline with options applied; this pipeline is unchanged.

        ``run_name`` is a template for the name of the runs of the copy
        (``"training_{date}_{time}"``, placeholders from ``substitutions``);
        ``steps`` (or ``step_configurations``) maps invocation ids to step
        options (``{"trainer": {"enable_cache": False}}``). The other options
        are ``configure``'s.

        Raises:
            PipelineDefinitionError: an unknown or out-of-scope option, or a bad value.
        """
        owner = f"pipeline {self.name!r}"
        check_options(owner, options, _WITH_OPTIONS)
        twin = copy.copy(self)
        twin.parameters = dict(self.parameters)
        twin.extra = dict(self.extra)
        twin.substitutions = dict(self.substitutions)
        twin.tags = list(self.tags)
        twin.step_options = {key: dict(value) for key, value in self.step_options.items()}
        twin.configure(
            enable_cache=enable_cache,
            enable_artifact_metadata=enable_artifact_metadata,
            enable_artifact_visualization=enable_artifact_visualization,
            parameters=parameters,
            extra=extra,
            substitutions=substitutions,
            tags=tags,
            executor=executor,
            on_failure=on_failure,
            merge=merge,
        )
        if run_name is not None:
            if not isinstance(run_name, str) or not run_name.strip():
                raise PipelineDefinitionError(
                    f"{owner}: run_name={run_name!r} is not a name; give a non-empty string"
                )
            twin.run_name = run_name
        for given in (steps, step_configurations):
            for invocation_id, step_options in (given or {}).items():
                if not isinstance(step_options, Mapping):
                    raise PipelineDefinitionError(
                        f"{owner}: the options of step {invocation_id!r} must be a dict such "
                        f"as {{'enable_cache': False}}, got {step_options!r}"
                    )
                merged = {**twin.step_options.get(invocation_id, {}), **step_options}
                twin.step_options[invocation_id] = merged
        return twin

    def __call__(self, *args: Any, **kwargs: Any) -> Run:
        """Run the pipeline now, in this process; return the run's post-execution view.

        Raises:
            RunFailedError: a step raised; ``run_id`` names the failed run.
        """
        return self.run(*args, **kwargs)

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> inspect.BoundArguments:
        try:
            given = self.signature.bind_partial(*args, **kwargs).arguments
            completed = dict(kwargs)
            for name, value in self.parameters.items():
                if name not in given:
                    completed[name] = value
                elif _typed_or_none(given[name]) != _typed_or_none(value):
                    raise PipelineDefinitionError(
                        f"parameter {name!r} of pipeline {self.name!r} is configured as "
                        f"{value!r} and passed as {given[name]!r}; set it in one place only"
                    )
            bound = self.signature.bind(*args, **completed)
        except TypeError as e:
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} called with arguments that do not fit "
                f"{self.signature}: {e}"
            ) from None
        bound.apply_defaults()
        return bound

    def run(
        self,
        *args: Any,
        run_name: str | None = None,
        enable_cache: bool | None = None,
        enable_artifact_metadata: bool | None = None,
        enable_artifact_visualization: bool | None = None,
        database_url: str | None = None,
        artifact_store: str | None = None,
        executor: ExecutorChoice | None = None,
        on_failure: OnFailure | None = None,
        **kwargs: Any,
    ) -> Run:
        """Run with explicit options (run name, cache, stores) besides the parameters.

        ``run_name`` may be a template (``"{date}"``, ``"{time}"``, substitutions);
        ``enable_cache``, ``enable_artifact_metadata`` and ``enable_artifact_visualization``
        here are the run's settings and override every step's. ``executor`` and
        ``on_failure`` override the pipeline's for this run.

        Raises:
            RunFailedError: a step failed; ``run_id`` names the run.
            ExecutorError: the executor cannot run the steps (no cluster, a store its
                workers cannot reach, a step that cannot travel there).
        """
        from lineagelog.api.context import open_context  # the stores load on first run
        from lineagelog.api.models import Run
        from lineagelog.api.runner import PipelineRunner

        if enable_cache is not None and not isinstance(enable_cache, bool):
            raise PipelineDefinitionError(
                f"pipeline {self.name!r}: run(enable_cache={enable_cache!r}) must be True, "
                "False or None"
            )
        run_switches = checked_switches(
            f"pipeline {self.name!r}: run()",
            {
                "enable_artifact_metadata": enable_artifact_metadata,
                "enable_artifact_visualization": enable_artifact_visualization,
            },
        )
        owner = f"pipeline {self.name!r}: run()"
        run_executor = None if executor is None else checked_executor(owner, executor)
        failure_mode = (
            checked_on_failure(owner, on_failure) if on_failure is not None else self.on_failure
        )
        bound = self._bind(args, kwargs)
        parameters: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            try:
                parameters[name] = to_jsonable(value)
            except TypeError as e:
                raise PipelineDefinitionError(
                    f"parameter {name!r} of pipeline {self.name!r} cannot be recorded ({e}); "
                    "pass plain values (numbers, strings, lists, dicts)"
                ) from None
        now = datetime.now(UTC)
        template = run_name or self.run_name
        name = (
            default_run_name(self.name, now=now)
            if template is None
            else format_name_template(template, self.substitutions, now=now, what="run name")
        )
        check_printable_name("run name", name)
        with building(self.name, self.step_options, self.extra) as builder:
            self.func(*bound.args, **bound.kwargs)
        if not builder.invocations:
            raise PipelineDefinitionError(
                f"pipeline {self.name!r} called no steps; call @step functions inside it"
            )
        builder.finish(
            run_cache=enable_cache,
            pipeline_cache=self.enable_cache,
            run_artifacts=ArtifactSettings.of(run_switches),
            pipeline_artifacts=ArtifactSettings(
                self.enable_artifact_metadata, self.enable_artifact_visualization
            ),
            substitutions=self.substitutions,
            now=now,
        )
        context = open_context(database_url, artifact_store)
        runner = PipelineRunner(
            context,
            pipeline=self.name,
            enable_cache=enable_cache
            if enable_cache is not None
            else self.enable_cache is not False,
            run_name=name,
            tags=self.tags,
            executor=executor_for(run_executor, self.executor),
            on_failure=failure_mode or "stop",
        )
        run_id = runner.run(builder, parameters)  # raises RunFailedError when a step fails
        context.catch_up()
        return Run.from_record(context, context.queries.get_run(str(run_id)))

    @property
    def model(self) -> PipelineModel:
        """This pipeline as the configured store knows it (ZenML's ``my_pipeline.model``).

        Raises:
            PipelineNotFoundError: it has not run there yet.

        """
        from lineagelog.api.client import Client

        return Client().get_pipeline(self.name)

    @property
    def last_run(self) -> Run:
        """The newest run of this pipeline in the configured store."""
        return self.model.last_run

    @property
    def runs(self) -> list[Run]:
        """Every run of this pipeline in the configured store, newest first."""
        return self.model.runs

    def __repr__(self) -> str:
        return f"<pipeline {self.name!r}>"


def _typed_or_none(value: Any) -> Any:
    try:
        return typed_jsonable(value)
    except TypeError:
        return None


@overload
def pipeline(func: Callable[..., Any], /) -> Pipeline: ...


@overload
def pipeline(
    *,
    name: str | None = None,
    enable_cache: bool | None = None,
    enable_artifact_metadata: bool | None = None,
    enable_artifact_visualization: bool | None = None,
    parameters: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    substitutions: dict[str, str] | None = None,
    tags: Sequence[str | Tag] | None = None,
    executor: ExecutorChoice | None = None,
    on_failure: OnFailure | None = None,
    **options: Any,
) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    enable_cache: bool | None = None,
    enable_artifact_metadata: bool | None = None,
    enable_artifact_visualization: bool | None = None,
    parameters: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    substitutions: dict[str, str] | None = None,
    tags: Sequence[str | Tag] | None = None,
    executor: ExecutorChoice | None = None,
    on_failure: OnFailure | None = None,
    **options: Any,
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Turn a function that calls steps into a pipeline.

    Parameters:
        name: the pipeline's name (default: the function's name).
        enable_cache: False to execute every step that has no ``enable_cache``
            of its own; a step's own setting wins, as in ZenML.
        enable_artifact_metadata: False to record no output metadata in steps
            without a setting of their own (``extract_metadata`` is not called).
        enable_artifact_visualization: False to save no output visualizations
            in steps without a setting of their own.
        parameters: the function's arguments a call does not pass.
        extra: free JSON values recorded with each run's DAG.
        substitutions: values for placeholders of run name templates.
        tags: tags for every run: names, or ``Tag(name=..., exclusive=...,
            cascade=...)``; a cascade tag also goes on the run's new outputs.
        executor: where the steps run: ``"local"`` (this process, the default),
            ``"dask"``, ``"dask://HOST:PORT"`` or ``DaskExecutor(...)``.
        on_failure: ``"stop"`` (the default) starts no step after one fails;
            ``"continue"`` runs every step that does not depend on a failed one.
        options: ZenML options lineagelog does not have are refused with a
            message (``settings``, ``model``, ``schedule``...).
    """
    if func is not None:
        return Pipeline(func)

    def decorate(f: Callable[..., Any]) -> Pipeline:
        return Pipeline(
            f,
            name=name,
            enable_cache=enable_cache,
            enable_artifact_metadata=enable_artifact_metadata,
            enable_artifact_visualization=enable_artifact_visualization,
            parameters=parameters,
            extra=extra,
            substitutions=substitutions,
            tags=tags,
            executor=executor,
            on_failure=on_failure,
            **options,
        )

    return decorate
