"""``NumpyMaterializer``: ``numpy.ndarray`` as ``data.npy`` (never pickled).

Imported only when an ndarray is saved or loaded (see ``registry``).
Visualizations: a 2-D array, or a 3-D array with 1, 3 or 4 channels, as a PNG
image (min-max scaled to 0..255, at most 1024 pixels a side); a 1-D numeric
array as a histogram PNG.
"""

from __future__ import annotations

import io
import math
from typing import Any, ClassVar

from lineagelog.adapters.materializers.base import (
    ArtifactType,
    BaseMaterializer,
    VisualizationType,
)
from lineagelog.adapters.materializers.png import encode_png
from lineagelog.domain.errors import MaterializerError

try:
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the environment
    raise MaterializerError("numpy arrays need numpy: pip install lineagelog[numpy]") from e

__all__ = ["NumpyMaterializer"]

DATA_NPY = "data.npy"
_MAX_SIDE = 1024
_HIST_BINS = 50
_HIST_BAR_WIDTH = 8
_HIST_HEIGHT = 200


class NumpyMaterializer(BaseMaterializer):
    """``numpy.ndarray`` in NumPy's ``.npy`` format, ``allow_pickle=False`` both ways."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (np.ndarray,)
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA

    def save(self, data: Any) -> None:
        """Write ``data.npy``; object arrays are refused (they would need pickle)."""
        buffer = io.BytesIO()
        try:
            np.save(buffer, data, allow_pickle=False)
        except ValueError as e:
            raise MaterializerError(
                f"cannot save a numpy array of dtype {data.dtype} without pickle ({e}); "
                "convert it to a numeric or string dtype, or opt in to pickle"
            ) from e
        self.artifact_store.write_bytes(self.path(DATA_NPY), buffer.getvalue())

    def load(self, data_type: type) -> Any:
        """Read ``data.npy``."""
        raw = self.artifact_store.read_bytes(self.path(DATA_NPY))
        array = np.load(io.BytesIO(raw), allow_pickle=False)
        return array if data_type in (np.ndarray, object) else array.view(data_type)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Shape, dtype and bytes; and ``mean``, ``std``, ``min``, ``max`` as ZenML records them.

        The statistics are for non-empty real numeric arrays, over the finite
        values (NaN and infinities are left out, since metadata is JSON).
        """
        metadata: dict[str, Any] = {
            "shape": list(data.shape),
            "dtype": str(data.dtype),
            "nbytes": int(data.nbytes),
        }
        if data.size and np.issubdtype(data.dtype, np.number) and not np.iscomplexobj(data):
            values = data.astype(np.float64).ravel()
            values = values[np.isfinite(values)]
            if values.size:
                metadata.update(
                    mean=float(values.mean()),
                    std=float(values.std()),
                    min=float(values.min()),
                    max=float(values.max()),
                )
        return metadata

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        """Draw an image PNG of a 2-D/3-D array, a histogram PNG of a 1-D array."""
        if (
            data.size == 0
            or not (np.issubdtype(data.dtype, np.number) or data.dtype == np.bool_)
            or np.issubdtype(data.dtype, np.complexfloating)
        ):
            return {}
        if data.ndim == 1:
            png, name = _histogram_png(data), "histogram.png"
        elif data.ndim == 2 or (data.ndim == 3 and data.shape[2] in (1, 3, 4)):
            png, name = _image_png(data), "image.png"
        else:
            return {}
        path = self.visualization_path(name)
        self.artifact_store.write_bytes(path, png)
        return {path: VisualizationType.IMAGE}


def _image_png(array: Any) -> bytes:
    step = max(1, math.ceil(max(array.shape[0], array.shape[1]) / _MAX_SIDE))
    image = array[::step, ::step]
    if image.ndim == 2:
        image = image[:, :, None]
    if image.dtype != np.uint8:
        image = _scale_to_bytes(image.astype(np.float64))
    height, width, channels = image.shape
    return encode_png(np.ascontiguousarray(image).tobytes(), width, height, channels)


def _scale_to_bytes(values: Any) -> Any:
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(values.shape, dtype=np.uint8)
    low, high = float(values[finite].min()), float(values[finite].max())
    span = high - low or 1.0
    scaled = np.where(finite, (values - low) / span * 255.0, 0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _histogram_png(array: Any) -> bytes:
    values = array.astype(np.float64)
    values = values[np.isfinite(values)]
    counts = np.histogram(values, bins=_HIST_BINS)[0] if values.size else np.zeros(_HIST_BINS)
    heights = np.rint(counts / max(int(counts.max()), 1) * (_HIST_HEIGHT - 1)).astype(int)
    width = _HIST_BINS * _HIST_BAR_WIDTH
    image = np.full((_HIST_HEIGHT, width, 3), 255, dtype=np.uint8)
    rows = np.arange(_HIST_HEIGHT)[:, None]
    bars = np.repeat(heights, _HIST_BAR_WIDTH)[None, :]
    filled = rows >= _HIST_HEIGHT - bars
    filled[:, _HIST_BAR_WIDTH - 1 :: _HIST_BAR_WIDTH] = False  # a gap between bars
    image[filled] = (31, 119, 180)
    return encode_png(image.tobytes(), width, _HIST_HEIGHT, 3)
