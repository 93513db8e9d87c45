"""Which handlers run for which events: a page's dispatch table, and applying it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lineagelog.projections.batch import PageBatch
from lineagelog.projections.ports import RecordedEvent
from lineagelog.projections.views import ALWAYS, HANDLERS, Handler

__all__ = ["Dispatch", "apply_events", "dispatch_of"]

Dispatch = dict[str, list[tuple[int, Handler]]]


def dispatch_of(views: Iterable[str], moved: set[str], current: dict[str, int]) -> Dispatch:
    """Event type name -> (view position, handler) of every view that moves, in view order.

    Read from ``HANDLERS`` at every page, so a handler replaced at run time is used.
    """
    # Stored events reach handlers as light records named after their event class.
    names = {cls.__name__ for view in moved for cls in HANDLERS[view]}
    dispatch: Dispatch = {name: [] for name in names}
    always: list[tuple[int, Handler]] = []
    for view in views:
        if view not in moved:
            continue
        done = current.get(view, 0)
        for cls, handler in HANDLERS[view].items():
            dispatch[cls.__name__].append((done, handler))
        if view in ALWAYS:
            always.append((done, ALWAYS[view]))
    if always:
        for handlers in dispatch.values():
            handlers.extend(always)
        dispatch[""] = always  # any other type
    return dispatch


def apply_events(batch: PageBatch, page: Sequence[RecordedEvent], dispatch: Dispatch) -> None:
    """Run each event's handlers, event by event (each table belongs to one view)."""
    other = dispatch.get("", [])
    for position, domain_event in page:
        for done, handler in dispatch.get(type(domain_event).__name__, other):
            if position > done:
                handler(batch, position, domain_event)
