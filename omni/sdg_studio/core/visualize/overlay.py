"""Draw annotations over an image: 2D boxes, projected 3D boxes, points, blended segmentation."""

from __future__ import annotations

from collections.abc import Sequence

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


def _label_size(image_height: int) -> int:
    return max(10, image_height // 45)


def _draw_tag(canvas: Image.Image, draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, color: RGBA) -> None:
    """A filled label tag whose top-left corner is at ``xy`` (moved inside the image)."""
    image_w, image_h = canvas.size
    f = font(_label_size(image_h))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=f)
    width, height = right - left + 4, bottom - top + 4
    x = min(max(0.0, xy[0]), max(0.0, image_w - width))
    y = min(max(0.0, xy[1]), max(0.0, image_h - height))
    draw.rectangle((x, y, x + width, y + height), fill=(*color[:3], 255))
    luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    draw.text(
        (x + 2 - left, y + 2 - top), text, fill=(0, 0, 0, 255) if luminance > 140 else (255, 255, 255, 255), font=f
    )


def draw_boxes_2d(image: np.ndarray, boxes: Boxes, palette: LabelPalette, *, with_labels: bool = True) -> np.ndarray:
    """Rectangles (inclusive pixel bounds, as Replicator writes them) with a label tag per box."""
    canvas = Image.fromarray(image, "RGBA")
    draw = ImageDraw.Draw(canvas, "RGBA")
    width = max(1, image.shape[0] // 300)
    size = _label_size(image.shape[0])
    for row, label in zip(boxes.rows, boxes.labels, strict=True):
        color = (*palette.color(label)[:3], 255)
        box = (int(row["x_min"]), int(row["y_min"]), int(row["x_max"]), int(row["y_max"]))
        if box[2] < box[0] or box[3] < box[1]:
            continue
        draw.rectangle(box, outline=color, width=width)
    if with_labels:
        for row, label in zip(boxes.rows, boxes.labels, strict=True):
            color = (*palette.color(label)[:3], 255)
            _draw_tag(canvas, draw, (int(row["x_min"]), int(row["y_min"]) - size - 4), label, color)
    return np.asarray(canvas)


def draw_boxes_3d(
    image: np.ndarray, boxes: Boxes, camera: CameraProjection, palette: LabelPalette, *, with_labels: bool = True
) -> tuple[np.ndarray, int]:
    """The 12 edges of every box projected with ``camera``; returns the image and the count of boxes skipped
    because a corner is behind the camera."""
    canvas = Image.fromarray(image, "RGBA")
    draw = ImageDraw.Draw(canvas, "RGBA")
    scale_x, scale_y = image.shape[1] / camera.width, image.shape[0] / camera.height
    width = max(1, image.shape[0] // 300)
    size = _label_size(image.shape[0])
    skipped = 0
    if len(boxes.rows) == 0:
        return image, 0
    pixels, in_front = camera.project(bbox3d_corners(boxes.rows))
    pixels = pixels * np.array([scale_x, scale_y])
    for corners, front, label in zip(pixels, in_front, boxes.labels, strict=True):
        if not front.all():
            skipped += 1
            continue
        color = (*palette.color(label)[:3], 255)
        for a, b in BOX_EDGES:
            draw.line((tuple(corners[a]), tuple(corners[b])), fill=color, width=width)
        if with_labels:
            top = corners[np.argmin(corners[:, 1])]
            _draw_tag(canvas, draw, (float(top[0]), float(top[1]) - size - 4), label, color)
    return np.asarray(canvas), skipped


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
