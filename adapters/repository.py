"""One way to change aggregates: load, apply a command, save in one append, retry on a conflict.

Modelled on eventsourcing's ``Repository`` and ``Application.save``. A command
runs against a ``Changes``, one attempt's unit of work: it loads the
aggregates it needs through it (or adds new ones), and the repository then
appends every event they triggered in ONE append. When another writer
appended to one of those streams first (``ConcurrencyConflict``), the whole
attempt is thrown away, its in-memory aggregates with it, and the command runs
again on aggregates loaded afresh from the log. Nothing is rolled back by hand.

Aggregates a change saved are kept (a bounded cache per repository), so the
next change of the same one reads nothing; a stale one is caught by the
conflict check and reloaded. An aggregate is taken out of the cache while a
change holds it, so two threads never apply commands to one object.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from lineagelog.domain.errors import ConcurrencyConflict, NotFoundError

if TYPE_CHECKING:
    from lineagelog.adapters.event_store import EventStore

__all__ = ["DEFAULT_ATTEMPTS", "AggregateRepository", "Changes"]

DEFAULT_ATTEMPTS = 50
"""Attempts of one change before giving up: enough for dozens of racing writers on one stream."""

_KEPT = 4096  # aggregates kept between changes (ArtifactNames of a busy process, open step runs)

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")


class Changes:
    """One attempt's unit of work: the aggregates a command loaded or added, to save together."""

    def __init__(self, repository: AggregateRepository) -> None:
        self._repository = repository
        self._held: dict[UUID, Aggregate] = {}

    def get(
        self,
        aggregate_id: UUID,
        as_type: type[A],
        *,
        create: Callable[[], A] | None = None,
        fastforward: bool = False,
    ) -> A:
        """The aggregate, to change in this attempt; ``create()`` makes it when its stream is empty.

        ``create`` may raise instead, to say in the caller's words what is missing.
        ``fastforward`` brings a kept aggregate up to the end of its stream first
        (one read of newer events), for a command that must see the latest state.

        Raises:
            NotFoundError: the stream is empty and there is no ``create``, or it
                holds another type of aggregate.

        """
        found = self.find(aggregate_id, as_type, fastforward=fastforward)
        if found is not None:
            return found
        if create is None:
            raise NotFoundError(
                f"no {as_type.__name__} with id {aggregate_id}: its stream is empty; "
                "check the id (or create the aggregate first)"
            )
        return self.add(create())

    def find(
        self,
        aggregate_id: UUID,
        as_type: type[A],
        *,
        fastforward: bool = False,
        load: Callable[[], A | None] | None = None,
    ) -> A | None:
        """The aggregate, to change in this attempt, or None when its stream is empty.

        ``load`` replaces the replay of the whole stream when the aggregate is not
        kept (e.g. a seal resumed from the stream's last event).

        Raises:
            NotFoundError: the stream holds another type of aggregate.

        """
        held = self._held.get(aggregate_id)
        if held is None:
            held = self._repository._take(aggregate_id, fastforward=fastforward, load=load)
            if held is None:
                return None
            self._held[aggregate_id] = held
        if not isinstance(held, as_type):
            raise NotFoundError(
                f"no {as_type.__name__} with id {aggregate_id}: its stream holds a "
                f"{type(held).__name__}; check the id"
            )
        return held

    def add(self, aggregate: A) -> A:
        """Save ``aggregate`` with the others of this attempt; return it.

        Pass only an aggregate made in this attempt (``PipelineRun.start(...)``):
        a failed save has taken the pending events of one made before.
        """
        self._held[aggregate.id] = aggregate
        return aggregate

    def discard(self, aggregate: Aggregate) -> None:
        """Leave ``aggregate`` out: its events are not saved, and a later ``get`` reloads it."""
        self._held.pop(aggregate.id, None)

    @property
    def held(self) -> list[Aggregate]:
        """The aggregates this attempt saves, in the order they were first loaded or added."""
        return list(self._held.values())


