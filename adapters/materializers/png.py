"""A minimal PNG writer (zlib + struct), so visualizations need no matplotlib."""

from __future__ import annotations

import struct
import zlib

__all__ = ["encode_png"]

_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (gray, gray+alpha, RGB, RGBA)


def encode_png(pixels: bytes, width: int, height: int, channels: int) -> bytes:
    """PNG bytes of an 8-bit image.

    Args:
        pixels: ``height`` rows of ``width * channels`` bytes, top row first.
        width: image width in pixels.
        height: image height in pixels.
        channels: 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).

    Raises:
        ValueError: when the sizes do not match the pixel bytes.

    """
    if channels not in _COLOR_TYPES:
        raise ValueError(f"channels must be 1, 2, 3 or 4, got {channels}")
    stride = width * channels
    if width <= 0 or height <= 0 or len(pixels) != stride * height:
        raise ValueError(
            f"{len(pixels)} pixel bytes do not make a {width}x{height}x{channels} image"
        )
    # Each row starts with filter type 0 (none).
    raw = b"".join(b"\0" + pixels[row * stride : (row + 1) * stride] for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPES[channels], 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw, 6)),
            _chunk(b"IEND", b""),
        ]
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
