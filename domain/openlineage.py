"""Lineage other tools sent, as OpenLineage RunEvents: the ``OpenLineageEvent`` aggregate.

Every accepted RunEvent is one stream, whose id is derived from the event's
content (``received_event_id``): receiving the same event twice finds its
stream already there and appends nothing. The event is kept verbatim
(``document``, the text as it arrived) beside the facts the projections read
from it, so an audit can show what a third party sent, and when.

Nodes of the lineage graph that OpenLineage names are addressed as Marquez
addresses them, ``dataset:NAMESPACE:NAME`` and ``job:NAMESPACE:NAME``; their
node ids are uuid5 of that address, so a dataset that a lineagelog artifact
lives at and one another tool reads are the same node.
"""

from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID, uuid5

from lineagelog.domain.base import GENESIS_HASH, LineageAggregate
from lineagelog.domain.canonical import digest

__all__ = [
    "DatasetRef",
    "OpenLineageEvent",
    "dataset_address",
    "dataset_node_id",
    "dataset_of_uri",
    "job_address",
    "job_node_id",
    "openlineage_run_node_id",
    "received_event_id",
]

OPENLINEAGE_NAMESPACE = UUID("6f1b2a0e-6b1d-5c55-9e0f-0a5e1d6c0f18")
"""The uuid5 namespace of every id derived from OpenLineage names (fixed forever)."""

DatasetRef = tuple[str, str]
"""An OpenLineage dataset: (namespace, name)."""


def dataset_address(namespace: str, name: str) -> str:
    """The Marquez address of a dataset: ``dataset:NAMESPACE:NAME``."""
    return f"dataset:{namespace}:{name}"


def job_address(namespace: str, name: str) -> str:
    """The Marquez address of a job: ``job:NAMESPACE:NAME``."""
    return f"job:{namespace}:{name}"


_PREFIX = OPENLINEAGE_NAMESPACE.bytes


