"""Materializers: how step outputs of each Python type are written and read.

Importing this package registers the built-ins for ``None``, ``bool``, ``int``,
``float``, ``str``, ``bytes``, containers, ``UUID`` and ZenML's structured
strings (``CSVString``, ``HTMLString``, ``MarkdownString``, ``JSONString``);
dataclasses without a materializer of their own get ``DataclassMaterializer``;
numpy, pandas, scikit-learn, pydantic and pathlib materializers are registered lazily and
imported on first use, and ``save_artifact`` / ``load_artifact`` /
``SavedArtifact`` are imported on first
access, so this import stays fast (no numpy, pandas, pydantic or fsspec).
Pickle is used only when the user opts in (per step, or project-wide with the
pickle fallback, see ``fallback``). Names read back from the log (the
materializer and data type of an artifact) are resolved by
``resolve_materializer`` / ``resolve_data_type``, which never import anything.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lineagelog.adapters.materializers import builtins as _builtins  # registers the built-ins
from lineagelog.adapters.materializers.base import (
    ArtifactType,
    BaseMaterializer,
    VisualizationType,
    make_materializer,
)
from lineagelog.adapters.materializers.builtins import (
    BuiltInContainerMaterializer,
    BuiltInMaterializer,
    BytesMaterializer,
)
from lineagelog.adapters.materializers.choice import materializer_for_value
from lineagelog.adapters.materializers.dataclass import DataclassMaterializer
from lineagelog.adapters.materializers.pickle import (
    PickleFallbackMaterializer,
    PickleMaterializer,
    allow_pickle,
    pickle_allowed,
    pickle_permission,
)
from lineagelog.adapters.materializers.registry import (
    MaterializerRegistry,
    materializer_for,
    materializer_registry,
    materializer_source,
    register_lazy,
    register_materializer,
    type_source,
)
from lineagelog.adapters.materializers.structured import (
    CSVString,
    HTMLString,
    JSONString,
    MarkdownString,
    StructuredStringMaterializer,
    UUIDMaterializer,
)
from lineagelog.adapters.materializers.trusted import resolve_data_type, resolve_materializer

if TYPE_CHECKING:
    from lineagelog.adapters.materializers.io import SavedArtifact, load_artifact, save_artifact

__all__ = [
    "ArtifactType",
    "BaseMaterializer",
    "BuiltInContainerMaterializer",
    "BuiltInMaterializer",
    "BytesMaterializer",
    "CSVString",
    "DataclassMaterializer",
    "HTMLString",
    "JSONString",
    "MarkdownString",
    "MaterializerRegistry",
    "PickleFallbackMaterializer",
    "PickleMaterializer",
    "SavedArtifact",
    "StructuredStringMaterializer",
    "UUIDMaterializer",
    "VisualizationType",
    "allow_pickle",
    "load_artifact",
    "make_materializer",
    "materializer_for",
    "materializer_for_value",
    "materializer_registry",
    "materializer_source",
    "pickle_allowed",
    "pickle_permission",
    "register_lazy",
    "register_materializer",
    "resolve_data_type",
    "resolve_materializer",
    "save_artifact",
    "type_source",
]

_LAZY_EXPORTS = {"SavedArtifact", "load_artifact", "save_artifact"}

del _builtins


def __getattr__(name: str) -> Any:
    if name in _LAZY_EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.io"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
