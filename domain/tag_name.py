"""The ``TagName`` aggregate: a tag's own settings, recorded once (ZenML's ``Tag`` entity).

A tag comes into being the first time it is used (or created on purpose) and
says then whether it is exclusive; an exclusive tag also records which run of
each pipeline holds it. An exclusive tag is on at most one run of
a pipeline, and on at most one version of an artifact: adding it to another
moves it, which is recorded as an untag of the old holder and a tag of the new
one. The setting stays with the tag, as in ZenML: later uses by bare name are
exclusive too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineagelog.domain.artifact_name import check_tag
from lineagelog.domain.base import GENESIS_HASH, LineageAggregate
from lineagelog.domain.errors import InvalidTagError
from lineagelog.domain.names import tag_name_id

__all__ = ["TagName"]


class TagName(LineageAggregate):
    """A tag, by name: whether it is exclusive."""

    class Event(LineageAggregate.Event):
        """Base of the events of ``TagName``.

        Its events derive from it as written: eventsourcing would otherwise redefine each
        one under a base of its own making, a second dataclass per event class at import.
        """

    class TagCreated(LineageAggregate.Created, Event):
        """A tag was used (or created) for the first time."""

        name: str
        exclusive: bool

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.name = self.name
            aggregate.exclusive = self.exclusive
            aggregate.run_holders = {}

    class RunHolderChanged(Event):
        """An exclusive tag went to a run: the one run of its pipeline that holds it now."""

        pipeline: str
        run_id: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.run_holders[self.pipeline] = self.run_id

    if TYPE_CHECKING:
        name: str
        exclusive: bool
        run_holders: dict[str, str]

    @classmethod
    def create(cls, name: str, *, exclusive: bool = False) -> TagName:
        """Record a new tag (emits ``TagCreated``).

        Raises:
            InvalidTagError: the name is not a usable tag.

        """
        check_tag(name)
        return cls._create(
            cls.TagCreated,
            id=tag_name_id(name),
            previous_hash=GENESIS_HASH,
            name=name,
            exclusive=exclusive,
        )

    def take_for_run(self, pipeline: str, run_id: str) -> str | None:
        """Give this exclusive tag to run ``run_id`` of ``pipeline``; the run that had it.

        Emits ``RunHolderChanged`` unless the run holds it already. Recorded on the
        tag's own stream, so two runs taking the tag at the same moment conflict on
        it and the second move is decided again, knowing the first.

        Returns:
            The id of the run of ``pipeline`` that held the tag before (to untag), or None.

        """
        previous = self.run_holders.get(pipeline)
        if previous != run_id:
            self.trigger_event(self.RunHolderChanged, pipeline=pipeline, run_id=run_id)
        return previous if previous != run_id else None

    def check_exclusive(self, exclusive: bool | None) -> None:
        """Raise when a use asks for another ``exclusive`` setting than the tag has.

        ``None`` (a bare name, or ``Tag(name=...)`` without the setting) takes the tag as it is.
        """
        if exclusive is not None and exclusive != self.exclusive:
            kind = "an exclusive" if self.exclusive else "a non-exclusive"
            raise InvalidTagError(
                f"tag {self.name!r} is {kind} tag, and `exclusive` is recorded once, when a tag "
                f"is first used; use it without exclusive={exclusive}, or use another tag name"
            )
