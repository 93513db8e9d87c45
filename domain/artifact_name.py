"""The ``ArtifactName`` aggregate: hands out each version number exactly once.

Two writers racing for version 7 of ``model`` both append event N+1 to this
stream; the event store's optimistic concurrency lets one win, and the loser
reloads the stream and retries with version 8.

The same check keeps a cache hit and a delete apart: a hit appends
``VersionReused`` to the stream of every version it reuses, in the same append
as its ``CacheDecided``, and ``VersionDeleted`` goes to the same stream. Whichever
comes second conflicts on the stream version and re-decides, so no hit is ever
recorded on a version after its tombstone.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.domain.base import GENESIS_HASH, LineageAggregate
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    DeletedVersionError,
    DuplicateVersionError,
    InvalidTagError,
    InvalidVersionError,
    VersionInUseError,
)
from lineagelog.domain.metadata import checked_metadata
from lineagelog.domain.names import artifact_name_id, check_artifact_name

__all__ = [
    "ArtifactName",
    "DeletedVersionError",
    "InvalidTagError",
    "VersionInUseError",
    "check_version_name",
    "describe_deletion",
]

MAX_VERSION_NAME_LENGTH = 100


def describe_deletion(at: datetime | None, reason: str | None) -> str:
    """How a deletion is told to a person: when, and why.

    Examples:
        >>> from datetime import UTC
        >>> describe_deletion(datetime(2026, 12, 1, 5, 36, tzinfo=UTC), "bad rows")
        "deleted at 2026-12-01T05:36:00+00:00 ('bad rows')"
    """
    when = at.isoformat(timespec="seconds") if at is not None else "an unknown time"
    return f"deleted at {when} ({reason!r})" if reason else f"deleted at {when}"


class ArtifactName(LineageAggregate):
    """A named, versioned artifact: the sequence of its versions and their tags."""

    class Event(LineageAggregate.Event):
        """Base of the events of ``ArtifactName``.

        Its events derive from it as written: eventsourcing would otherwise redefine each
        one under a base of its own making, a second dataclass per event class at import.
        """

    class NameRegistered(LineageAggregate.Created, Event):
        """The first version of a name is about to be registered."""

        name: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.name = self.name
            aggregate.versions = {}
            aggregate.tags = {}
            aggregate.deleted = set()
            aggregate.last_reused = {}
            aggregate.version_names = {}

    class VersionRegistered(Event):
        """Version number ``version`` of this name is the artifact version ``artifact_version_id``.

        ``version_name`` is what users call it: the number as text unless a name
        such as ``"1.0"`` was chosen (events recorded before names existed have None).
        """

        version: int
        artifact_version_id: UUID
        producer_step_run_id: UUID | None
        content_hash: str
        version_name: str | None = None

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.versions[self.version] = self.artifact_version_id
            aggregate.tags[self.version] = set()
            aggregate.version_names[self.version] = self.version_name or str(self.version)

    class VersionTagged(Event):
        """A tag was added to a version."""

        version: int
        artifact_version_id: UUID
        tag: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.tags[self.version].add(self.tag)

    class VersionUntagged(Event):
        """A tag was removed from a version."""

        version: int
        artifact_version_id: UUID
        tag: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.tags[self.version].discard(self.tag)

    class ExternalVersionRegistered(Event):
        """Existing data was copied into the store and registered as a version, no step run.

        Carries everything the catalog needs (the counterpart of a step's
        ``ArtifactWritten``) plus ``source``, where the data was copied from.
        """

        name: str
        version: int
        artifact_version_id: UUID
        source: str
        uri: str
        materializer: str
        data_type: str
        artifact_type: str
        content_hash: str
        size: int
        metadata: dict[str, Any]
        visualizations: list[dict[str, str]]
        version_name: str | None = None
        run_metadata: dict[str, Any] | None = None

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.versions[self.version] = self.artifact_version_id
            aggregate.tags[self.version] = set()
            aggregate.version_names[self.version] = self.version_name or str(self.version)

    class VersionDeleted(Event):
        """A version was tombstoned; its bytes are removed from the store after this event."""

        version: int
        artifact_version_id: UUID
        uri: str
        reason: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.deleted.add(self.version)

    class VersionReused(Event):
        """A cache hit reused this version as an output of step run ``step_run_id``."""

        version: int
        artifact_version_id: UUID
        step_run_id: UUID

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            # A delete racing the hit conflicts on the stream version this takes; a
            # prune that comes after reads when the version was last reused.
            aggregate.last_reused[self.version] = self.timestamp

    class VersionMetadataLogged(Event):
        """Metadata was logged on a version (by its producing step, or later by anyone)."""

        version: int
        artifact_version_id: UUID
        metadata: dict[str, Any]
        types: dict[str, str]  # key -> metadata type name (``lineagelog.domain.metadata``)

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            pass  # metadata changes no state a command checks

    if TYPE_CHECKING:
        name: str
        versions: dict[int, UUID]
        tags: dict[int, set[str]]
        deleted: set[int]
        last_reused: dict[int, datetime]
        version_names: dict[int, str]

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

    def label(self, version: int) -> str:
        """``name:version name`` of version number ``version``, as users call it."""
        return f"{self.name}:{self.version_names.get(version, version)}"

    def number_of(self, version: int | str) -> int:
        """The number of the version named ``version`` (a version name, or a number).

        A version name is matched first (``"1.0"``, ``"3"``), then a number.

        Raises:
            ArtifactNotFoundError: the artifact has no such version.

        """
        if isinstance(version, str):
            for number, name in self.version_names.items():
                if name == version:
                    return number
            raise self._no_version(version)
        if isinstance(version, bool) or not isinstance(version, int):
            raise self._no_version(version)
        self.check_version_exists(version)
        return version

    def next_version(self, version_name: str | int | None) -> tuple[int, str]:
        """The number and name the next version gets; ``version_name`` chooses the name.

        Raises:
            InvalidVersionError: the name is not usable (see ``check_version_name``).
            DuplicateVersionError: the artifact already has a version of that name.

        """
        number = self.latest_version + 1
        name = check_version_name(version_name, number)
        if name in self.version_names.values():
            raise DuplicateVersionError(
                f"artifact {self.name!r} already has a version named {name!r}; version names "
                "are given once: choose another version name, or leave version=None for the "
                f"next number ({number})"
            )
        return number, name

    def register_version(
        self,
        artifact_version_id: UUID,
        producer_step_run_id: UUID | None,
        content_hash: str,
        version_name: str | int | None = None,
    ) -> int:
        """Hand out the next version number (emits ``VersionRegistered``) and return it.

        ``version_name`` names the version (default: its number as text).
        """
        version, name = self.next_version(version_name)
        self.trigger_event(
            self.VersionRegistered,
            version=version,
            artifact_version_id=artifact_version_id,
            producer_step_run_id=producer_step_run_id,
            content_hash=content_hash,
            version_name=name,
        )
        return version

    def register_external_version(
        self,
        *,
        artifact_version_id: UUID,
        source: str,
        uri: str,
        materializer: str,
        data_type: str,
        artifact_type: str,
        content_hash: str,
        size: int,
        metadata: dict[str, Any],
        visualizations: list[dict[str, str]],
        version_name: str | int | None = None,
        run_metadata: dict[str, Any] | None = None,
    ) -> int:
        """Register data written to the store as the next version (emits an event).

        ``version_name`` names the version (default: its number as text);
        ``run_metadata`` is metadata the user recorded with it.
        """
        version, name = self.next_version(version_name)
        self.trigger_event(
            self.ExternalVersionRegistered,
            name=self.name,
            version=version,
            artifact_version_id=artifact_version_id,
            source=source,
            uri=uri,
            materializer=materializer,
            data_type=data_type,
            artifact_type=artifact_type,
            content_hash=content_hash,
            size=size,
            metadata=metadata,
            visualizations=visualizations,
            version_name=name,
            run_metadata=dict(run_metadata or {}),
        )
        return version

    def delete_version(
        self, version: int, uri: str, reason: str, *, unless_reused_since: datetime | None = None
    ) -> bool:
        """Tombstone ``version`` (emits ``VersionDeleted``); False when it already was.

        With ``unless_reused_since`` (a retention policy's window), a version a
        cache hit reused at or after that moment is in use and is not deleted.

        Raises:
            VersionInUseError: the version was reused within the window.

        """
        self.check_version_exists(version)
        if version in self.deleted:
            return False
        reused = self.last_reused.get(version)
        if unless_reused_since is not None and reused is not None and reused >= unless_reused_since:
            raise VersionInUseError(
                f"artifact {self.label(version)} was reused by a cache hit at "
                f"{reused.isoformat(timespec='seconds')}, within the retention window; "
                "it is kept"
            )
        self.trigger_event(
            self.VersionDeleted,
            version=version,
            artifact_version_id=self.versions[version],
            uri=uri,
            reason=reason,
        )
        return True

    def reuse_version(self, version: int, artifact_version_id: UUID, step_run_id: UUID) -> None:
        """Record that a cache hit of ``step_run_id`` reuses ``version`` (emits ``VersionReused``).

        Raises:
            ArtifactNotFoundError: the log has no such version, or it is another artifact version.
            DeletedVersionError: the version was deleted.

        """
        self.check_version_exists(version)
        if self.versions[version] != artifact_version_id:
            raise ArtifactNotFoundError(
                f"artifact {self.label(version)} is {self.versions[version]} in the log, not "
                f"{artifact_version_id}; run `lineagelog audit` to find the damaged event"
            )
        self.check_not_deleted(version, "reuse it from the cache")
        self.trigger_event(
            self.VersionReused,
            version=version,
            artifact_version_id=artifact_version_id,
            step_run_id=step_run_id,
        )

    def tag(self, version: int, tag: str, *, exclusive: bool = False) -> None:
        """Add ``tag`` to ``version`` (no event when it is already there).

        An ``exclusive`` tag is on one version of this name at most: it is first
        removed from the version that has it (``VersionUntagged``), in the same change.
        """
        self.check_version_exists(version)
        self.check_not_deleted(version, f"tag it {tag!r}")
        check_tag(tag)
        if exclusive:
            for other in sorted(v for v, tags in self.tags.items() if v != version and tag in tags):
                self.untag(other, tag)
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

    def log_version_metadata(self, version: int, metadata: Any) -> None:
        """Record metadata on ``version`` (emits ``VersionMetadataLogged``).

        Raises:
            ArtifactNotFoundError: the name has no such version.
            DeletedVersionError: the version was deleted.
            InvalidMetadataError: ``metadata`` holds a value that is not a metadata type.
        """
        self.check_version_exists(version)
        self.check_not_deleted(version, "log metadata on it")
        values, types = checked_metadata(metadata)
        self.trigger_event(
            self.VersionMetadataLogged,
            version=version,
            artifact_version_id=self.versions[version],
            metadata=values,
            types=types,
        )

    def check_not_deleted(self, version: int, action: str) -> None:
        """Raise ``DeletedVersionError`` when ``version`` was deleted."""
        if version in self.deleted:
            raise DeletedVersionError(
                f"artifact {self.label(version)} is deleted, so you cannot {action}; use a "
                f"version that is not deleted (see `lineagelog artifacts list {self.name}`)"
            )

    def check_version_exists(self, version: int) -> None:
        """Raise ``ArtifactNotFoundError`` naming the versions that do exist."""
        if version not in self.versions:
            raise self._no_version(version)

    def _no_version(self, version: object) -> ArtifactNotFoundError:
        names = [self.version_names[n] for n in sorted(self.version_names)]
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        return ArtifactNotFoundError(
            f"artifact {self.name!r} has no version {version!r}; its versions are {shown}"
        )


def check_version_name(version: object, number: int) -> str:
    """The name version number ``number`` gets when ``version`` is asked for (None: the number).

    A version name is text of at most 100 characters without control
    characters or ``:`` (``name:version`` must split). A whole number names
    the automatic numbers, so it is accepted only as the number the version
    gets anyway.

    Raises:
        InvalidVersionError: the name cannot be used.

    Examples:
        >>> check_version_name(None, 3), check_version_name("1.0", 3), check_version_name(3, 3)
        ('3', '1.0', '3')
    """
    if version is None:
        return str(number)
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.strip():
        raise InvalidVersionError(
            f"version {version!r} is not a version name; give a non-empty string such as "
            "'1.0', or None for the next number"
        )
    if len(version) > MAX_VERSION_NAME_LENGTH or ":" in version:
        raise InvalidVersionError(
            f"version {version!r} must be at most {MAX_VERSION_NAME_LENGTH} characters "
            "without ':' (it is written after the artifact name, as in `model:1.0`)"
        )
    if any(ord(ch) < 32 for ch in version):
        raise InvalidVersionError(f"version {version!r} contains a control character")
    if version.isdigit() and int(version) != number:
        raise InvalidVersionError(
            f"version {version!r} is a number, and numbers are given in order: this version "
            f"is number {number}; choose a name that is not a number (such as 'v{version}'), "
            "or leave version=None"
        )
    return version


def check_tag(tag: object) -> str:
    """Return ``tag`` if it is a usable tag, else raise ``InvalidTagError``."""
    if not isinstance(tag, str) or not tag.strip() or len(tag) > 100:
        raise InvalidTagError(f"tag {tag!r} must be a non-empty string of at most 100 characters")
    if any(ord(ch) < 32 for ch in tag):
        raise InvalidTagError(f"tag {tag!r} contains a control character; use printable text")
    return tag
