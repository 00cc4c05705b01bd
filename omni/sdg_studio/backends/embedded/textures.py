"""``UsdUVTexture`` images for the ``rgb`` annotator: loading through Pillow, wrap modes, bilinear sampling.

Texture coordinates follow USD: ``st`` (0, 0) is the image's bottom-left corner, (1, 1) its top-right;
texel centers sit at half-texel offsets. Wrap modes: ``repeat``, ``mirror``, ``clamp``, ``black``;
``useMetadata`` (the default) is ``repeat``, since PNG and JPEG carry no wrap metadata. 8-bit images
in ``sourceColorSpace`` ``auto`` or ``sRGB`` are decoded from sRGB to linear; ``raw`` ones are used as is.
Images stay 8-bit in memory (a 4096² texture takes 48 MB); ``scale * value + bias`` is applied per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

WRAP_MODES = ("repeat", "mirror", "clamp", "black", "useMetadata")


def _srgb_to_linear_table() -> np.ndarray:
    v = np.arange(256) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


_DECODE = {"srgb": _srgb_to_linear_table(), "raw": (np.arange(256) / 255.0).astype(np.float32)}


class TextureError(Exception):
    """An image file cannot be read as a texture (the message says why)."""


@dataclass(frozen=True)
class Texture:
    """One ``UsdUVTexture`` as sampled for ``diffuseColor``."""

    #: uint8 (h, w, 3), row 0 at the top of the image.
    image: np.ndarray
    #: 256-entry table from 8-bit values to linear floats.
    decode: np.ndarray
    wrap_s: str
    wrap_t: str
    scale: tuple[float, float, float]
    bias: tuple[float, float, float]

    @property
    def mean(self) -> np.ndarray:
        """The average linear color (for geometry without texture coordinates)."""
        return self.decode[self.image].reshape(-1, 3).mean(axis=0) * np.asarray(self.scale) + np.asarray(self.bias)

    def sample(self, st: np.ndarray) -> np.ndarray:
        """Linear RGB (n, 3) float32 at texture coordinates ``st`` (n, 2), bilinearly filtered."""
        height, width = self.image.shape[:2]
        x = st[:, 0].astype(np.float64) * width - 0.5
        y = (1.0 - st[:, 1].astype(np.float64)) * height - 0.5
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = (x - x0).astype(np.float32), (y - y0).astype(np.float32)
        color = np.zeros((len(st), 3), np.float32)
        for dx, dy, weight in (
            (0, 0, (1 - fx) * (1 - fy)),
            (1, 0, fx * (1 - fy)),
            (0, 1, (1 - fx) * fy),
            (1, 1, fx * fy),
        ):
            cols, col_ok = _wrap(x0 + dx, width, self.wrap_s)
            rows, row_ok = _wrap(y0 + dy, height, self.wrap_t)
            texel = self.decode[self.image[rows, cols]]
            color += texel * (weight * (col_ok & row_ok))[:, None]
        return color * np.asarray(self.scale, np.float32) + np.asarray(self.bias, np.float32)


def _wrap(index: np.ndarray, size: int, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Texel indices in [0, size) for integer-valued ``index`` under a wrap mode, and which are inside."""
    i = index.astype(np.int64)
    if mode == "clamp":
        return np.clip(i, 0, size - 1), np.ones(len(i), bool)
    if mode == "black":
        inside = (i >= 0) & (i < size)
        return np.clip(i, 0, size - 1), inside
    if mode == "mirror":
        period = np.mod(i, 2 * size)
        return np.where(period < size, period, 2 * size - 1 - period), np.ones(len(i), bool)
    return np.mod(i, size), np.ones(len(i), bool)


def load_texture(
    path: str,
    color_space: str,
    wrap_s: str,
    wrap_t: str,
    scale: tuple[float, float, float],
    bias: tuple[float, float, float],
) -> Texture:
    """The image at ``path`` as a :class:`Texture`; :class:`TextureError` if it cannot be read."""
    if "<UDIM>" in path or "<udim>" in path.lower():
        raise TextureError("UDIM tiles are not supported")
    if not Path(path).is_file():
        raise TextureError("no such file")
    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            rgb = np.asarray(image.convert("RGB"), np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise TextureError(str(exc) or type(exc).__name__) from None
    # 8-bit color images are sRGB unless marked raw; "auto" keeps single-channel images linear (USD's rule).
    srgb = color_space == "sRGB" or (color_space != "raw" and mode not in ("L", "I", "F", "I;16"))
    return Texture(rgb, _DECODE["srgb" if srgb else "raw"], wrap_s, wrap_t, scale, bias)
