"""``ArtifactVersion.download_files``: a version's stored files as a local zip, unmaterialized.

ZenML's behaviour: the path must end with ``.zip`` and an existing file is
replaced only when asked. The zip is written beside the target and moved into
place once complete, so a failure never leaves half a zip nor destroys the file
it would have replaced. The version's URI is read from the log, as for loading.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from lineagelog.api.artifacts import recorded_version
from lineagelog.domain.errors import (
    ArtifactNotFoundError,
    DownloadPathError,
    DownloadTargetExistsError,
)

if TYPE_CHECKING:
    from lineagelog.api.context import LineageContext
    from lineagelog.api.models import ArtifactVersion

__all__ = ["download_files"]


def download_files(
    context: LineageContext,
    version: ArtifactVersion,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Zip every stored file of ``version`` into ``path``; return the zip's path.

    Raises:
        DownloadPathError: ``path`` does not end with ``.zip``.
        DownloadTargetExistsError: ``path`` exists (a folder always counts) and
            ``overwrite`` is False.
        ArtifactNotFoundError: the version was deleted, or its bytes are gone.

    """
    target = Path(os.fspath(path)).expanduser()
    label = f"{version.name}:{version.version}"
    if target.suffix != ".zip":
        raise DownloadPathError(
            f"download_files writes a zip file: {str(target)!r} does not end with '.zip'; "
            f"e.g. {label.replace(':', '_').replace('/', '_')}.zip"
        )
    if target.is_dir() or (target.exists() and not overwrite):
        raise DownloadTargetExistsError(
            f"{str(target)!r} already exists; pass overwrite=True to replace it"
            + (" (it is a folder, which is never replaced)" if target.is_dir() else "")
        )
    if version.deleted:
        raise ArtifactNotFoundError(
            f"artifact {label} ({version.id}) was {version.deletion}: its files are gone; "
            "download a version that is not deleted"
        )
    store = context.artifacts
    uri = store.locate(recorded_version(context, version).uri)
    try:
        files = store.walk_files(uri)
    except FileNotFoundError:
        raise ArtifactNotFoundError(
            f"artifact {label} ({version.id}) has no files at {uri}; "
            "run `lineagelog audit` to see what else is gone"
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(scratch, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                member = store.relpath(file, uri) or Path(file).name
                with store.open(file, "rb") as source, archive.open(member, "w") as sink:
                    while chunk := source.read(1 << 20):
                        sink.write(chunk)
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)
    return target
