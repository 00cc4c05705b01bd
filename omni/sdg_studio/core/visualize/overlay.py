"""Draw annotations over an image: 2D boxes, projected 3D boxes, points, blended segmentation.

Boxes stay readable when there are many: above :data:`MANY_BOXES` lines are one pixel wide and only boxes
whose shorter side holds two label tags get one; tags go to the largest boxes first and a tag that would
cover an earlier one is left out (the legend still names every color).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from omni.sdg_studio.core.annotators.boxes import BOX_EDGES, bbox3d_corners
from omni.sdg_studio.core.colors import RGBA
from omni.sdg_studio.core.visualize.normalize import Boxes
from omni.sdg_studio.core.visualize.palette import LabelPalette
from omni.sdg_studio.core.visualize.projection import CameraProjection
from omni.sdg_studio.core.visualize.text import font


def blend(base: np.ndarray, layer: np.ndarray, alpha: float) -> np.ndarray:
    """``layer`` over ``base`` at ``alpha`` times the layer's own alpha (both (H, W, 4) uint8)."""
    if base.shape != layer.shape:
        raise ValueError(f"cannot blend {layer.shape} over {base.shape}")
    weight = (layer[:, :, 3:4].astype(np.float32) * np.float32(alpha / 255.0)).clip(0, 1)
    out = base.astype(np.float32)
    out[:, :, :3] += (layer[:, :, :3].astype(np.float32) - out[:, :, :3]) * weight
    out[:, :, 3] = 255
    return out.astype(np.uint8)


#: More boxes than this: thin lines, and label tags only on boxes large enough to hold them.
MANY_BOXES = 20


@dataclass(frozen=True)
class BoxOverlay:
    """An image with boxes drawn, how many boxes got a label tag, and how many were behind the camera."""

    image: np.ndarray
    labeled: int
    behind: int = 0


