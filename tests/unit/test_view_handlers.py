"""Projection handlers are keyed by the domain's own event classes."""

from __future__ import annotations

import inspect

from lineagelog.domain import (
    artifact_name,
    openlineage,
    run,
    seal,
    step_code,
    step_run,
    tag_name,
)
from lineagelog.domain.base import LineageAggregate
from lineagelog.projections.views import HANDLERS, VIEWS


def _domain_events() -> set[type]:
    found = set()
    for module in (run, step_run, artifact_name, seal, tag_name, openlineage, step_code):
        for _, aggregate in inspect.getmembers(module, inspect.isclass):
            if issubclass(aggregate, LineageAggregate) and aggregate is not LineageAggregate:
                # The aggregate's own event classes; Event and Created are abstract bases.
                found |= {
                    member
                    for name, member in vars(aggregate).items()
                    if isinstance(member, type)
                    and issubclass(member, LineageAggregate.Event)
                    and name not in ("Event", "Created")
                }
    return found


def test_every_handler_key_is_a_real_domain_event_class():
    events = _domain_events()

    keys = {key for handlers in HANDLERS.values() for key in handlers}

    assert keys <= events
    assert set(HANDLERS) <= set(VIEWS)


def test_domain_event_class_names_are_unique_so_stored_records_dispatch_to_one_class():
    names = [cls.__name__ for cls in _domain_events()]

    assert len(names) == len(set(names))
    assert {"RunStarted", "ArtifactWritten", "VersionDeleted", "Sealed"} <= set(names)
