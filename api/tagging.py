"""Tags on runs and artifact versions, as ZenML has them: ``Tag``, exclusive and cascade.

A tag is a ``TagName`` stream, created the first time the tag is used, which
records once whether it is exclusive. Putting a tag on a run records
``RunTagged`` on the run's stream; on an artifact version, ``VersionTagged``
on its name's stream. Both go in one append with the tag's creation.

An exclusive tag is on at most one run of a pipeline and one version of an
artifact. Moving it is recorded in the same append as an untag of the holder
and a tag of the new one: the artifact name's stream holds all its versions,
so that move is decided on one stream; for runs, the tag's own stream records
which run of each pipeline holds it (``RunHolderChanged``) and is part of the
append, so two writers moving the tag at once conflict on it and the second
move is decided again, knowing the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from lineagelog.domain.artifact_name import ArtifactName, check_tag
from lineagelog.domain.errors import ArtifactNotFoundError, InvalidTagError, RunNotFoundError
from lineagelog.domain.names import artifact_name_id, tag_name_id
from lineagelog.domain.run import PipelineRun
from lineagelog.domain.tag_name import TagName

if TYPE_CHECKING:
    from lineagelog.adapters.repository import Changes
    from lineagelog.api.context import LineageContext

__all__ = ["Tag", "Tagger", "as_tags", "tag_artifact_version_in", "tag_run_in"]


@dataclass(frozen=True)
class Tag:
    """A tag with settings, where a bare name will not do (ZenML's ``Tag``).

    Parameters:
        name: the tag.
        exclusive: True for a tag on at most one run of a pipeline and one
            version of an artifact. Recorded when the tag is first used and
            kept from then on; None takes the tag as recorded.
        cascade: True (only in a pipeline's ``tags``) to put the tag on every
            artifact version the run writes too. Not recorded with the tag: it
            holds for the pipeline it is given to.
        color: ZenML's dashboard colour, which lineagelog has no place for;
            giving one is refused rather than dropped.

    Raises:
        InvalidTagError: an unusable name, a non-bool setting, or a colour.

    """

    name: str
    exclusive: bool | None = None
    cascade: bool | None = None
    color: str | None = None

    def __post_init__(self) -> None:
        check_tag(self.name)
        for setting in ("exclusive", "cascade"):
            value = getattr(self, setting)
            if value is not None and not isinstance(value, bool):
                raise InvalidTagError(
                    f"Tag({self.name!r}, {setting}={value!r}): {setting} must be True, False "
                    "or None"
                )
        if self.color is not None:
            raise InvalidTagError(
                f"Tag({self.name!r}, color={self.color!r}): tag colours are a ZenML dashboard "
                "setting lineagelog does not record; leave color out"
            )


def as_tags(tags: object, where: str) -> list[Tag]:
    """``tags`` (a name, a ``Tag``, or a list of them) as ``Tag`` objects, in order, once each.

    A name given twice is kept once: a later ``Tag`` with settings replaces an
    earlier use, a later bare name does not.

    Raises:
        InvalidTagError: an item that is neither, naming ``where`` it was given.

    """
    items: Iterable[object]
    if isinstance(tags, (str, Tag)):
        items = [tags]
    elif isinstance(tags, (list, tuple, set, frozenset)):
        items = tags
    else:
        raise InvalidTagError(
            f"{where}: tags={tags!r} is not a list of tags; give a list of names or "
            "Tag(name=...) objects"
        )
    found: dict[str, Tag] = {}
    for item in items:
        if isinstance(item, str):
            tag = Tag(check_tag(item))
        elif isinstance(item, Tag):
            tag = item
        else:
            raise InvalidTagError(
                f"{where}: tag {item!r} is neither a name nor a Tag(name=...); give one of those"
            )
        earlier = found.get(tag.name)
        # A later Tag with settings overrides an earlier use; a later bare name keeps it.
        found[tag.name] = earlier if earlier is not None and tag == Tag(tag.name) else tag
    return list(found.values())


def defined_tag(changes: Changes, tag: Tag) -> TagName:
    """The tag's ``TagName`` in this change, created (exclusive or not) on its first use.

    Raises:
        InvalidTagError: ``tag.exclusive`` contradicts what the tag recorded.

    """
    definition = changes.get(
        tag_name_id(tag.name),
        TagName,
        create=lambda: TagName.create(tag.name, exclusive=bool(tag.exclusive)),
        fastforward=True,
    )
    definition.check_exclusive(tag.exclusive)
    return definition


def tag_run_in(changes: Changes, run: PipelineRun, tags: Sequence[Tag]) -> None:
    """Put ``tags`` on ``run`` in this change; exclusive ones leave the pipeline's other run.

    The holder of an exclusive tag is read from the tag's own stream, which the
    move appends to: two runs taking the tag at once conflict there, and the
    retry untags the first.
    """
    for tag in tags:
        definition = defined_tag(changes, tag)
        if definition.exclusive:
            holder = definition.take_for_run(run.pipeline, str(run.id))
            if holder is not None:
                changes.get(UUID(holder), PipelineRun, fastforward=True).untag(tag.name)
        run.tag(tag.name)


def tag_artifact_version_in(
    changes: Changes, artifact: ArtifactName, version: int, tags: Sequence[Tag]
) -> None:
    """Put ``tags`` on ``version`` of ``artifact`` in this change (exclusive ones move to it)."""
    for tag in tags:
        artifact.tag(version, tag.name, exclusive=defined_tag(changes, tag).exclusive)


class Tagger:
    """Tag and untag runs and artifact versions of one context, each change one append."""

    def __init__(self, context: LineageContext) -> None:
        """Change the tags recorded in ``context``."""
        self.context = context

    def create_tag(self, name: str, *, exclusive: bool = False) -> None:
        """Record a tag before its first use (``TagCreated``), as ZenML's ``create_tag``.

        Raises:
            InvalidTagError: an unusable name, or a tag of that name exists already.

        """

        def create(changes: Changes) -> None:
            existing = changes.find(tag_name_id(name), TagName, fastforward=True)
            if existing is not None:
                kind = "exclusive" if existing.exclusive else "non-exclusive"
                raise InvalidTagError(
                    f"tag {name!r} exists already ({kind}, recorded when it was first used); "
                    "use it as it is, or create a tag with another name"
                )
            changes.add(TagName.create(name, exclusive=exclusive))

        self._change(create, f"create tag {name!r}")

    def tag_run(self, run_id: UUID, tags: Sequence[Tag]) -> None:
        """Add ``tags`` to the run (``RunTagged``; exclusive ones leave their holder).

        Raises:
            RunNotFoundError: no run has that id.
            InvalidTagError: an unusable tag, or one whose ``exclusive`` contradicts its record.

        """
        self._change(
            lambda changes: tag_run_in(changes, self._run(changes, run_id), tags),
            f"tag run {run_id}",
        )

    def untag_run(self, run_id: UUID, names: Sequence[str]) -> None:
        """Remove the tags ``names`` from the run (``RunUntagged``; a no-op for absent ones)."""

        def untag(changes: Changes) -> None:
            run = self._run(changes, run_id)
            for name in names:
                run.untag(name)

        self._change(untag, f"untag run {run_id}")

    def tag_artifact_version(self, name: str, version: int | str, tags: Sequence[Tag]) -> None:
        """Add ``tags`` to ``name:version`` (``VersionTagged``; exclusive ones move to it).

        ``version`` is a version name (``"1.0"``, ``"3"``) or number, here and below.
        """

        def tag(changes: Changes) -> None:
            artifact = self._artifact(changes, name)
            tag_artifact_version_in(changes, artifact, artifact.number_of(version), tags)

        self._change(tag, f"tag artifact {name}:{version}")

    def untag_artifact_version(self, name: str, version: int | str, names: Sequence[str]) -> None:
        """Remove the tags ``names`` from ``name:version`` (``VersionUntagged``)."""

        def untag(changes: Changes) -> None:
            artifact = self._artifact(changes, name)
            number = artifact.number_of(version)
            for tag in names:
                artifact.untag(number, tag)

        self._change(untag, f"untag artifact {name}:{version}")

    def _change(self, command: Callable[[Changes], object], what: str) -> None:
        self.context.repository.change_together(command, what=what)
        self.context.catch_up()

    def _run(self, changes: Changes, run_id: UUID) -> PipelineRun:
        def missing() -> PipelineRun:
            raise RunNotFoundError(
                f"no pipeline run with id {run_id}; list runs with `lineagelog runs list`"
            )

        return changes.get(run_id, PipelineRun, create=missing, fastforward=True)

    def _artifact(self, changes: Changes, name: str) -> ArtifactName:
        def missing() -> ArtifactName:
            raise ArtifactNotFoundError(
                f"no artifact named {name!r}; list the names with `lineagelog artifacts list`"
            )

        return changes.get(artifact_name_id(name), ArtifactName, create=missing, fastforward=True)
