"""Live OpenLineage emission, configured the standard OpenLineage way.

Emission is on when OpenLineage is configured for this process and not
disabled, exactly as the openlineage-python client sees it:

- ``OPENLINEAGE_DISABLED=true`` turns it off, whatever else is set;
- ``OPENLINEAGE_URL`` (with ``OPENLINEAGE_ENDPOINT``, ``OPENLINEAGE_API_KEY``),
  ``OPENLINEAGE_CONFIG`` or an ``openlineage.yml`` in the working directory or
  ``~/.openlineage/``, or ``OPENLINEAGE__TRANSPORT__...`` variables choose the
  transport (HTTP, file, console, Kafka... any the client knows);
- the configuration's ``filters`` drop the events of the jobs they match, as the
  client's ``emit`` drops them (``client_filters``);
- ``OPENLINEAGE_NAMESPACE`` is the job namespace (default ``lineagelog``);
  ``LINEAGELOG_OPENLINEAGE_SCHEMA_BASE`` where lineagelog's facet schemas are
  served (``_schemaURL``; e.g. ``http://lineage:8080/openlineage/facets``, where
  ``lineagelog serve`` serves them), as for ``events export`` and ``openlineage send``.

Nothing configured means no emission (the client alone would fall back to
printing every event on the console). ``LINEAGELOG_OPENLINEAGE_DRAIN`` is how
many seconds a closing process waits for undelivered events (default 5).
"""

from __future__ import annotations

import atexit
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineagelog.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from lineagelog.adapters.openlineage.live import LiveEmitter
    from lineagelog.adapters.wiring import LineageStores

__all__ = [
    "DRAIN_VARIABLE",
    "client_filters",
    "drain_seconds",
    "openlineage_configured",
    "start_live_emission",
]

DRAIN_VARIABLE = "LINEAGELOG_OPENLINEAGE_DRAIN"
_DEFAULT_DRAIN = 5.0

_log = logging.getLogger(__name__)


def openlineage_configured() -> bool:
    """Whether this process has an OpenLineage transport configured and not disabled."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OPENLINEAGE_URL") or os.environ.get("OPENLINEAGE_CONFIG"):
        return True
    if any(key.startswith("OPENLINEAGE__TRANSPORT") for key in os.environ):
        return True
    places = (Path.cwd() / "openlineage.yml", Path.home() / ".openlineage" / "openlineage.yml")
    return any(place.is_file() for place in places)


def drain_seconds() -> float:
    """Seconds a closing process waits for undelivered events (``LINEAGELOG_OPENLINEAGE_DRAIN``).

    Raises:
        ConfigurationError: the variable is not a number of seconds.

    """
    text = os.environ.get(DRAIN_VARIABLE, "").strip()
    if not text:
        return _DEFAULT_DRAIN
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ConfigurationError(
            f"{DRAIN_VARIABLE}={text!r} is not a number of seconds; set it to e.g. 5, or unset it"
        )
    return seconds


def client_filters(client: Any) -> Callable[[dict[str, Any]], bool] | None:
    """Whether to send a RunEvent, by the ``filters`` of ``client``'s configuration, else None.

    ``openlineage.yml``'s ``filters`` (``type: exact`` / ``match``, ``type: regex`` /
    ``regex``) drop the events of the jobs they match, as ``OpenLineageClient.emit``
    drops them: the client's own filter objects (``create_filter``) are asked, with
    a RunEvent of the event's type, time, run and job. Emission hands the
    transport the event as lineagelog maps it (with its custom facets), not a
    client object, so it cannot take the client's ``emit`` itself.
    """
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.filter import create_filter

    filters = [f for f in map(create_filter, client.config.filters) if f is not None]
    if not filters:
        return None

    def keep(run_event: dict[str, Any]) -> bool:
        job = run_event["job"]
        event = RunEvent(
            eventType=RunState(run_event["eventType"]),
            eventTime=run_event["eventTime"],
            run=Run(runId=run_event["run"]["runId"]),
            job=Job(namespace=job["namespace"], name=job["name"]),
            producer=run_event["producer"],
        )
        return all(f.filter_event(event) is not None for f in filters)

    return keep


def start_live_emission(stores: LineageStores) -> LiveEmitter | None:
    """Start emitting the appends to ``stores`` if OpenLineage is configured, else None.

    A configuration the openlineage-python client cannot use (or the client
    missing) is logged and leaves emission off: it must not stop pipelines.
    """
    if not openlineage_configured():
        return None
    try:
        from openlineage.client import OpenLineageClient
    except ImportError:
        _log.warning(
            "OpenLineage is configured but openlineage-python is not installed, so no events "
            "are emitted: pip install 'lineagelog[openlineage]'"
        )
        return None
    try:
        client = OpenLineageClient()
        transport = client.transport
        keep = client_filters(client)
    except Exception as e:  # the client's own configuration errors, of any type
        _log.warning(
            "OpenLineage is configured but cannot be used, so no events are emitted: %s", e
        )
        return None
    if transport is None or transport.kind == "noop":
        return None
    # Only a process that emits loads the adapters (and the mapping's tables).
    from lineagelog.adapters.openlineage.delivery import DeliveryStatusStore
    from lineagelog.adapters.openlineage.live import LiveEmitter
    from lineagelog.adapters.openlineage.mapping import DEFAULT_NAMESPACE, ArtifactFacts
    from lineagelog.adapters.openlineage.schemas import schema_base
    from lineagelog.adapters.openlineage.transport import consumer_name

    queries = stores.queries
    projector = stores.projector

    def lookup(artifact_version_id: str) -> ArtifactFacts | None:
        found = queries.artifact_versions_by_id([artifact_version_id])
        if artifact_version_id not in found:  # the catalog is behind this process's own writes
            projector.catch_up(views=("catalog",))
            found = queries.artifact_versions_by_id([artifact_version_id])
        record = found.get(artifact_version_id)
        if record is None:
            return None
        return ArtifactFacts(
            artifact_version_id=record.id,
            uri=record.uri,
            name=record.name,
            version=record.number,
            version_name=record.version,
            content_hash=record.content_hash,
            size=record.size,
            materializer=record.materializer,
            data_type=record.data_type,
            artifact_type=record.artifact_type,
        )

    try:
        base = schema_base()
    except ConfigurationError as e:
        _log.warning("%s; the facets' _schemaURL stays their $id", e)
        base = None
    try:
        drain = drain_seconds()
    except ConfigurationError as e:
        _log.warning("%s; waiting %gs instead", e, _DEFAULT_DRAIN)
        drain = _DEFAULT_DRAIN
    emitter = LiveEmitter(
        stores.events,
        transport,
        consumer=consumer_name(transport),
        status=DeliveryStatusStore(stores.engine),
        namespace=os.environ.get("OPENLINEAGE_NAMESPACE") or DEFAULT_NAMESPACE,
        lookup=lookup,
        schema_base=base,
        drain=drain,
        locate=stores.artifacts.full_uri,
        keep=keep,
    )
    atexit.register(emitter.close)  # a script that never closes its context still drains
    return emitter
