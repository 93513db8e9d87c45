"""Materializers for Python's built-in types; JSON or raw bytes, never pickle.

- ``None``, ``bool``, ``int``, ``float``, ``str``: ``data.json`` (lossless, see
  ``jsonvalues``); a string also gets a Markdown visualization.
- ``bytes``, ``bytearray``: the raw bytes in ``data.bin``.
- ``dict``, ``list``, ``tuple``, ``set``, ``frozenset``: ``data.json``, nested
  containers included, plus a JSON visualization. A container holding values
  JSON cannot (dataclasses, arrays, your own types) saves each element with its
  own materializer in a numbered subfolder, listed in ``elements.json``, as
  ZenML's ``BuiltInContainerMaterializer`` does; loading resolves each recorded
  materializer and type as ``trusted`` does for the artifact itself.

Types load back exactly: a tuple as a tuple, ``True`` as a bool, ``1`` as an
int. A subclass (an ``Enum`` of ``str``, a ``namedtuple``) is stored as its
built-in base and rebuilt with ``data_type(value)`` when loaded.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from lineagelog.adapters.materializers import jsonvalues
from lineagelog.adapters.materializers.base import (
    ArtifactType,
    BaseMaterializer,
    VisualizationType,
)
from lineagelog.domain.errors import MaterializerError, NoMaterializerError

__all__ = ["BuiltInContainerMaterializer", "BuiltInMaterializer", "BytesMaterializer"]

DATA_JSON = "data.json"
DATA_BIN = "data.bin"

# Checked in this order: bool before int, since bool is a subclass of int.
_BASES: tuple[type, ...] = (
    bool,
    int,
    float,
    str,
    bytes,
    bytearray,
    list,
    tuple,
    dict,
    set,
    frozenset,
    type(None),
)


class _JsonMaterializer(BaseMaterializer):
    """A value as ``data.json`` (lineagelog's JSON, which also keeps tuples and sets apart)."""

    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Any) -> None:
        """Write ``data.json``; raise ``NoMaterializerError`` for a non-JSON element."""
        self.artifact_store.write_bytes(self.path(DATA_JSON), jsonvalues.dumps(as_builtin(data)))

    def load(self, data_type: type) -> Any:
        """Read ``data.json`` back as ``data_type``."""
        value = jsonvalues.loads(self.artifact_store.read_bytes(self.path(DATA_JSON)))
        return convert(value, data_type)


class BuiltInMaterializer(_JsonMaterializer):
    """``None``, ``bool``, ``int``, ``float`` and ``str`` as ``data.json``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (bool, int, float, str, type(None))

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        """Show a string as Markdown."""
        if not isinstance(data, str):
            return {}
        path = self.visualization_path("preview.md")
        # backslashreplace: a lone surrogate is a valid str but not valid UTF-8.
        self.artifact_store.write_bytes(path, data.encode("utf-8", "backslashreplace"))
        return {path: VisualizationType.MARKDOWN}

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the length of a string."""
        return {"length": len(data)} if isinstance(data, str) else {}


class BytesMaterializer(BaseMaterializer):
    """``bytes`` and ``bytearray`` as raw ``data.bin``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (bytes, bytearray)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Any) -> None:
        """Write ``data.bin``."""
        self.artifact_store.write_bytes(self.path(DATA_BIN), bytes(data))

    def load(self, data_type: type) -> Any:
        """Read ``data.bin`` back as ``data_type``."""
        return convert(self.artifact_store.read_bytes(self.path(DATA_BIN)), data_type)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the number of bytes."""
        return {"length": len(data)}


class BuiltInContainerMaterializer(_JsonMaterializer):
    """``dict``, ``list``, ``tuple``, ``set`` and ``frozenset``; JSON, else element by element."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (dict, list, tuple, set, frozenset)

    def save(self, data: Any) -> None:
        """Write ``data.json``, or each element with its own materializer when one is not JSON."""
        try:
            encoded = jsonvalues.dumps(as_builtin(data))
        except NoMaterializerError:
            from lineagelog.adapters.materializers.containers import check_savable, save_elements

            check_savable(data)  # before writing anything, naming the exact place
            save_elements(self, as_builtin(data))
            return
        self.artifact_store.write_bytes(self.path(DATA_JSON), encoded)

    def load(self, data_type: type) -> Any:
        """Read ``data.json`` or the elements in ``elements.json`` back as ``data_type``."""
        from lineagelog.adapters.materializers.containers import ELEMENTS_JSON, load_elements

        if self.artifact_store.exists(self.path(ELEMENTS_JSON)):
            return convert(load_elements(self), data_type)
        return super().load(data_type)

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        """Show the value as indented JSON (when it is JSON)."""
        from lineagelog.adapters.materializers.containers import ELEMENTS_JSON

        if self.artifact_store.exists(self.path(ELEMENTS_JSON)):
            return {}
        path = self.visualization_path("data.json")
        text = json.dumps(jsonvalues.to_display(data), indent=2, ensure_ascii=True)
        self.artifact_store.write_text(path, text)
        return {path: VisualizationType.JSON}

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record the number of elements."""
        return {"length": len(data)}


def as_builtin(data: Any) -> Any:
    """Return ``data`` as an instance of exactly its built-in base type (an Enum's value)."""
    if type(data) in _BASES:
        return data
    for base in _BASES:
        if isinstance(data, base):
            # str(x) would call a subclass's __str__ (an Enum's "Color.RED"); take the value.
            return str.__str__(data) if base is str else base(data)
    raise MaterializerError(f"{type(data).__qualname__} is not a built-in type")


def convert(value: Any, data_type: type) -> Any:
    """Return ``value`` (a built-in) as an instance of ``data_type``.

    Raises:
        MaterializerError: when ``data_type`` cannot be built from the value.

    """
    if type(value) is data_type or data_type is object:
        return value
    try:
        if isinstance(value, tuple) and hasattr(data_type, "_fields"):
            result = data_type(*value)
        else:
            result = data_type(value)
    except Exception as e:
        raise MaterializerError(
            f"stored {type(value).__qualname__} cannot be turned back into "
            f"{data_type.__module__}:{data_type.__qualname__} ({e}); write a materializer "
            "for that type (subclass BaseMaterializer with ASSOCIATED_TYPES)"
        ) from e
    if not isinstance(result, data_type):
        raise MaterializerError(
            f"{data_type.__qualname__}({type(value).__qualname__}) did not give a "
            f"{data_type.__qualname__}; write a materializer for that type"
        )
    return result
