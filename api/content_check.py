"""Do the stored bytes of an artifact version still match what the log recorded?

Steps check the inputs they load, and the cache checks the outputs it would
serve, so bytes changed or removed behind the log's back are never silently
consumed. Hashing costs time in proportion to the bytes: up to
``HASH_UP_TO_BYTES`` of recorded size the files are hashed in full; above it
only their existence and total size are checked (a truncated, emptied or
replaced-by-a-different-size version is still caught; a same-size edit of a
large artifact is left to ``lineagelog audit``). Pickles are always hashed in
full, whatever their size: unpickling runs code, so only recorded bytes may be
unpickled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineagelog.domain.errors import ArtifactUriError

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore
    from lineagelog.api.recorded import ProducedOutput

__all__ = ["HASH_UP_TO_BYTES", "bytes_problem"]

HASH_UP_TO_BYTES = 64 * 1024 * 1024
"""Recorded sizes up to this are hashed in full before use.

Up to this size, hashing an input costs a step about what reading and
deserializing the same bytes costs anyway (``benchmarks/bench_content_hash.py``
measures it); a multi-GiB input would make the step wait seconds, which the
existence-and-size check above it avoids.
"""


def bytes_problem(
    store: ArtifactStore, output: ProducedOutput, *, always_hash: bool = False
) -> str | None:
    """What is wrong with the stored bytes of ``output``, or None when they match the log.

    Args:
        store: the artifact store holding the version.
        output: the version as its recording event states it.
        always_hash: hash in full whatever the size (for pickles).

    Returns:
        None when the files hash to the recorded content hash (or, above
        ``HASH_UP_TO_BYTES``, exist with the recorded total size); else one
        sentence saying what differs, naming the URI.

    """
    try:
        uri = output.location(store)
    except ArtifactUriError as e:
        return str(e)
    if always_hash or output.size <= HASH_UP_TO_BYTES:
        try:
            actual, size = store.content_hash(uri)
        except FileNotFoundError:
            return f"no files at {uri!r}"
        if actual != output.content_hash:
            return (
                f"the files at {uri!r} ({size} bytes) hash to {actual}, "
                f"but {output.content_hash} ({output.size} bytes) was recorded"
            )
        return None
    try:
        size = sum(store.size(f) for f in store.walk_files(uri))
    except FileNotFoundError:
        return f"no files at {uri!r}"
    if size != output.size:
        return f"the files at {uri!r} hold {size} bytes, but {output.size} were recorded"
    return None
