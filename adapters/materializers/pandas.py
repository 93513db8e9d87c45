"""``PandasMaterializer``: ``DataFrame`` and ``Series`` as Parquet (pyarrow).

Imported only when a DataFrame or Series is saved or loaded (see ``registry``).
The index and dtypes round-trip through the pandas metadata pyarrow writes;
columns of arbitrary Python objects are refused (they would need pickle).
Visualizations: an HTML preview and a CSV of the first rows.
"""

from __future__ import annotations

import io
import json
from typing import Any, ClassVar

from lineagelog.adapters.materializers import jsonvalues
from lineagelog.adapters.materializers.base import (
    ArtifactType,
    BaseMaterializer,
    VisualizationType,
)
from lineagelog.domain.errors import MaterializerError

try:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    # The Parquet engine; fail here, with the extra's name, rather than on first save.
    import pyarrow  # type: ignore[import-untyped, unused-ignore]  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the environment
    raise MaterializerError(
        f"pandas DataFrames and Series need pandas and pyarrow ({e}): "
        "pip install lineagelog[pandas]"
    ) from e

__all__ = ["PandasMaterializer"]

DATA_PARQUET = "df.parquet"
SERIES_JSON = "series.json"
_SERIES_COLUMN = "__series__"
_PREVIEW_ROWS = 20
_CSV_ROWS = 100


class PandasMaterializer(BaseMaterializer):
    """``pandas.DataFrame`` and ``pandas.Series`` as ``df.parquet``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (pd.DataFrame, pd.Series)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Any) -> None:
        """Write ``df.parquet`` (and ``series.json`` with a Series' name)."""
        frame = data
        if isinstance(data, pd.Series):
            frame = data.to_frame(name=_SERIES_COLUMN)
            self.artifact_store.write_bytes(
                self.path(SERIES_JSON), json.dumps({"name": jsonvalues.encode(data.name)}).encode()
            )
        buffer = io.BytesIO()
        try:
            frame.to_parquet(buffer, engine="pyarrow", index=True)
        except (ValueError, TypeError) as e:
            raise MaterializerError(
                f"cannot write this {type(data).__name__} as Parquet ({e}); use "
                "Arrow-compatible dtypes and column names, or write a materializer for it"
            ) from e
        self.artifact_store.write_bytes(self.path(DATA_PARQUET), buffer.getvalue())

    def load(self, data_type: type) -> Any:
        """Read ``df.parquet`` back as a DataFrame or Series."""
        raw = self.artifact_store.read_bytes(self.path(DATA_PARQUET))
        frame = pd.read_parquet(io.BytesIO(raw), engine="pyarrow")
        if not issubclass(data_type, pd.Series):
            return frame if data_type in (pd.DataFrame, object) else data_type(frame)
        info = json.loads(self.artifact_store.read_text(self.path(SERIES_JSON)))
        series = frame[_SERIES_COLUMN].rename(jsonvalues.decode(info["name"]))
        return series if data_type is pd.Series else data_type(series)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Rows, columns and dtypes."""
        frame = data.to_frame() if isinstance(data, pd.Series) else data
        return {
            "rows": len(frame),
            "columns": [str(c) for c in frame.columns],
            "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
        }

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        """Write an HTML preview and a CSV of the first rows."""
        frame = data.to_frame() if isinstance(data, pd.Series) else data
        html = self.visualization_path("preview.html")
        csv = self.visualization_path("head.csv")
        self.artifact_store.write_text(html, frame.head(_PREVIEW_ROWS).to_html())
        self.artifact_store.write_text(csv, frame.head(_CSV_ROWS).to_csv())
        return {html: VisualizationType.HTML, csv: VisualizationType.CSV}
