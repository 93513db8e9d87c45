"""Write leases: a writer's claim on the artifact folder it is filling, so ``gc`` leaves it alone.

Before a writer makes ``<root>/<name>/<version id>/`` it writes the lease
``<root>/.lineagelog/leases/<version id>.json`` (host name and boot id, pid, the
process's start time where the OS tells it, and when the write began). Once the version's
event is recorded, or the write failed and its folder was removed, it deletes
the lease. ``gc`` lists the folders, then reads the leases, then the views: a
folder it listed either has a lease it can see or its event reached the views.

The reserved folder ``.lineagelog`` starts with ``.``, which no artifact name
may (``check_artifact_name``), so it is never taken for an artifact's folder.

A lease is data read back from a shared store, so it is treated as untrusted:
its version id comes from its file name (a UUID, or the file is ignored), its
content is size-bounded and type-checked, and a lease that cannot be read
protects its folder only while younger than the remote bound, like a lease
from another host.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from lineagelog.adapters import processes
from lineagelog.domain.errors import LineageError, StorageError

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.domain.lifecycle import WriteLease

__all__ = ["LEASES_FOLDER", "RESERVED_FOLDER", "read_leases", "write_lease"]

RESERVED_FOLDER = ".lineagelog"
"""The store's own folder under the root; never an artifact name (names cannot start with '.')."""

LEASES_FOLDER = f"{RESERVED_FOLDER}/leases"

_MAX_LEASE_BYTES = 4096  # a lease is ~200 bytes; anything larger is not one of ours
_MAX_PID = 2**31 - 1


@contextlib.contextmanager
def write_lease(store: ArtifactStore, artifact_version_id: UUID, name: str) -> Iterator[str]:
    """Hold a write lease on ``<root>/<name>/<artifact_version_id>`` for the ``with`` block.

    Take it before the folder is made and leave the block only once the
    version's event is recorded (or the write failed): ``gc`` never removes the
    folder while the lease holds. Yields the lease's URI.

    Raises:
        StorageError: when the lease cannot be written (nothing else was written yet).

    """
    uri = _lease_uri(store, artifact_version_id)
    pid = os.getpid()
    record = {
        "format": 1,
        "artifact_version_id": str(artifact_version_id),
        "name": name,
        "host": processes.this_host(),
        "boot_id": processes.boot_id(),
        "pid": pid,
        "process_start": processes.own_start_ticks(pid),
        "started": time.time(),
    }
    try:
        store.write_text(uri, json.dumps(record))
    except OSError as e:
        raise StorageError(
            f"could not write the write lease {uri!r} ({e}); check that the artifact store "
            f"{store.root!r} is writable, then run again"
        ) from e
    try:
        yield uri
    finally:
        # A lease that cannot be removed holds only while this process lives.
        with contextlib.suppress(OSError, LineageError):
            store.remove(uri)


def read_leases(store: ArtifactStore) -> list[WriteLease]:
    """Every write lease in the store, with whether its process is alive (on this host)."""
    folder = store.join(store.root, LEASES_FOLDER)
    if not store.isdir(folder):
        return []
    now = time.time()
    leases = []
    for uri in store.listdir(folder):
        stem = uri.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
        if not uri.endswith(".json") or not processes.is_uuid(stem):
            continue  # not a lease of ours: never judged, never removed
        try:
            lease = _read_lease(store, uri, stem, now)
        except FileNotFoundError:
            continue  # its writer finished between the listing and the read
        leases.append(lease)
    return leases


def _read_lease(store: ArtifactStore, uri: str, version_id: str, now: float) -> WriteLease:
    from lineagelog.domain.lifecycle import WriteLease  # gc reads leases; writers never load it

    record = _parse(store.read_bytes(uri) if store.size(uri) <= _MAX_LEASE_BYTES else b"")
    if record is None:
        modified = store.modified(uri)
        age = None if modified is None else now - modified
        return WriteLease(uri, version_id, None, None, age, None)
    host, boot_id, pid, process_start, started = record
    here = _is_this_machine(host, boot_id)
    alive = processes.process_alive(pid, start_ticks=process_start) if here else None
    return WriteLease(uri, version_id, host, pid, now - started, alive)


def _is_this_machine(host: str, boot_id: str | None) -> bool:
    """Same host name and, where both know it, the same boot: two machines may share a name."""
    mine = processes.boot_id()
    return host == processes.this_host() and (boot_id is None or mine is None or boot_id == mine)


def _parse(raw: bytes) -> tuple[str, str | None, int, int | None, float] | None:
    """Host, boot id, pid, process start and start time of a lease, or None when it is invalid."""
    try:
        record: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    host, pid = record.get("host"), record.get("pid")
    process_start, started = record.get("process_start"), record.get("started")
    if not isinstance(host, str) or not 0 < len(host) <= 255:
        return None
    boot_id = record.get("boot_id")
    if boot_id is not None and (not isinstance(boot_id, str) or len(boot_id) > 64):
        return None
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= _MAX_PID:
        return None
    if process_start is not None and (
        isinstance(process_start, bool) or not isinstance(process_start, int)
    ):
        return None
    if isinstance(started, bool) or not isinstance(started, int | float):
        return None
    if not math.isfinite(started):
        return None
    return host, boot_id, pid, process_start, float(started)


def _lease_uri(store: ArtifactStore, artifact_version_id: UUID) -> str:
    return store.join(store.root, LEASES_FOLDER, f"{artifact_version_id}.json")