def _label_size(image_height: int) -> int:
    return max(10, image_height // 45)


def _line_width(image_height: int, count: int) -> int:
    return 1 if count > MANY_BOXES else max(1, image_height // 300)


class _Tags:
    """Filled label tags, placed in the order offered; one that would overlap a placed tag is left out."""

    def __init__(self, canvas: Image.Image, draw: ImageDraw.ImageDraw) -> None:
        self.canvas, self.draw = canvas, draw
        self.font = font(_label_size(canvas.size[1]))
        self.placed: list[tuple[float, float, float, float]] = []

    @property
    def height(self) -> int:
        return _label_size(self.canvas.size[1]) + 4

    def offer(self, xy: tuple[float, float], text: str, color: RGBA) -> bool:
        """Draw a tag whose top-left corner is at ``xy`` (moved inside the image) unless it overlaps another."""
        image_w, image_h = self.canvas.size
        left, top, right, bottom = self.draw.textbbox((0, 0), text, font=self.font)
        width, height = right - left + 4, bottom - top + 4
        x = min(max(0.0, xy[0]), max(0.0, image_w - width))
        y = min(max(0.0, xy[1]), max(0.0, image_h - height))
        box = (x, y, x + width, y + height)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in self.placed):
            return False
        self.placed.append(box)
        self.draw.rectangle(box, fill=(*color[:3], 255))
        luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
        ink = (0, 0, 0, 255) if luminance > 140 else (255, 255, 255, 255)
        self.draw.text((x + 2 - left, y + 2 - top), text, fill=ink, font=self.font)
        return True


def _place_tags(tags: _Tags, candidates: list[tuple[float, float, float, float, str, RGBA]], many: bool) -> int:
    """Offer a tag above each (x0, y0, x1, y1, label, color) extent, largest first; with ``many`` boxes only
    extents whose shorter side holds two tags. Returns the number of tags drawn."""
    placed = 0
    for x0, y0, x1, y1, label, color in sorted(candidates, key=lambda c: -(c[2] - c[0]) * (c[3] - c[1])):
        if many and min(x1 - x0, y1 - y0) < 2 * tags.height:
            continue
        placed += tags.offer((x0, y0 - tags.height), label, color)
    return placed


def draw_boxes_2d(image: np.ndarray, boxes: Boxes, palette: LabelPalette, *, with_labels: bool = True) -> BoxOverlay:
    """Rectangles (inclusive pixel bounds, as Replicator writes them), label tags on those that have room."""
    canvas = Image.fromarray(image, "RGBA")
    draw = ImageDraw.Draw(canvas, "RGBA")
    width = _line_width(image.shape[0], len(boxes.rows))
    candidates = []
    for row, label in zip(boxes.rows, boxes.labels, strict=True):
        color = (*palette.color(label)[:3], 255)
        box = (int(row["x_min"]), int(row["y_min"]), int(row["x_max"]), int(row["y_max"]))
        if box[2] < box[0] or box[3] < box[1]:
            continue
        draw.rectangle(box, outline=color, width=width)
        candidates.append((*(float(v) for v in box), label, color))
    labeled = _place_tags(_Tags(canvas, draw), candidates, len(boxes.rows) > MANY_BOXES) if with_labels else 0
    return BoxOverlay(np.asarray(canvas), labeled)


def draw_boxes_3d(
    image: np.ndarray, boxes: Boxes, camera: CameraProjection, palette: LabelPalette, *, with_labels: bool = True
) -> BoxOverlay:
    """The 12 edges of every box projected with ``camera``; boxes with a corner behind the camera are counted
    in ``behind`` and not drawn."""
    if len(boxes.rows) == 0:
        return BoxOverlay(image, 0)
    canvas = Image.fromarray(image, "RGBA")
    draw = ImageDraw.Draw(canvas, "RGBA")
    scale_x, scale_y = image.shape[1] / camera.width, image.shape[0] / camera.height
    width = _line_width(image.shape[0], len(boxes.rows))
    behind = 0
    candidates = []
    pixels, in_front = camera.project(bbox3d_corners(boxes.rows))
    pixels = pixels * np.array([scale_x, scale_y])
    for corners, front, label in zip(pixels, in_front, boxes.labels, strict=True):
        if not front.all():
            behind += 1
            continue
        color = (*palette.color(label)[:3], 255)
        for a, b in BOX_EDGES:
            draw.line((tuple(corners[a]), tuple(corners[b])), fill=color, width=width)
        (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
        candidates.append((float(x0), float(y0), float(x1), float(y1), label, color))
    labeled = _place_tags(_Tags(canvas, draw), candidates, len(boxes.rows) > MANY_BOXES) if with_labels else 0
    return BoxOverlay(np.asarray(canvas), labeled, behind)


def draw_points(image: np.ndarray, pixels: np.ndarray, colors: Sequence[RGBA] | np.ndarray) -> np.ndarray:
    """Dots at (N, 2) pixel positions (those inside the image), each in its color."""
    out = image.copy()
    xy = np.round(pixels).astype(np.int64)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < image.shape[1]) & (xy[:, 1] >= 0) & (xy[:, 1] < image.shape[0])
    out[xy[inside, 1], xy[inside, 0]] = np.asarray(colors, np.uint8).reshape(-1, 4)[inside]
    return out


def draw_arrows(image: np.ndarray, flow: np.ndarray, step: int, color: RGBA = (255, 255, 255, 255)) -> np.ndarray:
    """A line from every ``step``-th pixel along its (dx, dy) motion, with a dot at the tip."""
    canvas = Image.fromarray(image, "RGBA")
    draw = ImageDraw.Draw(canvas, "RGBA")
    height, width = flow.shape[:2]
    for y in range(step // 2, height, step):
        for x in range(step // 2, width, step):
            dx, dy = float(flow[y, x, 0]), float(flow[y, x, 1])
            if not (np.isfinite(dx) and np.isfinite(dy)) or abs(dx) + abs(dy) < 0.5:
                continue
            draw.line((x, y, x + dx, y + dy), fill=color, width=1)
            draw.point((x + dx, y + dy), fill=color)
    return np.asarray(canvas)
