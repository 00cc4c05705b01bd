"""A contact sheet: one thumbnail per frame (boxes over RGB when recorded), and one legend for all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from omni.sdg_studio.core.visualize.dataset import Dataset, camera_title
from omni.sdg_studio.core.visualize.layout import CANVAS_COLOR, compose, plan_layout
from omni.sdg_studio.core.visualize.legend import LegendEntry, draw_legend
from omni.sdg_studio.core.visualize.tiles import Tile, ViewOptions, render_tiles

#: Annotators tried in order for a frame's thumbnail.
THUMBNAIL_PREFERENCE = (
    "bounding_box_2d_tight",
    "bounding_box_2d_loose",
    "bounding_box_3d",
    "semantic_segmentation",
    "rgb",
)


def sample_frames(frames: Sequence[str], limit: int) -> list[str]:
    """At most ``limit`` frames spread evenly over ``frames`` (first and last included)."""
    if limit <= 0 or len(frames) <= limit:
        return list(frames)
    if limit == 1:
        return [frames[0]]
    picks = np.linspace(0, len(frames) - 1, limit).round().astype(int)
    return [frames[int(i)] for i in dict.fromkeys(picks.tolist())]


def thumbnail(dataset: Dataset, camera: str, frame: str, options: ViewOptions) -> Tile:
    """The most telling tile of one frame, titled with camera and frame."""
    data = dataset.load(camera, frame)
    names = [n for n in THUMBNAIL_PREFERENCE if n in data] or sorted(data)[:1]
    if "semantic_segmentation" in names[:1]:
        options = replace(options, segmentation_over_rgb="rgb" in data)
    tile = render_tiles(data, names[:1], options)[0] if names else Tile("empty", None, note="no files")
    title = f"{camera_title(camera)} · {frame}" if len(dataset.cameras) > 1 else f"frame {frame}"
    return replace(tile, title=f"{title} · {tile.name}")


def contact_sheet(
    dataset: Dataset,
    cameras: Sequence[str],
    *,
    limit: int = 48,
    max_tile: int = 320,
    options: ViewOptions | None = None,
    on_frame: Callable[[], None] | None = None,
) -> np.ndarray:
    """Thumbnails of up to ``limit`` frames per camera in one grid, with a shared legend below."""
    options = replace(options or ViewOptions(), legend=True)
    tiles: list[Tile] = []
    legend: dict[str, LegendEntry] = {}
    for camera in cameras:
        for frame in sample_frames(dataset.frames(camera), limit):
            tile = thumbnail(dataset, camera, frame, options)
            for entry in tile.legend:
                seen = legend.get(entry.label)
                legend[entry.label] = replace(entry, count=entry.count + (seen.count if seen else 0))
            tiles.append(replace(tile, legend=[]))
            if on_frame is not None:
                on_frame()
    layout = plan_layout(tiles, max_tile=max_tile)
    sheet = compose(tiles, layout)
    if not legend:
        return sheet
    strip = draw_legend(list(legend.values()), sheet.shape[1], 20, max_rows=8)
    out = np.empty((sheet.shape[0] + strip.shape[0] + 3, sheet.shape[1], 4), np.uint8)
    out[:] = CANVAS_COLOR
    out[: sheet.shape[0]] = sheet
    out[sheet.shape[0] + 3 :] = strip
    return out
