"""``@step``: a function whose every execution becomes events and artifacts."""

from __future__ import annotations

import ast
import copy
import dataclasses
import functools
import inspect
import textwrap
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, get_args, get_origin, overload

from lineagelog.adapters.materializers.sources import module_source
from lineagelog.api.active_dag import current_builder
from lineagelog.api.artifact_config import ArtifactConfig
from lineagelog.api.code_hash import CodeHash, code_hash_of
from lineagelog.api.naming import check_printable_name, format_name_template, probe_template
from lineagelog.api.options import (
    check_options,
    configure_switches,
    jsonable_mapping,
    merged,
    recordable_mapping,
    substitution_texts,
)
from lineagelog.domain.errors import PipelineDefinitionError
from lineagelog.domain.names import check_artifact_name

__all__ = ["OutputSpec", "Step", "step"]


@dataclass(frozen=True)
class OutputSpec:
    """A declared step output: its name, the artifact name if given, its type.

    ``config`` is the output's ``ArtifactConfig`` (version, tags, run metadata,
    artifact type), when its annotation has one.
    """

    name: str
    artifact_name: str | None
    data_type: Any  # a type, or Any when the annotation does not say
    config: ArtifactConfig | None = None


def _split_annotated(annotation: Any) -> tuple[Any, str | None, ArtifactConfig | None]:
    """``Annotated[T, "name"]`` or ``Annotated[T, ArtifactConfig(...)]``: T, name, config."""
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        names = [extra for extra in extras if isinstance(extra, str)]
        configs = [extra for extra in extras if isinstance(extra, ArtifactConfig)]
        config = configs[0] if configs else None
        if config is not None and config.name is not None:
            if names and names[0] != config.name:
                raise PipelineDefinitionError(
                    f"output annotation {annotation!r} names the artifact {names[0]!r} and "
                    f"ArtifactConfig(name={config.name!r}); give the name once"
                )
            names = [config.name]
        return base, (names[0] if names else None), config
    return annotation, None, None


class _TupleReturnFinder(ast.NodeVisitor):
    """Finds a ``return`` of a tuple literal of two or more values in one function body.

    Functions, lambdas and classes nested in the body are not entered: their
    returns are not the step's.
    """

    def __init__(self) -> None:
        self.found = False
        self._depth = 0

    def _enter(self, node: ast.AST) -> None:
        self._depth += 1
        if self._depth == 1:
            self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = _enter
    visit_AsyncFunctionDef = _enter

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return None

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        return None

    def visit_Return(self, node: ast.Return) -> None:
        if isinstance(node.value, ast.Tuple) and len(node.value.elts) > 1:
            self.found = True


def returns_tuple_literal(func: Callable[..., Any]) -> bool | None:
    """Whether a ``return`` of ``func`` is followed by a tuple literal (``return a, b``).

    This is ZenML's rule to tell several outputs from one output of type tuple:
    ``return a, b`` or ``return (a, b)`` makes several, ``return pair`` one.
    None when the source cannot be read (a function made by ``exec``).

    Examples:
        >>> def several():
        ...     return 1, 2
        >>> def one():
        ...     pair = (1, 2)
        ...     return pair
        >>> returns_tuple_literal(several), returns_tuple_literal(one)
        (True, False)
    """
    try:
        source = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    finder = _TupleReturnFinder()
    finder.visit(tree)
    return finder.found


def parse_outputs(func: Callable[..., Any]) -> tuple[OutputSpec, ...]:
    """Read a step's outputs from its return annotation and its return statements.

    ``Annotated[T, "name"]`` names an output (and its artifact). A tuple
    annotation declares several outputs only when a ``return`` is followed by a
    tuple literal (``return a, b``), as in ZenML; a step returning a tuple held
    in a variable has one output of type tuple. Unnamed outputs are ``output``,
    or ``output_0``, ``output_1``... among several. ``-> None`` declares no output.
    When the source cannot be read, a fixed-length tuple annotation declares
    one output per member.
    """
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as e:  # a forward reference that does not resolve here
        raw = getattr(func, "__annotations__", {}).get("return")
        if isinstance(raw, str) and ("Annotated" in raw or raw.lower().startswith("tuple")):
            raise PipelineDefinitionError(
                f"cannot read the outputs of step {func.__name__!r} from its return "
                f"annotation {raw!r}: {e}; output names and counts must resolve when the step "
                "is defined (import the types it names at module level, not under TYPE_CHECKING)"
            ) from None
        if raw == "None":
            return ()
        # One output whose type does not resolve here: the value's runtime type picks
        # its materializer.
        return (OutputSpec("output", None, Any),)
    if "return" not in hints:
        return (OutputSpec("output", None, Any),)
    annotation = hints["return"]
    if annotation is None or annotation is type(None):
        return ()
    base, name, config = _split_annotated(annotation)
    if get_origin(base) is tuple and name is None and config is None:
        return _tuple_outputs(func, get_args(base))
    return (OutputSpec(name or "output", name, base, config),)


