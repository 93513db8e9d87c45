"""Checking an artifact version's bytes against the content hash the log recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lineagelog.domain.errors import ArtifactNotFoundError, IntegrityError

if TYPE_CHECKING:
    from lineagelog.adapters.artifact_store import ArtifactStore

__all__ = ["verify_artifact_bytes"]


def verify_artifact_bytes(store: ArtifactStore, version: Any) -> None:
    """Hash the files of ``version`` (an ``ArtifactVersion``) and compare with its record.

    Raises:
        ArtifactNotFoundError: nothing is stored at the version's uri any more.
        IntegrityError: the stored bytes hash to something else.

    """
    label = f"{version.name}:{version.version}"
    try:
        actual, size = store.content_hash(version.uri)
    except FileNotFoundError:
        raise ArtifactNotFoundError(
            f"artifact {label} ({version.id}) is missing from the store at {version.uri}; "
            "run `lineagelog audit` to see what else is gone"
        ) from None
    if actual != version.content_hash:
        raise IntegrityError(
            f"artifact {label} ({version.id}) at {version.uri} hashes to sha256:{actual} "
            f"({size} bytes) but the log recorded sha256:{version.content_hash} "
            f"({version.size} bytes): its bytes were changed after they were written; "
            "do not trust this value, and run `lineagelog audit`"
        )
