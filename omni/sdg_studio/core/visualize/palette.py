"""Stable display colors for labels and prim paths, and id images painted with them (with pixel counts).

A label's color comes from the rules file's ``classes`` (a :class:`ClassTable`) when it is listed
there, else from :func:`stable_color` of its text; prim paths always hash. Either way the color only
depends on the text, so it is the same in every frame and every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.colors import INVALID, RESERVED_COLORS, RGBA, UNLABELLED, id_index, paint_ids, stable_color

#: Pixels whose id is missing from ``idToLabels`` (a data problem worth seeing).
UNKNOWN_COLOR: RGBA = (255, 0, 255, 255)


@dataclass
class LabelPalette:
    """Colors by label text; ``classes`` (optional) overrides the hashed colors of the labels it lists."""

    classes: ClassTable | None = None

    def color(self, label: str) -> RGBA:
        """The color of a label (or of a comma-joined label list: its first listed label wins)."""
        reserved = RESERVED_COLORS.get(UNLABELLED if label == INVALID else label)
        if reserved is not None:
            return reserved
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


def paint_labels(ids: np.ndarray, colors: Mapping[int, RGBA], missing: RGBA = UNKNOWN_COLOR) -> PaintedIds:
    """Paint an (H, W) id image with ``colors``; ids missing from ``colors`` get ``missing``."""
    keys = list(colors)
    index = id_index(ids, keys)
    counts = np.bincount(index.reshape(-1), minlength=len(keys) + 1)
    present = {keys[i]: int(counts[i]) for i in np.flatnonzero(counts[:-1])}
    return PaintedIds(paint_ids(index, dict(enumerate(colors.values())), missing), present, int(counts[-1]))