def _tuple_outputs(func: Callable[..., Any], members: tuple[Any, ...]) -> tuple[OutputSpec, ...]:
    literal = returns_tuple_literal(func)
    variable_length = not members or members[-1] is Ellipsis
    if literal is False or (literal is None and variable_length):
        return (OutputSpec("output", None, tuple),)
    if variable_length:
        raise PipelineDefinitionError(
            f"step {func.__name__!r} returns a tuple literal, so each value is an output, but "
            "its annotation is a tuple of any length; name each output's type "
            "(-> tuple[int, str]) or return one tuple held in a variable for one output"
        )
    specs = []
    for index, member in enumerate(members):
        member_type, member_name, config = _split_annotated(member)
        specs.append(OutputSpec(member_name or f"output_{index}", member_name, member_type, config))
    seen = [s.name for s in specs]
    if len(set(seen)) != len(seen):
        raise PipelineDefinitionError(
            f"step {func.__name__!r} declares the output names {seen}; names must be unique"
        )
    return tuple(specs)


_STEP_OPTIONS = [
    "name",
    "enable_cache",
    "enable_artifact_metadata",
    "enable_artifact_visualization",
    "parameters",
    "output_materializers",
    "extra",
    "substitutions",
]


class Step:
    """A step: call it inside a ``@pipeline`` to add an invocation to the DAG.

    Called outside a pipeline, it simply runs the function. ``configure`` and
    ``with_options`` change its options as in ZenML.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        enable_cache: bool | None = None,
        enable_artifact_metadata: bool | None = None,
        enable_artifact_visualization: bool | None = None,
        output_materializers: Any = None,
        parameters: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        substitutions: dict[str, str] | None = None,
        **options: Any,
    ) -> None:
        """Wrap ``func``; see ``step`` for the options."""
        if not callable(func):
            raise PipelineDefinitionError(f"@step needs a function, got {func!r}")
        self.func = func
        self.name = func.__name__
        self.enable_cache: bool | None = None
        self.enable_artifact_metadata: bool | None = None
        self.enable_artifact_visualization: bool | None = None
        self.signature = inspect.signature(func)
        self.outputs = parse_outputs(func)
        for spec in self.outputs:
            if spec.artifact_name is not None:
                check_artifact_name(probe_template(spec.artifact_name))
        self.output_materializers: dict[str, Any] = {}
        self.parameters: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}
        self.substitutions: dict[str, str] = {}
        self.source_ref = f"{module_source(func.__module__)}:{func.__qualname__}"
        functools.update_wrapper(self, func)
        self._code_hash: CodeHash | None = None
        self.configure(
            name=name,
            enable_cache=enable_cache,
            enable_artifact_metadata=enable_artifact_metadata,
            enable_artifact_visualization=enable_artifact_visualization,
            output_materializers=output_materializers,
            parameters=parameters,
            extra=extra,
            substitutions=substitutions,
            **options,
        )

    def configure(
        self,
        *,
        name: str | None = None,
        enable_cache: bool | None = None,
        enable_artifact_metadata: bool | None = None,
        enable_artifact_visualization: bool | None = None,
        parameters: dict[str, Any] | None = None,
        output_materializers: Any = None,
        extra: dict[str, Any] | None = None,
        substitutions: dict[str, str] | None = None,
        merge: bool = True,
        **options: Any,
    ) -> Step:
        """Change this step's options in place and return it, as ZenML's ``configure``.

        Options left as None keep their value. With ``merge=True`` the dict
        options (``parameters``, ``output_materializers``, ``extra``,
        ``substitutions``) are merged into the current ones, else replace them.
        ``parameters`` sets values of the function's parameters that a call in
        the pipeline does not pass. ZenML options of parts lineagelog does not
        have (``settings``, ``model``, ``step_operator``, hooks...) are refused.

        Raises:
            PipelineDefinitionError: an unknown or out-of-scope option, or a bad value.

        Examples:
            >>> @step
            ... def train(lr: float) -> float:
            ...     return lr
            >>> train.configure(enable_cache=False, parameters={"lr": 0.1}).enable_cache
            False
        """
        owner = f"step {self.name!r}"
        check_options(owner, options, _STEP_OPTIONS)
        if name is not None:
            if not isinstance(name, str) or not name.strip():
                raise PipelineDefinitionError(
                    f"{owner}: name={name!r} is not a name; give a non-empty string"
                )
            check_printable_name("step name", name)
            self.name = name
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
            self._check_parameter_names(given)
            self.parameters = merged(self.parameters, given, merge)
        if output_materializers is not None:
            overrides = self._materializer_overrides(output_materializers)
            self.output_materializers = merged(self.output_materializers, overrides, merge)
        if extra is not None:
            self.extra = merged(self.extra, jsonable_mapping(owner, "extra", extra), merge)
        if substitutions is not None:
            texts = substitution_texts(owner, substitutions)
            self.substitutions = merged(self.substitutions, texts, merge)
        return self

    def with_options(
        self,
        *,
        name: str | None = None,
        enable_cache: bool | None = None,
        enable_artifact_metadata: bool | None = None,
        enable_artifact_visualization: bool | None = None,
        parameters: dict[str, Any] | None = None,
        output_materializers: Any = None,
        extra: dict[str, Any] | None = None,
        substitutions: dict[str, str] | None = None,
        merge: bool = True,
        **options: Any,
    ) -> Step:
        """A copy of this step with ``configure(...)`` applied; this step is unchanged."""
        twin = copy.copy(self)
        twin.output_materializers = dict(self.output_materializers)
        twin.parameters = dict(self.parameters)
        twin.extra = dict(self.extra)
        twin.substitutions = dict(self.substitutions)
        return twin.configure(
            name=name,
            enable_cache=enable_cache,
            enable_artifact_metadata=enable_artifact_metadata,
            enable_artifact_visualization=enable_artifact_visualization,
            parameters=parameters,
            output_materializers=output_materializers,
            extra=extra,
            substitutions=substitutions,
            merge=merge,
            **options,
        )

    def with_artifact_names_for_run(self, substitutions: dict[str, str], now: datetime) -> Step:
        """This step, or a copy whose artifact name templates are filled for one run.

        An ``Annotated`` name such as ``"model_{date}"`` or ``"data_{experiment}"``
        is formatted with the run's date and time and the substitutions (the
        pipeline's, then the step's); the output keeps its template as its name,
        so the cache sees the same outputs from run to run.

        Raises:
            PipelineDefinitionError: a placeholder no substitution fills.
            InvalidArtifactNameError: the filled name is not a valid artifact name.
        """
        templated = [s for s in self.outputs if s.artifact_name and "{" in s.artifact_name]
        if not templated:
            return self
        values = {**substitutions, **self.substitutions}
        outputs = []
        for spec in self.outputs:
            if spec in templated:
                assert spec.artifact_name is not None
                filled = format_name_template(
                    spec.artifact_name,
                    values,
                    now=now,
                    what=f"artifact name of output {spec.name!r} of step {self.name!r}",
                )
                spec = dataclasses.replace(spec, artifact_name=check_artifact_name(filled))
            outputs.append(spec)
        twin = copy.copy(self)
        twin.outputs = tuple(outputs)
        return twin

    def _check_parameter_names(self, given: dict[str, Any]) -> None:
        named = {
            p.name
            for p in self.signature.parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
        takes_any = any(p.kind is p.VAR_KEYWORD for p in self.signature.parameters.values())
        unknown = sorted(set(given) - named)
        if unknown and not takes_any:
            raise PipelineDefinitionError(
                f"step {self.name!r}: parameters names {unknown}, which its function does not "
                f"take; its parameters are {sorted(named)}"
            )

    def _materializer_overrides(self, given: Any) -> dict[str, Any]:
        if given is None:
            return {}
        if isinstance(given, dict):
            unknown = set(given) - {spec.name for spec in self.outputs}
            if unknown:
                raise PipelineDefinitionError(
                    f"output_materializers of step {self.name!r} names unknown output(s) "
                    f"{sorted(unknown)}; its outputs are {[s.name for s in self.outputs]}"
                )
            return dict(given)
        if len(self.outputs) != 1:
            raise PipelineDefinitionError(
                f"step {self.name!r} has {len(self.outputs)} outputs; pass output_materializers "
                "as a dict by output name"
            )
        return {self.outputs[0].name: given}

    def _hashed(self) -> CodeHash:
        if self._code_hash is None:
            self._code_hash = code_hash_of(self.func)
        return self._code_hash

    @property
    def code_hash(self) -> str:
        """The hash of the step's code and what it computes with (once per process).

        See ``lineagelog.api.code_hash`` for what is hashed and how.
        """
        return self._hashed().digest

    @property
    def uncacheable_reason(self) -> str | None:
        """Why this step must not be cached whatever its setting, or None.

        A step whose code uses a value without a canonical encoding (a model
        object in a closure or a global) has an incomplete code hash: serving it
        from the cache could return another value's result.
        """
        unhashable = self._hashed().unhashable
        return None if unhashable is None else unhashable.describe(self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Add an invocation to the pipeline being built, or run the function directly.

        Inside a pipeline, ``id="..."`` names the invocation and ``after="..."``
        (or a list) names invocations that must run first, as in ZenML; both
        are the function's own arguments when it declares parameters of those
        names.
        """
        builder = current_builder()
        if builder is None:
            return self.func(*args, **kwargs)
        takes = self.signature.parameters
        invocation_id = None if "id" in takes else kwargs.pop("id", None)
        after = None if "after" in takes else kwargs.pop("after", None)
        return builder.add_invocation(self, args, kwargs, invocation_id=invocation_id, after=after)

    def __repr__(self) -> str:
        return f"<step {self.name!r} ({self.source_ref})>"


