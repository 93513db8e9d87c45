"""The ``PipelineRun`` aggregate: one stream per pipeline run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from lineagelog.domain.artifact_name import check_tag
from lineagelog.domain.base import GENESIS_HASH, LineageAggregate
from lineagelog.domain.errors import RunAlreadyEndedError
from lineagelog.domain.metadata import checked_metadata
from lineagelog.domain.values import RunStatus

__all__ = ["PipelineRun", "RunAlreadyEndedError"]


class PipelineRun(LineageAggregate):
    """A pipeline run: started once, then completed, failed or interrupted once.

    Tags come and go at any time, before or after the run ended (ZenML's run tags).
    """

    class Event(LineageAggregate.Event):
        """Base of the events of ``PipelineRun``.

        Its events derive from it as written: eventsourcing would otherwise redefine each
        one under a base of its own making, a second dataclass per event class at import.
        """

    class RunStarted(LineageAggregate.Created, Event):
        """A pipeline run started, with everything needed to reproduce it."""

        pipeline: str
        run_name: str
        parameters: dict[str, Any]
        dag: dict[str, Any]
        environment: dict[str, Any]

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.pipeline = self.pipeline
            aggregate.run_name = self.run_name
            aggregate.parameters = self.parameters
            aggregate.dag = self.dag
            aggregate.environment = self.environment
            aggregate.status = RunStatus.RUNNING
            aggregate.failed_step = None
            aggregate.error = None
            aggregate.tags = set()

    class RunCompleted(Event):
        """Every step of the run succeeded or was served from cache."""

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.status = RunStatus.COMPLETED

    class RunFailed(Event):
        """A step failed; the steps downstream of it did not run."""

        failed_step: str
        error: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.status = RunStatus.FAILED
            aggregate.failed_step = self.failed_step
            aggregate.error = self.error

    class RunInterrupted(Event):
        """The process running the run vanished; recorded by recovery, never guessed."""

        reason: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.status = RunStatus.INTERRUPTED
            aggregate.error = self.reason

    class RunTagged(Event):
        """A tag was added to the run."""

        tag: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.tags.add(self.tag)

    class RunUntagged(Event):
        """A tag was removed from the run (by the user, or moved to another run as exclusive)."""

        tag: str

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.tags.discard(self.tag)

    class RunMetadataLogged(Event):
        """Metadata was logged on this run (while it ran, or after it ended)."""

        metadata: dict[str, Any]
        types: dict[str, str]  # key -> metadata type name (``lineagelog.domain.metadata``)

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            pass  # metadata changes no state a command checks

    if TYPE_CHECKING:
        pipeline: str
        run_name: str
        parameters: dict[str, Any]
        dag: dict[str, Any]
        environment: dict[str, Any]
        status: RunStatus
        failed_step: str | None
        error: str | None
        tags: set[str]

    @classmethod
    def start(
        cls,
        *,
        pipeline: str,
        run_name: str,
        parameters: dict[str, Any],
        dag: dict[str, Any],
        environment: dict[str, Any],
        run_id: UUID | None = None,
    ) -> PipelineRun:
        """Start a run (emits ``RunStarted``)."""
        return cls._create(
            cls.RunStarted,
            id=run_id or uuid4(),
            previous_hash=GENESIS_HASH,
            pipeline=pipeline,
            run_name=run_name,
            parameters=parameters,
            dag=dag,
            environment=environment,
        )

    def complete(self) -> None:
        """Mark the run completed (emits ``RunCompleted``)."""
        self.check_still_running()
        self.trigger_event(self.RunCompleted)

    def fail(self, failed_step: str, error: str) -> None:
        """Mark the run failed at ``failed_step`` (emits ``RunFailed``)."""
        self.check_still_running()
        self.trigger_event(self.RunFailed, failed_step=failed_step, error=error)

    def interrupt(self, reason: str) -> None:
        """Mark a run whose process is gone as interrupted (emits ``RunInterrupted``)."""
        self.check_still_running()
        self.trigger_event(self.RunInterrupted, reason=reason)

    def tag(self, tag: str) -> None:
        """Add ``tag`` to the run (emits ``RunTagged``; nothing when it is already there).

        Raises:
            InvalidTagError: the tag is empty, too long or holds control characters.

        """
        check_tag(tag)
        if tag not in self.tags:
            self.trigger_event(self.RunTagged, tag=tag)

    def untag(self, tag: str) -> None:
        """Remove ``tag`` from the run (emits ``RunUntagged``; nothing when it is not there)."""
        if tag in self.tags:
            self.trigger_event(self.RunUntagged, tag=tag)

    def log_metadata(self, metadata: Any) -> None:
        """Record metadata on this run, whatever its status (emits ``RunMetadataLogged``).

        Raises:
            InvalidMetadataError: ``metadata`` holds a value that is not a metadata type.
        """
        values, types = checked_metadata(metadata)
        self.trigger_event(self.RunMetadataLogged, metadata=values, types=types)

    def check_still_running(self) -> None:
        """Raise when the run has already ended: a run ends exactly once."""
        if self.status is not RunStatus.RUNNING:
            raise RunAlreadyEndedError(
                f"run {self.id} has already ended with status {self.status.value!r}; "
                "a run ends exactly once"
            )
