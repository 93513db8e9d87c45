"""``PathMaterializer``: a local file or folder (``pathlib.Path``) copied into the store.

Imported only when a Path is saved or loaded (see ``registry``). Layout: the
file or folder keeps its name under ``<uri>/data/``, and ``path.json`` says
which it is and lists the folder's subfolders (so empty ones come back).

Loading gives a local path to a new temporary copy, on every store (a local
folder store too), so a step that changes or deletes its input never touches
the stored version; the caller may delete the copy.

``path.json`` and the store's listing are data: anyone who can write the store
can edit them. Every name they give must stay inside the temporary folder
(no absolute path, no ``..``), and all names are checked before anything is
written. Loading writes local files, so the materializer sets
``VERIFY_BEFORE_LOAD``: ``load_artifact`` compares the content hash first.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from lineagelog.adapters.materializers.base import ArtifactType, BaseMaterializer
from lineagelog.domain.errors import LineageError, MaterializerError

__all__ = ["PathMaterializer", "StoredDataMaterializer"]

DATA_FOLDER = "data"
PATH_JSON = "path.json"


class PathMaterializer(BaseMaterializer):
    """A file or a folder tree, given as a ``pathlib.Path``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Path,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    VERIFY_BEFORE_LOAD: ClassVar[bool] = True

    def save(self, data: Any) -> None:
        """Copy the file or folder into ``<uri>/data/<name>``."""
        source = Path(data).resolve()
        name = source.name or "root"
        store = self.artifact_store
        target = store.local_path(self.uri)
        if target is not None and Path(target).resolve().is_relative_to(source):
            raise MaterializerError(
                f"path {str(data)!r} holds the artifact folder {self.uri!r} it would be copied "
                "to, so it would copy into itself; save a folder that does not hold the "
                "artifact store (data already in the store is registered where it lies)"
            )
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
        """Return a local path to a new temporary copy of the file or folder.

        Raises:
            MaterializerError: when ``path.json`` or the stored file names would
                write outside the temporary folder (nothing is written then).

        """
        store = self.artifact_store
        kind, name, folders = self._read_info()
        stored = self.path(DATA_FOLDER, name)
        files: list[tuple[str, str]] = []
        if kind == "directory":
            for file in store.walk_files(stored):
                relative = store.relpath(file, stored)
                files.append((self._checked_relative(relative, "a stored file"), file))
        temporary = Path(tempfile.mkdtemp(prefix="lineagelog-path-")).resolve()
        target = temporary / name
        try:
            # Names were checked lexically; resolving catches what a platform reads otherwise.
            for relative in [name, *(f"{name}/{x}" for x in folders + [r for r, _ in files])]:
                if not (temporary / relative).resolve().is_relative_to(temporary):
                    raise self._bad_info(f"gives {relative!r}, which leaves the temporary folder")
            if kind == "file":
                store.download(stored, target)
            else:
                target.mkdir()
                for folder in folders:
                    (target / folder).mkdir(parents=True, exist_ok=True)
                for relative, file in files:
                    destination = target / relative
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    store.download(file, destination)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        return target if data_type is object else data_type(target)

    def _read_info(self) -> tuple[str, str, list[str]]:
        try:
            info = json.loads(self.artifact_store.read_text(self.path(PATH_JSON)))
        except ValueError as e:
            raise self._bad_info(f"is not JSON ({e})") from e
        if not isinstance(info, dict) or info.get("kind") not in ("file", "directory"):
            raise self._bad_info("does not say whether it is a 'file' or a 'directory'")
        name = info.get("name")
        if not isinstance(name, str) or _parts(name) != [name]:
            raise self._bad_info(
                f"names {name!r}, which is not a plain file name (no '/', '..' or absolute path)"
            )
        folders = info.get("folders", [])
        if not isinstance(folders, list):
            raise self._bad_info(f"lists folders {folders!r}, not a list of relative paths")
        checked = [self._checked_relative(folder, "a folder") for folder in folders]
        return info["kind"], name, checked

    def _checked_relative(self, relative: Any, what: str) -> str:
        if not isinstance(relative, str) or not _parts(relative):
            raise self._bad_info(
                f"gives {what} {relative!r}, which would be written outside the artifact's "
                "temporary folder (an absolute path, '..', or empty)"
            )
        return "/".join(_parts(relative))

    def _bad_info(self, problem: str) -> LineageError:
        return MaterializerError(
            f"{self.path(PATH_JSON)} {problem}; refusing to load the path artifact at "
            f"{self.uri!r}, nothing was written. Its files were edited after they were "
            "written: check them with `lineagelog audit`"
        )

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Whether it is a file or a folder, and its name."""
        source = Path(data)
        return {"kind": "file" if source.is_file() else "directory", "name": source.name}


class StoredDataMaterializer(BaseMaterializer):
    """Data registered where it lies in the store (``<store>/<name>``), never copied.

    Its ``uri`` is the registered file or folder itself; the files are the
    store's ``data_files`` (without version folders other versions of the name
    keep beside them). Loading gives a local path to a new temporary copy, as
    ``PathMaterializer`` does. Chosen for no type: only registering picks it.
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (Path,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    SKIP_REGISTRATION: ClassVar[bool] = True
    VERIFY_BEFORE_LOAD: ClassVar[bool] = True

    def save(self, data: Any) -> None:
        """Refuse: this materializer only reads data that is already in the store."""
        raise MaterializerError(
            "StoredDataMaterializer reads data registered where it lies in the artifact store; "
            "it writes nothing. Save a Path with PathMaterializer (the default)"
        )

    def load(self, data_type: type) -> Any:
        """Return a local path to a new temporary copy of the registered file or folder."""
        store = self.artifact_store
        name = self.uri.rstrip("/").rsplit("/", 1)[-1] or "root"
        temporary = Path(tempfile.mkdtemp(prefix="lineagelog-path-")).resolve()
        target = temporary / name
        try:
            if not store.isdir(self.uri):
                store.download(self.uri, target)
            else:
                target.mkdir()
                for file in store.data_files(self.uri):
                    relative = "/".join(_parts(store.relpath(file, self.uri)))
                    if not relative:
                        raise MaterializerError(f"stored file {file!r} has an unusable name")
                    destination = target / relative
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    store.download(file, destination)
        except BaseException:
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        return target if data_type is object else data_type(target)


def _parts(relative: str) -> list[str]:
    """The parts of a relative POSIX path, or [] when it could leave its folder."""
    path = PurePosixPath(relative)
    parts = list(path.parts)
    if not relative or "\0" in relative or path.is_absolute():
        return []
    if any(part in ("..", ".") for part in parts):
        return []
    return parts
