"""ZenML's structured strings and ``UUID``: their types and materializers.

``CSVString``, ``HTMLString``, ``MarkdownString`` and ``JSONString`` are
``str`` subclasses; a step returns one to say what its text is. The text is
saved as ``output.csv`` / ``output.html`` / ``output.md`` / ``output.json``,
which is also the artifact's visualization of the matching type, and loads
back as the same subclass.

``UUID`` is saved as its canonical text in ``uuid.txt``.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from lineagelog.adapters.materializers.base import (
    ArtifactType,
    BaseMaterializer,
    VisualizationType,
)
from lineagelog.domain.errors import MaterializerError

__all__ = [
    "CSVString",
    "HTMLString",
    "JSONString",
    "MarkdownString",
    "StructuredStringMaterializer",
    "UUIDMaterializer",
]

UUID_TXT = "uuid.txt"


class CSVString(str):
    """Text in CSV format; its artifact is shown as a table."""

    __slots__ = ()


class HTMLString(str):
    """An HTML document or fragment; its artifact is shown as HTML."""

    __slots__ = ()


class MarkdownString(str):
    """Markdown text; its artifact is shown rendered."""

    __slots__ = ()


class JSONString(str):
    """JSON text; its artifact is shown as JSON."""

    __slots__ = ()


# Checked in order, so a user's subclass of one of them is saved as its base.
_FORMATS: tuple[tuple[type, str, VisualizationType], ...] = (
    (CSVString, "output.csv", VisualizationType.CSV),
    (HTMLString, "output.html", VisualizationType.HTML),
    (MarkdownString, "output.md", VisualizationType.MARKDOWN),
    (JSONString, "output.json", VisualizationType.JSON),
)


class StructuredStringMaterializer(BaseMaterializer):
    """``CSVString``, ``HTMLString``, ``MarkdownString`` and ``JSONString`` as text files."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (
        CSVString,
        HTMLString,
        MarkdownString,
        JSONString,
    )
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA_ANALYSIS

    def save(self, data: Any) -> None:
        """Write the text to the file of its format."""
        filename, _ = _format_of(type(data))
        self.artifact_store.write_bytes(self.path(filename), str(data).encode("utf-8"))

    def load(self, data_type: type) -> Any:
        """Read the text back as ``data_type``."""
        filename, _ = _format_of(data_type)
        return data_type(self.artifact_store.read_bytes(self.path(filename)).decode("utf-8"))

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        """The saved file itself is the visualization, of the format's type."""
        filename, kind = _format_of(type(data))
        return {self.path(filename): kind}

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """The length of the text."""
        return {"length": len(data)}


class UUIDMaterializer(BaseMaterializer):
    """``uuid.UUID`` as its canonical text in ``uuid.txt``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (uuid.UUID,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Any) -> None:
        """Write ``uuid.txt``."""
        self.artifact_store.write_text(self.path(UUID_TXT), str(data))

    def load(self, data_type: type) -> Any:
        """Read ``uuid.txt`` back as a ``UUID``."""
        text = self.artifact_store.read_text(self.path(UUID_TXT)).strip()
        try:
            return uuid.UUID(text)
        except ValueError as e:
            raise MaterializerError(
                f"{self.path(UUID_TXT)} holds {text[:60]!r}, not a UUID; it was edited after "
                "it was written: check it with `lineagelog audit`"
            ) from e

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """The UUID's text, as ZenML records it."""
        return {"string_representation": str(data)}


def _format_of(data_type: type) -> tuple[str, VisualizationType]:
    for base, filename, kind in _FORMATS:
        if isinstance(data_type, type) and issubclass(data_type, base):
            return filename, kind
    raise MaterializerError(
        f"StructuredStringMaterializer saves CSVString, HTMLString, MarkdownString and "
        f"JSONString, not {data_type!r}"
    )