def _node_id(name: str) -> str:
    """``str(uuid5(OPENLINEAGE_NAMESPACE, name))``, without a ``UUID`` object (a hot path).

    Examples:
        >>> _node_id("job:a:b") == str(uuid5(OPENLINEAGE_NAMESPACE, "job:a:b"))
        True

    """
    sha1 = hashlib.sha1(_PREFIX + name.encode("utf-8"), usedforsecurity=False)
    raw = bytearray(sha1.digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = raw.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


@functools.lru_cache(maxsize=1 << 16)
def dataset_node_id(namespace: str, name: str) -> str:
    """The lineage node id of a dataset (uuid5 of its address).

    A dataset that is an artifact version's folder in a lineagelog artifact store
    (its name ends ``<artifact name>/<version id>``) is named by that tail alone:
    the store may be mounted, moved or copied anywhere, and artifact URIs are
    recorded relative to it, yet it is the same dataset.

    Examples:
        >>> a = dataset_node_id("file", "/srv/store/model/0b9e8a52-6a3c-4a59-9f43-2b0e4bd4a0f1")
        >>> a == dataset_node_id("s3://lake", "x/model/0b9e8a52-6a3c-4a59-9f43-2b0e4bd4a0f1")
        True
        >>> a == dataset_node_id("file", "/srv/raw.parquet")
        False

    """
    tail = artifact_version_tail(name)
    address = f"lineagelog-artifact:{tail}" if tail else dataset_address(namespace, name)
    return _node_id(address)


def artifact_version_tail(name: str) -> str | None:
    """``<artifact name>/<version id>`` when ``name`` ends like an artifact version folder."""
    parts = name.rstrip("/").split("/")
    if len(parts) < 2:
        return None
    try:
        version_id = UUID(parts[-1])
    except ValueError:
        return None
    return f"{parts[-2]}/{version_id}" if parts[-2] else None


@functools.lru_cache(maxsize=1 << 12)
def job_node_id(namespace: str, name: str) -> str:
    """The lineage node id of a job (uuid5 of its address)."""
    return _node_id(job_address(namespace, name))


def openlineage_run_node_id(run_id: str) -> str:
    """The lineage node id of an OpenLineage run, apart from lineagelog's own run ids.

    An exported lineagelog run keeps its id as its OpenLineage ``runId``; imported
    into the same store it must not become that run's node.
    """
    return _node_id(f"run:{run_id.lower()}")


def received_event_id(document: Any) -> UUID:
    """The stream id of a received event: uuid5 of its canonical digest (same event, same id)."""
    return uuid5(OPENLINEAGE_NAMESPACE, f"event:{digest(document)}")


def dataset_of_uri(uri: str) -> DatasetRef:
    """The OpenLineage dataset (namespace, name) of the place ``uri`` names.

    Follows the OpenLineage naming conventions: an object store's namespace is
    ``scheme://bucket`` and the name the key; a local path's namespace is ``file``
    and the name the absolute path.

    Examples:
        >>> dataset_of_uri("s3://bucket/models/model/1")
        ('s3://bucket', 'models/model/1')
        >>> dataset_of_uri("/home/me/.lineagelog/artifacts/data/4f1c")
        ('file', '/home/me/.lineagelog/artifacts/data/4f1c')
        >>> dataset_of_uri("file:///data/raw.parquet")
        ('file', '/data/raw.parquet')

    """
    if uri.startswith("/"):  # an absolute path (no scheme): the common case, without parsing
        return "file", uri
    parts = urlsplit(uri)
    if len(parts.scheme) <= 1:  # a plain path (a Windows drive letter too)
        return "file", uri
    if parts.scheme == "file":
        return "file", parts.path
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


class OpenLineageEvent(LineageAggregate):
    """One RunEvent another tool sent, accepted after validation against the specification."""

    class Event(LineageAggregate.Event):
        """Base of the events of ``OpenLineageEvent``.

        Its events derive from it as written: eventsourcing would otherwise redefine each
        one under a base of its own making, a second dataclass per event class at import.
        """

    class Received(LineageAggregate.Created, Event):
        """An OpenLineage RunEvent arrived and validated; ``document`` is it as it arrived.

        The other fields are read from ``document`` when it was received: what the
        lineage view needs, without parsing the document again. ``channel`` says
        how it came (``http``, ``file``). ``cached_from`` is set for a run whose
        ``lineagelog_cache`` facet says it was a cache hit: the ``runId`` of the run
        that wrote the outputs it lists, which it reused rather than produced
        (events recorded before this field existed read as None).
        """

        document: str
        channel: str
        event_type: str | None
        event_time: str
        producer: str
        run_id: str
        job_namespace: str
        job_name: str
        parent: dict[str, str] | None  # run_id, job_namespace, job_name
        inputs: list[list[str]]  # [namespace, name] pairs
        outputs: list[list[str]]
        cached_from: str | None = None  # a lineagelog cache hit: the run whose outputs it reused

        def apply(self, aggregate: Any) -> None:  # noqa: D102
            aggregate.run_id = self.run_id

    if TYPE_CHECKING:
        run_id: str

    @classmethod
    def receive(
        cls, document: str, parsed: dict[str, Any], *, channel: str, stream: UUID | None = None
    ) -> OpenLineageEvent:
        """Record a validated RunEvent (emits ``Received``); ``parsed`` is ``document`` parsed.

        ``stream`` is ``received_event_id(parsed)`` when the caller has it already.
        """
        job, run = parsed["job"], parsed["run"]
        parent_facet = (run.get("facets") or {}).get("parent")
        parent = None
        if isinstance(parent_facet, dict):
            parent = {
                "run_id": str(parent_facet["run"]["runId"]),
                "job_namespace": str(parent_facet["job"]["namespace"]),
                "job_name": str(parent_facet["job"]["name"]),
            }
        return cls._create(
            cls.Received,
            id=received_event_id(parsed) if stream is None else stream,
            previous_hash=GENESIS_HASH,
            document=document,
            channel=channel,
            event_type=parsed.get("eventType"),
            event_time=str(parsed["eventTime"]),
            producer=str(parsed["producer"]),
            run_id=str(run["runId"]).lower(),
            job_namespace=str(job["namespace"]),
            job_name=str(job["name"]),
            parent=parent,
            inputs=_datasets(parsed.get("inputs")),
            outputs=_datasets(parsed.get("outputs")),
            cached_from=_cached_from(run.get("facets")),
        )


def _cached_from(facets: Any) -> str | None:
    cache = (facets or {}).get("lineagelog_cache")
    if not isinstance(cache, dict) or cache.get("outcome") != "hit":
        return None
    original = cache.get("originalStepRunId")
    return str(original).lower() if isinstance(original, str) else None


def _datasets(listed: Any) -> list[list[str]]:
    return [[str(d["namespace"]), str(d["name"])] for d in listed or ()]
