"""Lay tiles out in a grid and compose them into one RGBA image.

The grid follows the anchor visualizer (omni.syntheticdata's visualizer window): ``columns =
ceil(sqrt(n))``, ``rows = ceil(n / columns)``, swapped when the space is taller than wide; each cell
is the title, the image, then (ours) a note line and the legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from omni.sdg_studio.core.visualize.legend import EMPTY_TILE_COLOR, draw_legend, legend_rows
from omni.sdg_studio.core.visualize.text import MUTED_TEXT_COLOR, font, text_strip_array
from omni.sdg_studio.core.visualize.tiles import Tile, TileStatus

CANVAS_COLOR = (16, 16, 16, 255)
TITLE_COLOR = (40, 40, 40, 255)
STATUS_TEXT_COLOR = {TileStatus.WAITING: (240, 200, 90, 255), TileStatus.ERROR: (255, 110, 100, 255)}
#: Space between cells, as the anchor's 3 px spacer.
GAP = 3


def grid_shape(count: int, *, tall: bool = False) -> tuple[int, int]:
    """(columns, rows) for ``count`` tiles: columns = ceil(sqrt(n)); swapped for a tall space."""
    if count <= 0:
        return 0, 0
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    return (rows, columns) if tall else (columns, rows)


@dataclass(frozen=True)
class GridLayout:
    """Cell geometry: the image box of every tile and the heights of its text lines."""

    columns: int
    rows: int
    image_width: int
    image_height: int
    title_height: int
    legend_rows: int

    @property
    def legend_row_height(self) -> int:
        return self.title_height - 4

    @property
    def cell_width(self) -> int:
        return self.image_width

    @property
    def cell_height(self) -> int:
        return 2 * self.title_height + self.image_height + self.legend_rows * self.legend_row_height

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the composed image."""
        return (
            self.columns * self.cell_width + (self.columns + 1) * GAP,
            self.rows * self.cell_height + (self.rows + 1) * GAP,
        )


