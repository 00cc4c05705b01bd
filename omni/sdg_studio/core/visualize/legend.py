"""Legends: which color means which label, built from ``idToLabels``, and drawn as an image strip."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from omni.sdg_studio.core.colors import RGBA
from omni.sdg_studio.core.visualize.normalize import is_reserved
from omni.sdg_studio.core.visualize.palette import UNKNOWN_COLOR, LabelPalette
from omni.sdg_studio.core.visualize.text import MUTED_TEXT_COLOR, TEXT_COLOR, fit_text, font

LEGEND_BACKGROUND: RGBA = (24, 24, 24, 255)
#: What transparent pixels (BACKGROUND) look like in tiles and legend swatches.
EMPTY_TILE_COLOR: RGBA = (32, 32, 32, 255)


@dataclass(frozen=True)
class LegendEntry:
    """One label of a tile: its color and how much of the frame it covers (pixels or boxes)."""

    label: str
    color: RGBA
    count: int = 0


def legend_from_labels(
    labels: Mapping[int, str], palette: LabelPalette, counts: Mapping[int, int] | None = None
) -> list[LegendEntry]:
    """One entry per distinct label of an ``idToLabels`` map (normalized), in id order, with pixel counts."""
    merged: dict[str, int] = {}
    for key in sorted(labels):
        label = labels[key]
        merged[label] = merged.get(label, 0) + (counts or {}).get(key, 0)
    return [LegendEntry(label, palette.color(label), count) for label, count in merged.items()]


def legend_from_boxes(labels: Sequence[str], palette: LabelPalette) -> list[LegendEntry]:
    """One entry per box label, counting boxes, in first-seen order."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return [LegendEntry(label, palette.color(label), count) for label, count in counts.items()]


def unknown_entry(pixels: int) -> LegendEntry:
    """The entry for pixels whose id is missing from ``idToLabels``."""
    return LegendEntry("(id not in idToLabels)", UNKNOWN_COLOR, pixels)


def shown_entries(entries: Sequence[LegendEntry]) -> list[LegendEntry]:
    """Entries in display order: real labels by coverage (largest first), then the reserved ones."""
    return sorted(entries, key=lambda e: (is_reserved(e.label), -e.count, e.label))


def legend_rows(width: int, row_height: int, count: int) -> tuple[int, int]:
    """(columns, rows) a legend of ``count`` entries needs at ``width`` px (entries ~180 px wide)."""
    columns = max(1, min(count, width // 180))
    return columns, -(-count // columns) if count else 0


def draw_legend(entries: Sequence[LegendEntry], width: int, row_height: int, max_rows: int) -> np.ndarray:
    """An RGBA strip ``width`` wide listing ``entries`` (swatch, label, count); overflow ends in "+N more"."""
    return _draw_legend(tuple(entries), width, row_height, max_rows)


@lru_cache(maxsize=64)
def _draw_legend(entries: tuple[LegendEntry, ...], width: int, row_height: int, max_rows: int) -> np.ndarray:
    ordered = shown_entries(entries)
    columns, rows = legend_rows(width, row_height, len(ordered))
    if rows > max_rows:
        rows = max_rows
        shown = ordered[: columns * rows - 1]
        overflow = len(ordered) - len(shown)
    else:
        shown, overflow = ordered, 0
    height = max(1, rows) * row_height
    image = Image.new("RGBA", (width, height), LEGEND_BACKGROUND)
    draw = ImageDraw.Draw(image)
    size = max(8, int(row_height * 0.6))
    f = font(size)
    cell = width // columns
    items: list[LegendEntry | None] = [*shown, None] if overflow else list(shown)
    for i, entry in enumerate(items):
        col, row = i // rows if rows else 0, i % rows if rows else 0
        x, y = col * cell + 4, row * row_height
        if entry is None:
            draw.text((x, y + row_height / 2), f"+{overflow} more", fill=MUTED_TEXT_COLOR, font=f, anchor="lm")
            continue
        swatch = row_height - 6
        draw.rectangle(
            (x, y + 3, x + swatch, y + 3 + swatch),
            fill=entry.color if entry.color[3] else EMPTY_TILE_COLOR,
            outline=(90, 90, 90, 255),
        )
        text = fit_text(entry.label + (f"  {entry.count}" if entry.count else ""), size, cell - swatch - 12)
        draw.text((x + swatch + 5, y + row_height / 2), text, fill=TEXT_COLOR, font=f, anchor="lm")
    strip = np.asarray(image)
    strip.flags.writeable = False
    return strip
