"""Replicator's reserved ids, names and colors, stable label colors, color keys, and painting id images.

Segmentation ids 0 and 1 are BACKGROUND and UNLABELLED (transparent and opaque black); labeled prims
start at :data:`FIRST_LABELED_ID`; instance_id_segmentation names pixels that hit nothing INVALID. A
label or prim path keeps its color in every frame and run (:func:`stable_color`). Colorized label maps
are keyed ``"(r, g, b, a)"`` (:func:`rgba_key`, read back by :func:`parse_rgba_key`). :func:`lookup`
maps an id image through a table: every id image is painted (:func:`paint_ids`) or renumbered with it.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

RGBA = tuple[int, int, int, int]

BACKGROUND = "BACKGROUND"
UNLABELLED = "UNLABELLED"
#: instance_id_segmentation's name for pixels that hit nothing.
INVALID = "INVALID"
#: Replicator's ids for the two reserved classes, and the first id of a labeled prim or label.
BACKGROUND_ID = 0
UNLABELLED_ID = 1
FIRST_LABELED_ID = 2
#: Replicator's colors for the two reserved classes (golden semantic_segmentation_labels json).
BACKGROUND_COLOR: RGBA = (0, 0, 0, 0)
UNLABELLED_COLOR: RGBA = (0, 0, 0, 255)
#: The reserved names and their colors.
RESERVED_COLORS: dict[str, RGBA] = {BACKGROUND: BACKGROUND_COLOR, UNLABELLED: UNLABELLED_COLOR}

#: Largest id looked up through a direct table; images with larger ids (packed colors) look up their distinct ids.
_DIRECT_LIMIT = 1 << 20
_RGBA_KEY = re.compile(r"^\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$")


def stable_color(key: str) -> RGBA:
    """A bright, deterministic RGBA color for ``key`` (same in every process and platform)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    hue = int.from_bytes(digest[:4], "little") / 2**32
    saturation = 0.55 + 0.45 * digest[4] / 255
    value = 0.65 + 0.35 * digest[5] / 255
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return (round(r * 255), round(g * 255), round(b * 255), 255)


def rgba_key(color: Sequence[int]) -> str:
    """The label-map key Replicator writes for a color: ``"(r, g, b, a)"``."""
    return str(tuple(int(c) for c in color))


def parse_rgba_key(text: str) -> RGBA | None:
    """The color of an ``"(r, g, b, a)"`` key (spaces optional), ``None`` if ``text`` is not one.

    Raises ``ValueError`` for a channel above 255."""
    match = _RGBA_KEY.match(text.strip())
    if match is None:
        return None
    r, g, b, a = (int(v) for v in match.groups())
    if max(r, g, b, a) > 255:
        raise ValueError(f"color key {text!r} has a channel above 255")
    return (r, g, b, a)


def id_index(ids: np.ndarray, keys: Sequence[int]) -> np.ndarray:
    """Per pixel of an integer image, the position of its id in ``keys``; ``len(keys)`` where it is not there."""
    top = int(ids.max(initial=0))
    if top < _DIRECT_LIMIT:
        lut = np.full(top + 1, len(keys), np.intp)
        for position, key in enumerate(keys):
            if 0 <= key <= top:
                lut[key] = position
        return lut[ids]
    distinct, inverse = np.unique(ids, return_inverse=True)  # huge sparse ids (packed colors)
    where = {int(key): position for position, key in enumerate(keys)}
    lut = np.array([where.get(int(value), len(keys)) for value in distinct], np.intp)
    return lut[inverse.reshape(ids.shape)]


def lookup(ids: np.ndarray, table: Mapping[int, Any], dtype: DTypeLike = np.uint8, missing: Any = 0) -> np.ndarray:
    """``table[id]`` for every id of an integer image; ids not in ``table`` get ``missing``.

    Values are scalars or equal-length tuples (channels, which become the output's last axis)."""
    if int(ids.max(initial=0)) >= _DIRECT_LIMIT:  # renumber huge sparse ids densely first
        return lookup(id_index(ids, list(table)), dict(enumerate([*table.values(), missing])), dtype, missing)
    fill = np.asarray(missing, dtype)
    lut = np.broadcast_to(fill, (int(ids.max(initial=0)) + 1, *fill.shape)).copy()
    for key, value in table.items():
        if 0 <= key < len(lut):
            lut[key] = value
    if fill.shape == (4,) and lut.dtype == np.uint8:  # one 32-bit gather per pixel instead of four
        return np.take(lut.view(np.uint32).ravel(), ids).view(np.uint8).reshape(*ids.shape, 4)
    return np.take(lut, ids, axis=0)


def paint_ids(ids: np.ndarray, colors: Mapping[int, RGBA], missing: RGBA = BACKGROUND_COLOR) -> np.ndarray:
    """An (H, W) id image as (H, W, 4) uint8 colors; ids missing from ``colors`` get ``missing``."""
    return lookup(ids, colors, np.uint8, missing)