def plan_layout(
    tiles: Sequence[Tile],
    *,
    max_tile: int = 512,
    min_tile: int = 256,
    columns: int | None = None,
    tall: bool = False,
    max_legend_rows: int = 6,
) -> GridLayout:
    """A layout whose image box holds the largest tile image scaled so its longer side is within
    ``min_tile`` .. ``max_tile`` (small images are enlarged so titles and legends stay legible)."""
    columns_auto, rows = grid_shape(len(tiles), tall=tall)
    if columns is not None:
        columns = max(1, min(columns, len(tiles) or 1))
        rows = math.ceil(len(tiles) / columns) if tiles else 0
    else:
        columns = columns_auto
    sizes = [t.image.shape[:2] for t in tiles if t.image is not None]
    height, width = max(sizes, key=lambda s: s[0] * s[1]) if sizes else (240, 320)
    longest = max(height, width)
    scale = min(max(1.0, min_tile / longest), max_tile / longest)
    image_width, image_height = max(64, round(width * scale)), max(48, round(height * scale))
    title_height = max(18, min(34, image_width // 22))
    needed = 0
    for tile in tiles:
        if tile.legend:
            _, legend_needed = legend_rows(image_width, title_height - 4, len(tile.legend))
            needed = max(needed, min(legend_needed, max_legend_rows))
    return GridLayout(columns, rows, image_width, image_height, title_height, needed)


def fit_layout(tiles: Sequence[Tile], width: int, height: int, max_legend_rows: int = 4) -> GridLayout:
    """The layout that fills a ``width`` x ``height`` space (a window): tiles scaled to the cells."""
    columns, rows = grid_shape(len(tiles), tall=height > width)
    probe = plan_layout(tiles, columns=columns, max_legend_rows=max_legend_rows)
    aspect = probe.image_height / probe.image_width
    text_height = probe.cell_height - probe.image_height
    cell_width = max(64, (width - (columns + 1) * GAP) // max(columns, 1))
    cell_height = max(48, (height - (rows + 1) * GAP) // max(rows, 1) - text_height)
    image_width = min(cell_width, int(cell_height / aspect))
    longest = max(64, image_width, round(image_width * aspect))
    return plan_layout(tiles, max_tile=longest, min_tile=longest, columns=columns, max_legend_rows=max_legend_rows)


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    if abs(scale - 1.0) < 1e-6:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.NEAREST
    return np.asarray(Image.fromarray(np.ascontiguousarray(image), "RGBA").resize(size, resample))


def _message_box(text: str, width: int, height: int, color: tuple[int, int, int, int]) -> np.ndarray:
    image = Image.new("RGBA", (width, height), EMPTY_TILE_COLOR)
    draw = ImageDraw.Draw(image)
    size = max(10, min(18, width // 28))
    f = font(size)
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=f) > width - 16 and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    step = size + 4
    top = height / 2 - step * len(lines) / 2
    for i, text_line in enumerate(lines[: max(1, height // step)]):
        draw.text((width / 2, top + i * step + step / 2), text_line, fill=color, font=f, anchor="mm")
    return np.asarray(image)


def _packed(color: tuple[int, int, int, int]) -> np.uint32:
    return np.uint32(np.array(color, np.uint8).view("<u4")[0])


def _paste(canvas: np.ndarray, image: np.ndarray, x: int, y: int) -> None:
    h, w = image.shape[:2]
    canvas[y : y + h, x : x + w] = image


def _paste_opaque(canvas: np.ndarray, image: np.ndarray, x: int, y: int) -> None:
    """Paste ``image`` over the empty-tile color: transparent pixels (BACKGROUND) show that color."""
    h, w = image.shape[:2]
    region = canvas[y : y + h, x : x + w]
    region[:] = image
    alpha = image[:, :, 3]
    if alpha.min() == 255:
        return
    np.copyto(region.view("<u4")[:, :, 0], _packed(EMPTY_TILE_COLOR), where=alpha == 0)
    partial = (alpha > 0) & (alpha < 255)
    if partial.any():
        weight = alpha[partial].astype(np.float32)[:, None] / 255.0
        backdrop = np.array(EMPTY_TILE_COLOR[:3], np.float32)
        region[partial, :3] = (backdrop + (image[partial, :3] - backdrop) * weight).astype(np.uint8)
        region[partial, 3] = 255


def compose(tiles: Sequence[Tile], layout: GridLayout | None = None) -> np.ndarray:
    """All tiles in one (H, W, 4) uint8 RGBA image laid out by ``layout`` (default: :func:`plan_layout`)."""
    layout = layout or plan_layout(tiles)
    width, height = layout.size
    canvas = np.empty((max(1, height), max(1, width), 4), np.uint8)
    canvas.view("<u4").fill(_packed(CANVAS_COLOR))
    for index, tile in enumerate(tiles):
        col, row = index % layout.columns, index // layout.columns
        x = GAP + col * (layout.cell_width + GAP)
        y = GAP + row * (layout.cell_height + GAP)
        _paste(canvas, text_strip_array(tile.title, layout.cell_width, layout.title_height, TITLE_COLOR), x, y)
        y += layout.title_height
        box_w, box_h = layout.image_width, layout.image_height
        if tile.image is None or tile.status is not TileStatus.OK:
            color = STATUS_TEXT_COLOR.get(tile.status, MUTED_TEXT_COLOR)
            _paste(canvas, _message_box(tile.note or tile.status.value, box_w, box_h, color), x, y)
            note = tile.status.value
        else:
            image = _fit(tile.image, box_w, box_h)
            if image.shape[:2] != (box_h, box_w):
                canvas[y : y + box_h, x : x + box_w].view("<u4").fill(_packed(EMPTY_TILE_COLOR))
            _paste_opaque(canvas, image, x + (box_w - image.shape[1]) // 2, y + (box_h - image.shape[0]) // 2)
            note = tile.note
        y += box_h
        strip = text_strip_array(note, layout.cell_width, layout.title_height, CANVAS_COLOR, MUTED_TEXT_COLOR)
        _paste(canvas, strip, x, y)
        y += layout.title_height
        if layout.legend_rows and tile.legend:
            legend = draw_legend(tile.legend, layout.cell_width, layout.legend_row_height, layout.legend_rows)
            _paste(canvas, legend, x, y)
    return canvas


def to_image(rgba: np.ndarray) -> Image.Image:
    """A composed grid as a pillow image (for saving)."""
    return Image.fromarray(np.ascontiguousarray(rgba), "RGBA")
