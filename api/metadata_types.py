"""ZenML's metadata value types, where ZenML keeps them (``zenml.metadata.metadata_types``).

``Uri``, ``Path``, ``DType`` and ``StorageSize`` are ``str`` / ``int`` subclasses
whose type is recorded with the value, so metadata reads back as logged. ``Path``
here is not ``pathlib.Path``: it is a string that names a path.
"""

from __future__ import annotations

from lineagelog.domain.metadata import DType, MetadataType, Path, StorageSize, Uri

__all__ = ["DType", "MetadataType", "Path", "StorageSize", "Uri"]