class AggregateRepository:
    """Loads aggregates from the event store and saves their changes, retrying on conflicts."""

    def __init__(self, events: EventStore, *, kept: int = _KEPT) -> None:
        """Change the aggregates of ``events``; keep up to ``kept`` saved ones between changes."""
        self.events = events
        self._kept: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._limit = kept
        self._lock = threading.Lock()

    def get(self, aggregate_id: UUID, as_type: type[A]) -> A:
        """The aggregate as its stream records it now (read from the log; never a kept object).

        Raises:
            NotFoundError: the stream is empty, or holds another type of aggregate.

        """
        aggregate = self.events.get(aggregate_id)
        if aggregate is None:
            raise NotFoundError(
                f"no {as_type.__name__} with id {aggregate_id}: its stream is empty; check the id"
            )
        if not isinstance(aggregate, as_type):
            raise NotFoundError(
                f"no {as_type.__name__} with id {aggregate_id}: its stream holds a "
                f"{type(aggregate).__name__}; check the id"
            )
        return aggregate

    def change(
        self,
        aggregate_id: UUID,
        as_type: type[A],
        command: Callable[[A], R],
        *,
        create: Callable[[], A] | None = None,
        fastforward: bool = False,
        attempts: int = DEFAULT_ATTEMPTS,
        on_saved: Callable[[list[int]], object] | None = None,
        what: str | None = None,
    ) -> R:
        """Load one aggregate, apply ``command`` to it, save; on a conflict, all again.

        ``create()`` makes the aggregate when its stream is empty (or raises to say
        what is missing). ``fastforward`` first brings a kept aggregate up to the
        end of its stream: a command that may refuse (raise) must not judge a stale
        one. Returns what ``command`` returned; ``on_saved`` gets the log positions
        of the appended events; ``what`` names the change in the error of the last
        attempt ("tag artifact 'model'").

        Raises:
            NotFoundError: the stream is empty and there is no ``create``.
            ConcurrencyConflict: other writers appended first ``attempts`` times.
            StorageError: the database failed.

        """
        return self.change_together(
            lambda changes: command(
                changes.get(aggregate_id, as_type, create=create, fastforward=fastforward)
            ),
            attempts=attempts,
            on_saved=on_saved,
            what=what or f"change {as_type.__name__} {aggregate_id}",
        )

    def change_together(
        self,
        command: Callable[[Changes], R],
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        on_saved: Callable[[list[int]], object] | None = None,
        what: str | None = None,
    ) -> R:
        """Run ``command`` on a fresh ``Changes`` and save all it holds in one append; retry.

        Every aggregate the command got from (or added to) its ``Changes`` is saved
        atomically: a conflict on one stream appends nothing at all. Each retry
        starts from a new ``Changes``, so no event of a failed attempt survives.
        Returns what ``command`` returned; ``on_saved`` gets the appended positions;
        ``what`` names the change in the error of the last attempt.

        Raises:
            ConcurrencyConflict: other writers appended first ``attempts`` times;
                it names the streams.
            StorageError: the database failed.

        """
        streams: list[Aggregate] = []
        conflict: ConcurrencyConflict | None = None
        for _ in range(attempts):
            changes = Changes(self)
            result = command(changes)  # raising drops what it held: nothing was kept
            streams = changes.held
            try:
                positions = self.events.save(*streams)
            except ConcurrencyConflict as e:
                conflict = e  # another writer came first: reload everything and decide again
                continue
            self._keep(streams)
            if on_saved is not None:
                on_saved(positions)
            return result
        raise ConcurrencyConflict(
            f"could not {what or 'save the change'} after {attempts} attempt(s): other writers "
            f"kept appending first to {_describe(streams)}; try again, with fewer processes "
            "writing to them at once"
        ) from conflict

    def _take(
        self,
        aggregate_id: UUID,
        *,
        fastforward: bool,
        load: Callable[[], Aggregate | None] | None,
    ) -> Aggregate | None:
        """The kept aggregate (taken out while a change holds it), else loaded from the log."""
        with self._lock:
            kept = self._kept.pop(aggregate_id, None)
        if kept is not None:
            if fastforward:
                kept = self.events.get(aggregate_id, after=kept)
            return kept
        loaded: Aggregate | None = load() if load is not None else self.events.get(aggregate_id)
        return loaded

    def _keep(self, aggregates: Iterable[Aggregate]) -> None:
        with self._lock:
            for aggregate in aggregates:
                self._kept[aggregate.id] = aggregate
                self._kept.move_to_end(aggregate.id)
            while len(self._kept) > self._limit:
                self._kept.popitem(last=False)


def _describe(aggregates: list[Aggregate]) -> str:
    if not aggregates:
        return "the streams it changed"
    names = [f"{type(a).__name__} {a.id}" for a in aggregates]
    return "stream(s) " + ", ".join(names)
