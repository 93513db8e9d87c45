"""``log_metadata`` and ``log_artifact_metadata``: ZenML's metadata logging, as events.

Metadata goes to a step run (``StepRun.StepMetadataLogged``), a pipeline run
(``PipelineRun.RunMetadataLogged``) or an artifact version
(``ArtifactName.VersionMetadataLogged``), chosen by ZenML's rules:

======================================================  ==================================
call                                                    logs on
======================================================  ==================================
``log_metadata(m)`` inside a step                        the running step run
``log_metadata(m, step_id=...)``                         that step run
``log_metadata(m, step_name=..., run_id_name_or_prefix=...)``  that step of that run
``log_metadata(m, run_id_name_or_prefix=...)``           that run (id, name or id prefix)
``log_metadata(m, artifact_name=..., artifact_version=...)``   that artifact version
``log_metadata(m, artifact_version_id=...)``             that artifact version
``log_metadata(m, infer_artifact=True[, artifact_name=...])``  an output of the running step
``log_metadata(m, artifact_name=...)``                   the running step's output of that
                                                         name, else the name's latest version
======================================================  ==================================

Metadata for an output of the running step is recorded on its artifact
version when the output is saved, in the same append. A run shows the
metadata of its steps too, as ``step::key`` (``Run.run_metadata``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.api.step_context import StepContext, current_step_context
from lineagelog.domain.errors import InvalidMetadataError, StepContextError, StepRunNotFoundError
from lineagelog.domain.metadata import MetadataType, checked_metadata

if TYPE_CHECKING:
    from collections.abc import Callable

    from lineagelog.api.context import LineageContext

__all__ = ["log_artifact_metadata", "log_metadata"]

_NO_MODELS = (
    "ZenML's Model Control Plane is not part of lineagelog, so metadata cannot be logged on a "
    "model version ({given}); log it on the model's artifact version instead "
    "(artifact_name='model', artifact_version=...)"
)


def _stores(
    step_context: StepContext | None,
) -> tuple[LineageContext, Callable[[list[int]], object] | None]:
    """The run's stores inside a step (its log, its own positions), else the configured ones."""
    if step_context is not None:
        return step_context.lineage, step_context.on_saved
    from lineagelog.api.context import open_context

    return open_context(), None


def _full_id(context: LineageContext, given: UUID | str, kind: str) -> UUID:
    """The id of the run (or step run) ``given`` names: an id, a unique prefix, a run name."""
    from lineagelog.projections.references import References

    context.catch_up()  # a prefix or a run name is looked up in the views
    references = References(context.queries, None)
    return UUID(references.run(given) if kind == "run" else references.step_run(given))


def _log_on_step_run(
    context: LineageContext, step_run_id: UUID, metadata: dict[str, Any], on_saved: Any
) -> None:
    from lineagelog.domain.step_run import StepRun

    context.repository.change(
        step_run_id,
        StepRun,
        lambda step_run: step_run.log_metadata(metadata),
        on_saved=on_saved,
        what=f"log metadata on step run {step_run_id}",
    )


def _log_on_run(context: LineageContext, run_id: UUID, metadata: dict[str, Any]) -> None:
    from lineagelog.domain.run import PipelineRun

    context.repository.change(
        run_id,
        PipelineRun,
        lambda run: run.log_metadata(metadata),
        what=f"log metadata on run {run_id}",
    )


def _log_on_version(
    context: LineageContext, name: str, version: int | str | None, metadata: dict[str, Any]
) -> None:
    """Log on version ``version`` of ``name`` (the latest when None)."""
    from lineagelog.api.client import Client

    found = Client(_context=context).get_artifact_version(name, version)
    _log_on_version_of(context, found.name, found.number, metadata)


def _log_on_version_of(
    context: LineageContext, name: str, version: int, metadata: dict[str, Any]
) -> None:
    from lineagelog.domain.artifact_name import ArtifactName
    from lineagelog.domain.names import artifact_name_id

    context.repository.change(
        artifact_name_id(name),
        ArtifactName,
        lambda artifact: artifact.log_version_metadata(version, metadata),
        fastforward=True,  # a delete since it was kept must refuse this
        what=f"log metadata on artifact {name}:{version}",
    )


def _log_on_version_id(
    context: LineageContext, artifact_version_id: UUID | str, metadata: dict[str, Any]
) -> None:
    from lineagelog.domain.errors import ArtifactNotFoundError

    context.catch_up()
    text = str(artifact_version_id)
    record = context.queries.artifact_versions_by_id([text]).get(text)
    if record is None:
        raise ArtifactNotFoundError(
            f"no artifact version with id {text!r}; list versions with "
            "`lineagelog artifacts list NAME`"
        )
    _log_on_version_of(context, record.name, record.number, metadata)


def _step_of_run(context: LineageContext, step_name: str, run: UUID | str) -> UUID:
    run_id = _full_id(context, run, "run")
    context.catch_up()
    record = context.queries.get_run(str(run_id))
    step = record.steps.get(step_name)
    if step is None:
        raise StepRunNotFoundError(
            f"run {record.run_name!r} ({run_id}) has no step {step_name!r}; its steps are "
            f"{sorted(record.steps)}"
        )
    return UUID(step.id)


def _output_of_running_step(
    step_context: StepContext | None, artifact_name: str | None, metadata: dict[str, Any]
) -> None:
    if step_context is None:
        raise InvalidMetadataError(
            "log_metadata(infer_artifact=True) names an output of the running step, but no step "
            "is running; outside a step give artifact_name= and artifact_version=, or "
            "artifact_version_id="
        )
    try:
        step_context.add_output_metadata(metadata, output_name=artifact_name)
    except StepContextError as e:
        raise InvalidMetadataError(f"log_metadata(infer_artifact=True): {e}") from None


