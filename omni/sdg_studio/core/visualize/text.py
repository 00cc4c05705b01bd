"""Fonts and text strips for tiles (pillow's bundled font, so nothing is looked up on the system)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

TEXT_COLOR = (235, 235, 235, 255)
MUTED_TEXT_COLOR = (170, 170, 170, 255)


@lru_cache(maxsize=16)
def font(size: int) -> Font:
    """Pillow's default font at ``size`` px (a fixed bitmap font where FreeType is missing)."""
    try:
        return ImageFont.load_default(size=max(8, size))
    except (ImportError, OSError, TypeError):  # pillow built without FreeType
        return ImageFont.load_default()


def text_width(text: str, size: int) -> int:
    left, _, right, _ = font(size).getbbox(text)
    return int(right - left)


def fit_text(text: str, size: int, width: int) -> str:
    """``text`` shortened with an ellipsis in the middle so it fits ``width`` px."""
    if text_width(text, size) <= width or len(text) <= 3:
        return text
    keep = len(text)
    while keep > 3:
        keep -= 1
        head = (keep + 1) // 2
        candidate = text[:head] + "…" + text[len(text) - (keep - head) :]
        if text_width(candidate, size) <= width:
            return candidate
    return text[:1] + "…"


@lru_cache(maxsize=256)
def text_strip(
    text: str, width: int, height: int, background: tuple[int, int, int, int], color: tuple[int, ...]
) -> bytes:
    """A (height, width, 4) RGBA strip with ``text`` centred, as bytes (cached: titles repeat every frame)."""
    image = Image.new("RGBA", (width, height), background)
    size = max(8, int(height * 0.62))
    shown = fit_text(text, size, width - 8)
    ImageDraw.Draw(image).text((width / 2, height / 2), shown, fill=tuple(color), font=font(size), anchor="mm")
    return image.tobytes()


def text_strip_array(
    text: str, width: int, height: int, background: tuple[int, int, int, int], color: tuple[int, ...] = TEXT_COLOR
) -> np.ndarray:
    """:func:`text_strip` as an array."""
    raw = text_strip(text, width, height, background, tuple(color))
    return np.frombuffer(raw, np.uint8).reshape(height, width, 4)
