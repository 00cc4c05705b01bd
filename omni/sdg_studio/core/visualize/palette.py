"""Stable display colors for labels and prim paths, and the lookup table that paints id images.

A label's color comes from the rules file's ``classes`` (a :class:`ClassTable`) when it is listed
there, else from :func:`stable_color` of its text; prim paths always hash. Either way the color only
depends on the text, so it is the same in every frame and every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from omni.sdg_studio.core.classes import (
    BACKGROUND,
    BACKGROUND_COLOR,
    RGBA,
    UNLABELLED,
    UNLABELLED_COLOR,
    ClassTable,
    stable_color,
)
from omni.sdg_studio.core.visualize.normalize import INVALID

#: Pixels whose id is missing from ``idToLabels`` (a data problem worth seeing).
UNKNOWN_COLOR: RGBA = (255, 0, 255, 255)
#: Largest id painted through a direct lookup table; larger ids (packed colors) use a sorted search.
_DIRECT_LUT_LIMIT = 1 << 20


@dataclass
class LabelPalette:
    """Colors by label text; ``classes`` (optional) overrides the hashed colors of the labels it lists."""

    classes: ClassTable | None = None

    def color(self, label: str) -> RGBA:
        """The color of a label (or of a comma-joined label list: its first listed label wins)."""
        if label == BACKGROUND:
            return BACKGROUND_COLOR
        if label in (UNLABELLED, INVALID):
            return UNLABELLED_COLOR
        if self.classes is not None:
            if label in self.classes:
                return self.classes.color(label)
            for part in label.split(","):
                if part.strip() in self.classes:
                    return self.classes.color(part.strip())
        return stable_color(label)

    def colors(self, labels: Mapping[int, str]) -> dict[int, RGBA]:
        return {key: self.color(text) for key, text in labels.items()}


@dataclass(frozen=True)
class PaintedIds:
    """An id image painted with label colors, with the pixel count of every id found in it."""

    rgba: np.ndarray
    pixel_counts: dict[int, int]
    unknown_pixels: int


def paint_ids(ids: np.ndarray, colors: Mapping[int, RGBA]) -> PaintedIds:
    """Paint an (H, W) id image with ``colors``; ids missing from ``colors`` get :data:`UNKNOWN_COLOR`."""
    flat = ids.reshape(-1)
    keys = np.fromiter(colors.keys(), np.int64, len(colors))
    packed = np.array(list(colors.values()), np.uint8).reshape(-1, 4).view("<u4").reshape(-1)
    unknown_packed = np.array([UNKNOWN_COLOR], np.uint8).view("<u4")[0]
    top = max(int(flat.max()) if flat.size else 0, int(keys.max()) if keys.size else 0)
    if top < _DIRECT_LUT_LIMIT:
        lut = np.full(top + 1, unknown_packed, np.uint32)
        lut[keys] = packed
        out = lut[flat]
        counts = np.bincount(flat, minlength=top + 1)
        present = {int(k): int(counts[k]) for k in np.flatnonzero(counts)}
        unknown = sum(count for key, count in present.items() if key not in colors)
    elif keys.size == 0:
        out = np.full(flat.shape, unknown_packed, np.uint32)
        present, unknown = {}, int(flat.size)
    else:
        order = np.argsort(keys)
        sorted_keys = keys[order].astype(np.uint32)
        pos = np.minimum(np.searchsorted(sorted_keys, flat), sorted_keys.size - 1)
        found = sorted_keys[pos] == flat
        out = np.where(found, packed[order][pos], unknown_packed)
        counts = np.bincount(pos[found], minlength=sorted_keys.size)
        present = {int(sorted_keys[i]): int(counts[i]) for i in np.flatnonzero(counts)}
        unknown = int(flat.size - np.count_nonzero(found))
    rgba = out.astype(np.uint32, copy=False).view(np.uint8).reshape((*ids.shape, 4))
    return PaintedIds(rgba, present, unknown)