def log_metadata(
    metadata: dict[str, MetadataType],
    step_id: UUID | str | None = None,
    step_name: str | None = None,
    run_id_name_or_prefix: UUID | str | None = None,
    artifact_version_id: UUID | str | None = None,
    artifact_name: str | None = None,
    artifact_version: int | str | None = None,
    infer_artifact: bool = False,
    model_version_id: UUID | str | None = None,
    model_name: str | None = None,
    model_version: Any = None,
    infer_model: bool = False,
) -> None:
    """Log ``metadata`` on a step run, a run or an artifact version, by ZenML's rules.

    See the module's table for which arguments pick which target. Values must
    be metadata types (``lineagelog.domain.metadata``); every value is checked
    before anything is recorded.

    Raises:
        InvalidMetadataError: a value is not a metadata type, the arguments
            name no target (outside a step), or they name a model version.
        StepRunNotFoundError, RunNotFoundError, ArtifactNotFoundError: the target does not exist.
        DeletedVersionError: the artifact version was deleted.
    """
    checked_metadata(metadata)
    models = {
        "model_version_id": model_version_id,
        "model_name": model_name,
        "model_version": model_version,
        "infer_model": infer_model or None,
    }
    given_models = {k: v for k, v in models.items() if v is not None}
    if given_models:
        raise InvalidMetadataError(_NO_MODELS.format(given=given_models))
    step_context = current_step_context()
    if step_context is not None and step_context.on_worker:
        # Only the driver writes the log: what concerns the running step travels back to it.
        elsewhere = (step_id, run_id_name_or_prefix, artifact_version_id, artifact_version)
        if infer_artifact and all(t is None for t in elsewhere):
            _output_of_running_step(step_context, artifact_name, metadata)
            return
        targets = (step_id, step_name, run_id_name_or_prefix, artifact_version_id, artifact_name)
        if not infer_artifact and artifact_version is None and all(t is None for t in targets):
            step_context.defer_step_run_metadata(metadata)
            return
        step_context.lineage  # noqa: B018 (refuses, saying what a step on a worker can log)
    context, on_saved = _stores(step_context)
    if step_id is not None:
        _log_on_step_run(context, _full_id(context, step_id, "step run"), metadata, None)
    elif step_name is not None and run_id_name_or_prefix is not None:
        _log_on_step_run(
            context, _step_of_run(context, step_name, run_id_name_or_prefix), metadata, None
        )
    elif run_id_name_or_prefix is not None:
        _log_on_run(context, _full_id(context, run_id_name_or_prefix, "run"), metadata)
    elif artifact_name is not None and artifact_version is not None:
        _log_on_version(context, artifact_name, artifact_version, metadata)
    elif artifact_version_id is not None:
        _log_on_version_id(context, artifact_version_id, metadata)
    elif infer_artifact:
        _output_of_running_step(step_context, artifact_name, metadata)
    elif artifact_name is not None and step_name is None:
        log_artifact_metadata(metadata, artifact_name=artifact_name)
    elif step_name is None and artifact_version is None:
        if step_context is None:
            raise InvalidMetadataError(
                "log_metadata() was called outside of a step with no target; name one: "
                "step_id=, step_name= with run_id_name_or_prefix=, run_id_name_or_prefix=, "
                "artifact_name= with artifact_version=, or artifact_version_id="
            )
        _log_on_step_run(context, step_context.step_run.id, metadata, on_saved)
    else:
        raise InvalidMetadataError(
            f"log_metadata(step_name={step_name!r}, artifact_version={artifact_version!r}) names "
            "no target: step_name needs run_id_name_or_prefix, artifact_version needs "
            "artifact_name"
        )


def log_artifact_metadata(
    metadata: dict[str, MetadataType],
    artifact_name: str | None = None,
    artifact_version: int | str | None = None,
) -> None:
    """Log ``metadata`` on an artifact version (ZenML's older, artifact-only form).

    Inside a step, with no ``artifact_version``, ``artifact_name`` naming one of
    the step's outputs (or omitted, for a step with one output) logs on the
    version that output is about to become. Otherwise ``artifact_name`` is
    required and names a recorded artifact: version ``artifact_version``, or
    its latest version.

    Raises:
        InvalidMetadataError: a value is not a metadata type, or no artifact is named.
        ArtifactNotFoundError: no such artifact or version.
        DeletedVersionError: the artifact version was deleted.
    """
    checked_metadata(metadata)
    step_context = current_step_context()
    outputs = step_context.output_names if step_context is not None else ()
    artifact_names = (
        {step_context.planned(o).artifact_name for o in outputs} if step_context else set()
    )
    for_output = (
        step_context is not None
        and artifact_version is None
        and (
            artifact_name in outputs
            or artifact_name in artifact_names
            or (artifact_name is None and len(outputs) == 1)
        )
    )
    if for_output:
        assert step_context is not None
        step_context.add_output_metadata(metadata, output_name=artifact_name)
        return
    if artifact_name is None:
        raise InvalidMetadataError(
            "log_artifact_metadata() needs artifact_name= unless it is called inside a step "
            "with a single output"
            + (f" (the running step has the outputs {list(outputs)})" if step_context else "")
        )
    context, _ = _stores(step_context)
    _log_on_version(context, artifact_name, artifact_version, metadata)
