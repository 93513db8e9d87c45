"""``PathMaterializer``: a local file or folder (``pathlib.Path``) copied into the store.

Imported only when a Path is saved or loaded (see ``registry``). Layout: the
file or folder keeps its name under ``<uri>/data/``, and ``path.json`` says
which it is and lists the folder's subfolders (so empty ones come back).

Loading gives a local path. On a local store that is the copy inside the store
itself (treat it as read-only: changing it breaks the artifact's content hash);
on a remote store the files are downloaded to a new temporary folder first,
which the caller may delete.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from lineagelog.adapters.materializers.base import ArtifactType, BaseMaterializer
from lineagelog.domain.errors import MaterializerError

__all__ = ["PathMaterializer"]

DATA_FOLDER = "data"
PATH_JSON = "path.json"


class PathMaterializer(BaseMaterializer):
    """A file or a folder tree, given as a ``pathlib.Path``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Path,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Any) -> None:
        """Copy the file or folder into ``<uri>/data/<name>``."""
        source = Path(data).resolve()
        name = source.name or "root"
        store = self.artifact_store
        if source.is_file():
            store.upload(source, self.path(DATA_FOLDER, name))
            info: dict[str, Any] = {"kind": "file", "name": name}
        elif source.is_dir():
            store.makedirs(self.path(DATA_FOLDER, name))
            folders: list[str] = []
            for folder, subfolders, files in os.walk(source):
                relative = PurePosixPath(Path(folder).relative_to(source).as_posix())
                for sub in subfolders:
                    folders.append(str(relative / sub))
                    store.makedirs(self.path(DATA_FOLDER, name, str(relative / sub)))
                for file in files:
                    target = self.path(DATA_FOLDER, name, str(relative / file))
                    store.upload(Path(folder) / file, target)
            info = {"kind": "directory", "name": name, "folders": sorted(folders)}
        else:
            raise MaterializerError(
                f"path {str(data)!r} is neither a file nor a folder (does it exist?); "
                "return a path to an existing file or folder"
            )
        store.write_text(self.path(PATH_JSON), json.dumps(info))

    def load(self, data_type: type) -> Any:
        """Return a local path to the file or folder (downloaded first from a remote store)."""
        store = self.artifact_store
        info = json.loads(store.read_text(self.path(PATH_JSON)))
        stored = self.path(DATA_FOLDER, info["name"])
        local = store.local_path(stored)
        if local is None:
            target = Path(tempfile.mkdtemp(prefix="lineagelog-path-")) / info["name"]
            if info["kind"] == "file":
                store.download(stored, target)
            else:
                target.mkdir()
                for folder in info.get("folders", []):
                    (target / folder).mkdir(parents=True, exist_ok=True)
                for file in store.walk_files(stored):
                    destination = target / store.relpath(file, stored)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    store.download(file, destination)
            local = str(target)
        return Path(local) if data_type is object else data_type(local)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Whether it is a file or a folder, and its name."""
        source = Path(data)
        return {"kind": "file" if source.is_file() else "directory", "name": source.name}
