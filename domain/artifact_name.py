"""The ``ArtifactName`` aggregate: hands out each version number exactly once.

Two writers racing for version 7 of ``model`` both append event N+1 to this
stream; the event store's optimistic concurrency lets one win, and the loser
reloads the stream and retries with version 8.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.domain.base import GENESIS_HASH, LineageAggregate
from lineagelog.domain.errors import ArtifactNotFoundError, LineageError
from lineagelog.domain.names import artifact_name_id, check_artifact_name

__all__ = ["ArtifactName", "InvalidTagError"]


class InvalidTagError(LineageError, ValueError):
    """A tag that is empty, too long or contains control characters."""


class ArtifactName(LineageAggregate):
    """A named, versioned artifact: the sequence of its versions and their tags."""

    class NameRegistered(LineageAggregate.Created):
        """The first version of a name is about to be registered."""

        name: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.name = self.name
            aggregate.versions = {}
            aggregate.tags = {}
            aggregate.deleted = set()

    class VersionRegistered(LineageAggregate.Event):
        """Version ``version`` of this name is the artifact version ``artifact_version_id``."""

        version: int
        artifact_version_id: UUID
        producer_step_run_id: UUID | None
        content_hash: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.versions[self.version] = self.artifact_version_id
            aggregate.tags[self.version] = set()

    class VersionTagged(LineageAggregate.Event):
        """A tag was added to a version."""

        version: int
        artifact_version_id: UUID
        tag: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.tags[self.version].add(self.tag)

    class VersionUntagged(LineageAggregate.Event):
        """A tag was removed from a version."""

        version: int
        artifact_version_id: UUID
        tag: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.tags[self.version].discard(self.tag)

    if TYPE_CHECKING:
        name: str
        versions: dict[int, UUID]
        tags: dict[int, set[str]]
        deleted: set[int]

    @classmethod
    def register_name(cls, name: str) -> ArtifactName:
        """Open the stream of a new name (emits ``NameRegistered``)."""
        check_artifact_name(name)
        return cls._create(
            cls.NameRegistered, id=artifact_name_id(name), previous_hash=GENESIS_HASH, name=name
        )

    @property
    def latest_version(self) -> int:
        """The highest version number handed out so far (0 when none)."""
        return max(self.versions, default=0)

    def register_version(
        self, artifact_version_id: UUID, producer_step_run_id: UUID | None, content_hash: str
    ) -> int:
        """Hand out the next version number (emits ``VersionRegistered``) and return it."""
        version = self.latest_version + 1
        self.trigger_event(
            self.VersionRegistered,
            version=version,
            artifact_version_id=artifact_version_id,
            producer_step_run_id=producer_step_run_id,
            content_hash=content_hash,
        )
        return version

    def tag(self, version: int, tag: str) -> None:
        """Add ``tag`` to ``version`` (no event when it is already there)."""
        self.check_version_exists(version)
        check_tag(tag)
        if tag not in self.tags[version]:
            self.trigger_event(
                self.VersionTagged,
                version=version,
                artifact_version_id=self.versions[version],
                tag=tag,
            )

    def untag(self, version: int, tag: str) -> None:
        """Remove ``tag`` from ``version`` (no event when it is not there)."""
        self.check_version_exists(version)
        if tag in self.tags[version]:
            self.trigger_event(
                self.VersionUntagged,
                version=version,
                artifact_version_id=self.versions[version],
                tag=tag,
            )

    def check_version_exists(self, version: int) -> None:
        """Raise ``ArtifactNotFoundError`` naming the versions that do exist."""
        if version not in self.versions:
            raise ArtifactNotFoundError(
                f"artifact {self.name!r} has no version {version!r}; "
                f"it has versions 1 to {self.latest_version}"
            )


def check_tag(tag: object) -> str:
    """Return ``tag`` if it is a usable tag, else raise ``InvalidTagError``."""
    if not isinstance(tag, str) or not tag.strip() or len(tag) > 100:
        raise InvalidTagError(f"tag {tag!r} must be a non-empty string of at most 100 characters")
    if any(ord(ch) < 32 for ch in tag):
        raise InvalidTagError(f"tag {tag!r} contains a control character; use printable text")
    return tag