@overload
def step(func: Callable[..., Any], /) -> Step: ...


@overload
def step(
    *,
    name: str | None = None,
    enable_cache: bool | None = None,
    enable_artifact_metadata: bool | None = None,
    enable_artifact_visualization: bool | None = None,
    output_materializers: Any = None,
    parameters: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    substitutions: dict[str, str] | None = None,
    **options: Any,
) -> Callable[[Callable[..., Any]], Step]: ...


def step(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    enable_cache: bool | None = None,
    enable_artifact_metadata: bool | None = None,
    enable_artifact_visualization: bool | None = None,
    output_materializers: Any = None,
    parameters: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    substitutions: dict[str, str] | None = None,
    **options: Any,
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Turn a function into a pipeline step.

    Parameters:
        name: the step's name (default: the function's name).
        enable_cache: False to always execute, True to cache even when the
            pipeline's setting is False; None follows the pipeline. A run's
            own setting (``pipeline.run(enable_cache=...)``) overrides both.
        enable_artifact_metadata: False to record no metadata of the outputs
            (``extract_metadata`` is not called); same precedence as ``enable_cache``.
        enable_artifact_visualization: False to save no visualizations of the
            outputs (``save_visualizations`` is not called); same precedence.
        output_materializers: a materializer class for the single output, or a
            dict from output name to materializer class.
        parameters: values for the function's parameters a call does not pass.
        extra: free JSON values recorded with the run's DAG.
        substitutions: values for placeholders in name templates.
        options: ZenML options lineagelog does not have are refused with a
            message (``settings``, ``model``, ``step_operator``...).

    Examples:
        >>> @step
        ... def double(x: int) -> int:
        ...     return 2 * x
        >>> double(21)  # outside a pipeline, a step is a plain function
        42
    """
    if func is not None:
        return Step(func)

    def decorate(f: Callable[..., Any]) -> Step:
        return Step(
            f,
            name=name,
            enable_cache=enable_cache,
            enable_artifact_metadata=enable_artifact_metadata,
            enable_artifact_visualization=enable_artifact_visualization,
            output_materializers=output_materializers,
            parameters=parameters,
            extra=extra,
            substitutions=substitutions,
            **options,
        )

    return decorate
