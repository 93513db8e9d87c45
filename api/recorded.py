"""What the log recorded about artifact versions and executions: the facts trust rests on.

The views are SQL tables that anyone with access to the database can edit, and
the audit checks the log, not them. So everything that decides which code runs
and which bytes a step consumes (an artifact's URI, materializer, data type and
content hash, and whether a cached execution succeeded with these outputs) is
read here from the events themselves, by stream id. A view row only says where
to look; an event found there is believed only when it names the very artifact
version (or cache key) asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.domain.artifact_name import ArtifactName
from lineagelog.domain.artifact_uri import portable_uri
from lineagelog.domain.names import artifact_name_id
from lineagelog.domain.step_run import StepRun
from lineagelog.domain.values import CacheOutcome

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.adapters.event_store import EventStore

__all__ = [
    "VIEWS_DISAGREE",
    "ProducedOutput",
    "RecordedExecution",
    "recorded_deletion",
    "recorded_execution",
    "recorded_output",
]

VIEWS_DISAGREE = (
    "run `lineagelog audit --views` to see what differs, and "
    "`lineagelog projections rebuild` to rebuild the views from the log"
)
"""What to do when a view row disagrees with the log it was built from."""


@dataclass(frozen=True)
class ProducedOutput:
    """An artifact version as the event that recorded it states it.

    That event is a step's ``ArtifactWritten`` or, outside pipelines, an
    ``ExternalVersionRegistered``; these are the fields loading and verifying need.
    """

    artifact_version_id: str
    content_hash: str
    uri: str
    """Relative to the artifact store's root (``ArtifactStore.locate`` gives the full URL)."""
    materializer: str
    data_type: str
    name: str
    number: int
    size: int
    version: str
    """The version's name: its number as text unless a name was chosen."""

    @classmethod
    def of_event(cls, event: Any) -> ProducedOutput:
        """The parts of a recording event that loading and verifying need."""
        return cls(
            str(event.artifact_version_id),
            event.content_hash,
            portable_uri(event.uri, event.name, event.artifact_version_id),
            event.materializer,
            event.data_type,
            event.name,
            event.version,
            event.size,
            event.version_name or str(event.version),
        )

    def location(self, store: ArtifactStore) -> str:
        """The full URL of this version's files in ``store``.

        Raises:
            ArtifactUriError: the recorded URI would lead out of the store.

        """
        return store.locate(self.uri)

    @property
    def label(self) -> str:
        """``name:version``, as users name a version."""
        return f"{self.name}:{self.version}"

    def differences(self, view: Any) -> list[str]:
        """The fields in which a view record of this version states something else."""
        fields = ("uri", "materializer", "data_type", "content_hash", "name", "number", "version")
        return [
            f"{field} {getattr(view, field)!r} (the log says {getattr(self, field)!r})"
            for field in fields
            if getattr(view, field) != getattr(self, field)
        ]


@dataclass(frozen=True)
class RecordedExecution:
    """A succeeded, executed step run as its stream records it."""

    step_run_id: UUID
    run_id: UUID
    outputs: dict[str, ProducedOutput]


def _uuid(text: object) -> UUID | None:
    try:
        return text if isinstance(text, UUID) else UUID(str(text))
    except ValueError:
        return None


def _written_in(events: EventStore, step_run_id: object, artifact_version_id: UUID) -> Any:
    stream = _uuid(step_run_id)
    if stream is None:
        return None
    for event in events.stream_events(stream):
        if (
            isinstance(event, StepRun.ArtifactWritten)
            and event.artifact_version_id == artifact_version_id
        ):
            return event
    return None


def recorded_output(
    events: EventStore,
    artifact_version_id: object,
    *,
    name: str,
    producer_step_run_id: object = None,
) -> ProducedOutput | None:
    """The artifact version ``artifact_version_id`` as the log recorded it, or None.

    ``producer_step_run_id`` and ``name`` (from a view row) only say which
    streams to read: the producing step run's (short: one ``ArtifactWritten``
    per output), else the name's, whose ``VersionRegistered`` names the producer
    or whose ``ExternalVersionRegistered`` is the record itself.
    """
    wanted = _uuid(artifact_version_id)
    if wanted is None:
        return None
    if producer_step_run_id is not None:
        written = _written_in(events, producer_step_run_id, wanted)
        if written is not None:
            return ProducedOutput.of_event(written)
    for event in events.stream_events(artifact_name_id(str(name))):
        if getattr(event, "artifact_version_id", None) != wanted:
            continue
        if isinstance(event, ArtifactName.ExternalVersionRegistered):
            return ProducedOutput.of_event(event)
        if (
            isinstance(event, ArtifactName.VersionRegistered)
            and event.producer_step_run_id is not None
            and event.producer_step_run_id != _uuid(producer_step_run_id)
        ):
            written = _written_in(events, event.producer_step_run_id, wanted)
            return None if written is None else ProducedOutput.of_event(written)
    return None


def recorded_deletion(events: EventStore, artifact_version_id: object, *, name: str) -> Any:
    """The ``VersionDeleted`` event that tombstoned ``artifact_version_id``, or None.

    ``name`` says which stream to read (the artifact name's); the event found is
    believed only when it names the very artifact version asked for.
    """
    wanted = _uuid(artifact_version_id)
    if wanted is None:
        return None
    for event in events.stream_events(artifact_name_id(str(name))):
        if isinstance(event, ArtifactName.VersionDeleted) and event.artifact_version_id == wanted:
            return event
    return None


def recorded_execution(
    events: EventStore, step_run_id: object, cache_key: str
) -> RecordedExecution | str:
    """The step run ``step_run_id`` if its stream records a succeeded execution with ``cache_key``.

    Returns:
        The execution and its outputs as their ``ArtifactWritten`` events state
        them; or, when the stream records something else, what it records
        (a sentence the cache decision's reason quotes).

    """
    stream = _uuid(step_run_id)
    if stream is None:
        return f"{step_run_id!r} is not a step run id"
    started: Any = None
    decided: Any = None
    succeeded = False
    outputs: dict[str, ProducedOutput] = {}
    for event in events.stream_events(stream):
        if isinstance(event, StepRun.StepStarted):
            started = event
        elif isinstance(event, StepRun.CacheDecided):
            decided = event
        elif isinstance(event, StepRun.ArtifactWritten):
            outputs[event.output_name] = ProducedOutput.of_event(event)
        elif isinstance(event, StepRun.StepSucceeded):
            succeeded = not event.cached
    if started is None:
        return f"the log has no step run {stream}"
    if decided is None or decided.cache_key != cache_key:
        return f"the log records step run {stream} under another cache key"
    if decided.outcome == CacheOutcome.HIT.value or not succeeded:
        return f"the log does not record step run {stream} as a succeeded execution"
    return RecordedExecution(stream, started.run_id, outputs)
