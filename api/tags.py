"""``add_tags`` and ``remove_tags``, with ZenML's signature and targeting rules.

Which keyword arguments are given decides what is tagged, exactly one way
each (anything else is refused with the list of ways):

- nothing, inside a step: the run of that step;
- ``run``: a run by id, name or id prefix;
- ``artifact_version_id``, or ``artifact_name`` with ``artifact_version``: an artifact version;
- ``infer_artifact=True`` (and ``artifact_name`` for a step with several
  outputs), inside a step: the version of that output, when it is recorded.

ZenML's pipeline, artifact (as opposed to artifact version), run template,
snapshot and deployment targets have no counterpart here; they are refused
with what to tag instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.api.step_context import StepContext, current_step_context
from lineagelog.api.tagging import Tag, Tagger, as_tags
from lineagelog.domain.artifact_name import check_tag
from lineagelog.domain.errors import (
    InvalidTagError,
    InvalidTagTargetError,
)

if TYPE_CHECKING:
    from lineagelog.api.context import LineageContext

__all__ = ["add_tags", "remove_tags"]

_WAYS = """
  add_tags(tags=[...])                                          # inside a step: its run
  add_tags(tags=[...], run=...)                                 # a run by id, name or prefix
  add_tags(tags=[...], infer_artifact=True)                     # inside a step: its one output
  add_tags(tags=[...], artifact_name=..., infer_artifact=True)  # inside a step: that output
  add_tags(tags=[...], artifact_name=..., artifact_version=...)
  add_tags(tags=[...], artifact_version_id=...)
(remove_tags takes the same targets)"""

_ELSEWHERE = {
    "pipeline": "tag its runs (`run=`), or give @pipeline(tags=[...]) so every run has the tag",
    "artifact": "tag an artifact version (`artifact_name=` with `artifact_version=`)",
    "run_template": "run templates are not part of lineagelog",
    "snapshot": "snapshots are not part of lineagelog",
    "deployment": "deployments are not part of lineagelog",
}


def add_tags(
    tags: str | Tag | Sequence[str | Tag],
    pipeline: UUID | str | None = None,
    run: UUID | str | None = None,
    run_template: UUID | str | None = None,
    snapshot: UUID | str | None = None,
    deployment: UUID | str | None = None,
    artifact: UUID | str | None = None,
    artifact_version_id: UUID | str | None = None,
    artifact_name: str | None = None,
    artifact_version: str | int | None = None,
    infer_artifact: bool | None = None,
) -> None:
    """Add tags to a run or an artifact version, chosen as ZenML chooses (see the module).

    An exclusive tag leaves the run of the same pipeline, or the version of the
    same artifact, that had it. ``Tag(cascade=...)`` is for ``@pipeline(tags=...)``
    only, as in ZenML.

    Raises:
        InvalidTagTargetError: a combination of targets ZenML does not take, no
            target outside a step, or an output the step does not have.
        InvalidTagError: an unusable tag, a cascade tag, or ``exclusive`` that
            contradicts the tag's record.
        RunNotFoundError / ArtifactNotFoundError: the target does not exist.

    """
    given = as_tags(tags, "add_tags")
    for tag in given:
        if tag.cascade is not None:
            raise InvalidTagError(
                f"Tag({tag.name!r}, cascade={tag.cascade}): cascading tags can only be used with "
                "the pipeline decorator, @pipeline(tags=[Tag(..., cascade=True)])"
            )
    _apply(
        "add_tags",
        given,
        pipeline=pipeline,
        run=run,
        run_template=run_template,
        snapshot=snapshot,
        deployment=deployment,
        artifact=artifact,
        artifact_version_id=artifact_version_id,
        artifact_name=artifact_name,
        artifact_version=artifact_version,
        infer_artifact=infer_artifact,
    )


def remove_tags(
    tags: str | Sequence[str],
    pipeline: UUID | str | None = None,
    run: UUID | str | None = None,
    run_template: UUID | str | None = None,
    snapshot: UUID | str | None = None,
    deployment: UUID | str | None = None,
    artifact: UUID | str | None = None,
    artifact_version_id: UUID | str | None = None,
    artifact_name: str | None = None,
    artifact_version: str | int | None = None,
    infer_artifact: bool | None = None,
) -> None:
    """Remove tags from a run or an artifact version, chosen as ``add_tags`` chooses.

    Removing a tag the target does not have records nothing.

    Raises:
        InvalidTagTargetError: as for ``add_tags``.
        InvalidTagError: an item of ``tags`` that is not a tag name.

    """
    names = [tags] if isinstance(tags, str) else tags
    if not isinstance(names, (list, tuple)):
        raise InvalidTagError(f"remove_tags: tags={tags!r} is not a list of tag names")
    _apply(
        "remove_tags",
        [Tag(check_tag(name)) for name in names],
        pipeline=pipeline,
        run=run,
        run_template=run_template,
        snapshot=snapshot,
        deployment=deployment,
        artifact=artifact,
        artifact_version_id=artifact_version_id,
        artifact_name=artifact_name,
        artifact_version=artifact_version,
        infer_artifact=infer_artifact,
    )


def _apply(action: str, tags: list[Tag], **targets: Any) -> None:
    """Find the one target the given keywords name, and add (or remove) ``tags`` there."""
    adding = action == "add_tags"
    given = {key for key, value in targets.items() if value is not None}
    for key in sorted(given & set(_ELSEWHERE)):
        raise InvalidTagTargetError(
            f"{action}({key}={targets[key]!r}): lineagelog does not tag a {key}; {_ELSEWHERE[key]}"
        )
    step = current_step_context()
    if given == {"run"}:
        context = _context(step)
        run_id = _run_id(context, targets["run"])
        _tag_run(context, run_id, tags, adding)
    elif given == {"artifact_version_id"}:
        context = _context(step)
        name, version = _version_by_id(context, targets["artifact_version_id"])
        _tag_version(context, name, version, tags, adding)
    elif given == {"artifact_name", "artifact_version"}:
        context = _context(step)
        name, version = _version_by_name(
            context, targets["artifact_name"], targets["artifact_version"]
        )
        _tag_version(context, name, version, tags, adding)
    elif (
        given in ({"infer_artifact"}, {"infer_artifact", "artifact_name"})
        and targets["infer_artifact"]
    ):
        output = _inferred_output(action, step, targets["artifact_name"])
        assert step is not None  # _inferred_output refuses outside a step
        if adding:
            step.tag_output(output, tags)
        else:
            step.untag_output(output, [tag.name for tag in tags])
    elif not given:
        if step is None:
            raise InvalidTagTargetError(
                f"{action}() without a target tags the run of the step calling it, but no "
                f"step is running; name what to tag:{_WAYS}"
            )
        _tag_run(step.lineage, step.pipeline_run.id, tags, adding)
    else:
        shown = ", ".join(f"{key}={targets[key]!r}" for key in sorted(given))
        raise InvalidTagTargetError(
            f"{action}({shown}) does not name one thing to tag; use one of:{_WAYS}"
        )


def _context(step: StepContext | None) -> LineageContext:
    """The running step's stores inside a step, else the configured ones."""
    if step is not None:
        return step.lineage
    from lineagelog.api.context import open_context

    return open_context()


