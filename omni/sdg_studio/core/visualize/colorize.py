"""Turn annotator data into RGBA uint8 images (numpy only).

Rules follow NVIDIA's reference colorizers (``shared/research/visualizer_kit.md`` section 1b):
depth near = bright over the finite range, infinity = background; normals ``(n + 1) / 2``;
segmentation one color per label (ours stable, see :mod:`palette`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from omni.sdg_studio.core.visualize.normalize import AnnotatorDataError, Segmentation
from omni.sdg_studio.core.visualize.palette import LabelPalette, PaintedIds, paint_labels

#: Background of depth where nothing was hit (inf) and of normals where there is no surface.
BACKGROUND_RGBA = (0, 0, 0, 255)
#: Gray levels of the farthest and nearest finite depth (the darkest gray stays distinct from background).
_FAR_LEVEL, _NEAR_LEVEL = 48, 255


class DepthMode(str, Enum):
    """How depth values map to gray: over the finite range of the frame, a fixed range, or log-scaled."""

    AUTO = "auto"
    FIXED = "fixed"
    LOG = "log"


@dataclass(frozen=True)
class DepthRange:
    """Depth display settings; ``near`` / ``far`` are used by FIXED, and by LOG when given."""

    mode: DepthMode = DepthMode.AUTO
    near: float | None = None
    far: float | None = None

    def __post_init__(self) -> None:
        if self.mode is DepthMode.FIXED and (self.near is None or self.far is None):
            raise ValueError("fixed depth range needs near and far")
        if self.near is not None and self.far is not None and not self.far > self.near:
            raise ValueError(f"depth far ({self.far}) must be greater than near ({self.near})")
        if self.mode is DepthMode.LOG and self.near is not None and self.near <= 0:
            raise ValueError("log depth range needs near > 0")


@dataclass(frozen=True)
class DepthImage:
    """Colorized depth and the range that was shown (None when nothing finite was hit)."""

    rgba: np.ndarray
    shown_range: tuple[float, float] | None


_BACKGROUND_PACKED = np.array([BACKGROUND_RGBA], np.uint8).view("<u4")[0]


def _shown_range(depth: np.ndarray, hit: np.ndarray, settings: DepthRange) -> tuple[float, float] | None:
    if settings.mode is DepthMode.FIXED:
        assert settings.near is not None and settings.far is not None
        return settings.near, settings.far
    if not hit.any():
        return None
    near = float(np.min(depth, where=hit, initial=np.inf)) if settings.near is None else settings.near
    far = float(np.max(depth, where=hit, initial=-np.inf)) if settings.far is None else settings.far
    return near, max(far, near * (1 + 1e-6) + 1e-9)


def colorize_depth(depth: np.ndarray, settings: DepthRange = DepthRange()) -> DepthImage:
    """Gray image of an (H, W) float depth: near bright, far dark, inf / NaN / <= 0 as background.

    AUTO spans the finite values of this frame, FIXED spans ``near``..``far``, LOG is log-scaled
    (finite range unless ``near`` / ``far`` are given). Values outside the range are clamped.
    """
    if depth.ndim != 2 or not np.issubdtype(depth.dtype, np.floating):
        raise AnnotatorDataError(f"depth: shape {depth.shape} dtype {depth.dtype}, expected (H, W) float")
    with np.errstate(invalid="ignore"):
        hit = np.isfinite(depth)
        hit &= depth > 0
    shown = _shown_range(depth, hit, settings)
    if shown is None:
        rgba = np.empty((*depth.shape, 4), np.uint8)
        rgba[:] = BACKGROUND_RGBA
        return DepthImage(rgba, None)
    near, far = shown
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if settings.mode is DepthMode.LOG:
            norm = np.log(np.maximum(depth, np.float32(near)) * np.float32(1 / near))
            norm *= np.float32(1 / np.log(far / near))
        else:
            norm = np.subtract(depth, np.float32(near), dtype=np.float32)
            norm *= np.float32(1.0 / (far - near))
        np.clip(norm, 0, 1, out=norm)
        norm *= -np.float32(_NEAR_LEVEL - _FAR_LEVEL)
        norm += np.float32(_NEAR_LEVEL)
        gray = norm.astype(np.uint8)
    packed = np.multiply(gray, np.uint32(0x010101), dtype=np.uint32)
    packed |= np.uint32(0xFF000000)
    np.copyto(packed, _BACKGROUND_PACKED, where=~hit)
    return DepthImage(packed.view(np.uint8).reshape((*depth.shape, 4)), (near, far))


def colorize_normals(normals: np.ndarray) -> np.ndarray:
    """RGB = (n + 1) / 2 of the xyz channels; zero or non-finite normals (no surface) as background."""
    if normals.ndim != 3 or normals.shape[2] < 3:
        raise AnnotatorDataError(f"normals: shape {normals.shape}, expected (H, W, 3 or 4)")
    xyz = normals[:, :, :3].astype(np.float32, copy=False)
    valid = np.isfinite(xyz).all(axis=2) & (np.abs(xyz).sum(axis=2) > 0)
    rgba = np.empty((*normals.shape[:2], 4), np.uint8)
    rgba[:, :, :3] = np.clip((np.nan_to_num(xyz) + 1.0) * 127.5, 0, 255).astype(np.uint8)
    rgba[:, :, 3] = 255
    rgba[~valid] = BACKGROUND_RGBA
    return rgba


def colorize_flow(flow: np.ndarray) -> tuple[np.ndarray, float]:
    """Motion vectors as color: hue = direction, brightness = speed relative to the frame's largest.

    Uses the first two channels (pixel offsets, as NVIDIA's flow drawer reads them); returns the image
    and the largest speed found.
    """
    if flow.ndim != 3 or flow.shape[2] < 2:
        raise AnnotatorDataError(f"motion_vectors: shape {flow.shape}, expected (H, W, 2 or 4)")
    dx = np.nan_to_num(flow[:, :, 0].astype(np.float32))
    dy = np.nan_to_num(flow[:, :, 1].astype(np.float32))
    speed = np.hypot(dx, dy)
    top = float(speed.max()) if speed.size else 0.0
    hue = (np.arctan2(dy, dx) / (2 * np.pi)) % 1.0
    value = speed / top if top > 0 else np.zeros_like(speed)
    rgba = np.empty((*flow.shape[:2], 4), np.uint8)
    rgba[:, :, :3] = (_hsv_to_rgb(hue, np.ones_like(hue), value) * 255).astype(np.uint8)
    rgba[:, :, 3] = 255
    return rgba, top


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    i = np.floor(h * 6).astype(np.int32) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.empty((*h.shape, 3), np.float32)
    for channel in range(3):
        out[..., channel] = np.choose(i, [c[channel] for c in choices])
    return out


def colorize_segmentation(seg: Segmentation, palette: LabelPalette) -> PaintedIds:
    """Paint a segmentation with stable colors: semantic by label, instance by prim path."""
    return paint_labels(seg.ids, palette.colors(seg.labels))


def heat_color(ratio: float) -> tuple[int, int, int, int]:
    """Green (0: fully visible) through yellow to red (1: fully occluded); gray for unknown (< 0)."""
    if not ratio >= 0:
        return (128, 128, 128, 255)
    r = min(1.0, 2 * ratio)
    g = min(1.0, 2 * (1 - ratio))
    return (round(255 * r), round(255 * g), 0, 255)


def colorize_occlusion(instance_ids: np.ndarray, ratios: dict[int, float]) -> PaintedIds:
    """Paint every instance with its occlusion ratio (heat colors); instances without a ratio stay dark."""
    colors = {key: heat_color(ratio) for key, ratio in ratios.items()}
    return paint_labels(instance_ids, colors, missing=(40, 40, 40, 255))
