"""The event types lineagelog records, by topic: the only classes a stored event may name.

A stored event names its class by topic (``module:Outer.Event``). The
eventsourcing library resolves a topic by importing the module it names, so a
topic read from the database, or from an events file, would choose code to
import. Decoding looks topics up in ``EVENT_CLASSES`` instead: an event whose
topic is not there is undecodable, and nothing is imported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

# Imported for their aggregates: the table below holds every event class they define.
import lineagelog.domain.artifact_name
import lineagelog.domain.openlineage
import lineagelog.domain.run
import lineagelog.domain.seal
import lineagelog.domain.step_code
import lineagelog.domain.step_run
import lineagelog.domain.tag_name  # noqa: F401
from lineagelog.domain.base import LineageAggregate, event_topic

__all__ = ["EVENT_CLASSES", "event_class"]

_DOMAIN = "lineagelog.domain."


def _aggregates(cls: type[LineageAggregate]) -> Iterator[type[LineageAggregate]]:
    for sub in cls.__subclasses__():
        if sub.__module__.startswith(_DOMAIN):
            yield sub
        yield from _aggregates(sub)


def _event_classes() -> dict[str, type[LineageAggregate.Event]]:
    table: dict[str, type[LineageAggregate.Event]] = {}
    for aggregate in _aggregates(LineageAggregate):
        events = [
            value
            for name, value in vars(aggregate).items()
            # Only the classes a topic's attribute path reaches: the library's
            # metaclass also keeps earlier definitions of a class in its bases.
            if isinstance(value, type)
            and issubclass(value, LineageAggregate.Event)
            and value.__qualname__ == f"{aggregate.__qualname__}.{name}"
        ]
        for cls in events:
            # The bases the library derives for each aggregate (``StepRun.Event``, and
            # ``StepRun.Created`` beside an own created event) are never recorded.
            derived = [o for o in events if o is not cls and issubclass(o, cls)]
            if derived or (cls is aggregate.Created and _other_created(events, cls)):
                continue
            table[event_topic(cls)] = cls
    return table


def _other_created(events: list[type[LineageAggregate.Event]], created: type) -> bool:
    return any(c is not created and issubclass(c, LineageAggregate.Created) for c in events)


EVENT_CLASSES: Mapping[str, type[LineageAggregate.Event]] = MappingProxyType(_event_classes())
"""Topic -> event class, for every event class of every aggregate in ``lineagelog.domain``."""


def event_class(topic: str) -> type[LineageAggregate.Event] | None:
    """The event class a stored topic names, or None when lineagelog defines no such event.

    Examples:
        >>> event_class("lineagelog.domain.run:PipelineRun.RunCompleted").__name__
        'RunCompleted'
        >>> event_class("evil:PipelineRun.RunCompleted") is None
        True

    """
    return EVENT_CLASSES.get(topic)