def _tag_run(context: LineageContext, run_id: UUID, tags: list[Tag], adding: bool) -> None:
    tagger = Tagger(context)
    if adding:
        tagger.tag_run(run_id, tags)
    else:
        tagger.untag_run(run_id, [tag.name for tag in tags])


def _tag_version(
    context: LineageContext, name: str, version: int, tags: list[Tag], adding: bool
) -> None:
    tagger = Tagger(context)
    if adding:
        tagger.tag_artifact_version(name, version, tags)
    else:
        tagger.untag_artifact_version(name, version, [tag.name for tag in tags])


def _run_id(context: LineageContext, run: UUID | str) -> UUID:
    """The run ``run`` names: its id, its name, or a unique prefix of its id."""
    from lineagelog.projections.references import References

    context.catch_up()
    return UUID(References(context.queries, None).run(run))


def _version_by_id(context: LineageContext, artifact_version_id: UUID | str) -> tuple[str, int]:
    return _version_of(context, artifact_version_id, None)


def _version_by_name(context: LineageContext, name: str, version: str | int) -> tuple[str, int]:
    return _version_of(context, name, version)


def _version_of(
    context: LineageContext, reference: UUID | str, version: str | int | None
) -> tuple[str, int]:
    """The name and number of the version ``reference`` (and ``version``) name."""
    from lineagelog.projections.references import References

    context.catch_up()
    found = References(context.queries, None).artifact_version(reference, version)
    return found.name, found.number


def _inferred_output(action: str, step: StepContext | None, artifact_name: str | None) -> str:
    """The output of the running step that ``infer_artifact=True`` means."""
    if step is None:
        raise InvalidTagTargetError(
            f"{action}(infer_artifact=True) tags an output of the step calling it, but no step "
            "is running; outside a step give artifact_version_id=, or artifact_name= with "
            "artifact_version="
        )
    outputs = list(step.output_names)
    if artifact_name is not None:
        if artifact_name not in outputs:
            raise InvalidTagTargetError(
                f"{action}(artifact_name={artifact_name!r}, infer_artifact=True): step "
                f"{step.step_name!r} has no output {artifact_name!r}; its outputs are {outputs}"
            )
        return artifact_name
    if len(outputs) != 1:
        raise InvalidTagTargetError(
            f"{action}(infer_artifact=True): step {step.step_name!r} has "
            + (
                f"{len(outputs)} outputs {outputs}; name one with artifact_name="
                if outputs
                else "no outputs to tag"
            )
        )
    return outputs[0]
