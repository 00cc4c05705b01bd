"""Colorize annotator outputs for the PNGs writers write, with stable colors.

Semantic ids take their label's color from the :class:`ClassTable` (the rules file's ``classes``
or a hash of the label), instances a hash of their prim path, so a label or prim keeps its color
in every frame and every run. Colors within one frame are unique, because the colorized label
maps are keyed by color (``"(r, g, b, a)"``, as Replicator writes them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.colors import RESERVED_COLORS, RGBA, stable_color


def label_text(labels: Mapping[str, str], semantic_types: Sequence[str]) -> str:
    """The label of the first of ``semantic_types`` present in ``labels`` (else all values joined)."""
    for semantic_type in semantic_types:
        if semantic_type in labels:
            return str(labels[semantic_type])
    return ",".join(str(v) for v in labels.values())


def _reserved_name(labels: Mapping[str, str] | str) -> str | None:
    values = [labels] if isinstance(labels, str) else list(labels.values())
    for name in RESERVED_COLORS:
        if name in values:
            return name
    return None


def _unique(color: RGBA, key: str, used: set[RGBA]) -> RGBA:
    """``color`` if free, else a stable alternative derived from ``key``."""
    attempt = 0
    while color in used:
        attempt += 1
        color = stable_color(f"{key}#{attempt}")
    used.add(color)
    return color


def semantic_palette(
    id_to_labels: Mapping[str | int, Mapping[str, str]],
    classes: ClassTable,
    semantic_types: Sequence[str] = ("class",),
) -> dict[int, RGBA]:
    """Color per semantic id: reserved colors for BACKGROUND / UNLABELLED, class colors otherwise."""
    palette: dict[int, RGBA] = {}
    used: set[RGBA] = set(RESERVED_COLORS.values())
    for key, labels in sorted(id_to_labels.items(), key=lambda item: int(item[0])):
        reserved = _reserved_name(labels)
        if reserved is not None:
            palette[int(key)] = RESERVED_COLORS[reserved]
            continue
        name = label_text(labels, semantic_types)
        palette[int(key)] = _unique(classes.color(name), name, used)
    return palette


def instance_palette(id_to_paths: Mapping[str | int, str]) -> dict[int, RGBA]:
    """Color per instance id: reserved colors for BACKGROUND / UNLABELLED, a prim-path hash otherwise."""
    palette: dict[int, RGBA] = {}
    used: set[RGBA] = set(RESERVED_COLORS.values())
    for key, path in sorted(id_to_paths.items(), key=lambda item: int(item[0])):
        reserved = _reserved_name(str(path))
        palette[int(key)] = RESERVED_COLORS[reserved] if reserved else _unique(stable_color(str(path)), str(path), used)
    return palette


def depth_to_gray(depth: np.ndarray) -> np.ndarray:
    """Distances to a uint8 (H, W) preview on a log scale: near is bright, far dark, no hit (inf/nan) 0."""
    finite = np.isfinite(depth) & (depth > 0)
    gray = np.zeros(depth.shape, np.uint8)
    if not finite.any():
        return gray
    logs = np.log(depth[finite].astype(np.float64))
    low, high = float(logs.min()), float(logs.max())
    scale = (logs - low) / (high - low) if high > low else np.zeros_like(logs)
    gray[finite] = np.round(255.0 - 254.0 * scale).astype(np.uint8)  # keep hits >= 1, distinct from no hit
    return gray


def normals_to_rgba(normals: np.ndarray) -> np.ndarray:
    """(H, W, 4) float normals (xyz + unused) to opaque RGBA: each component mapped [-1, 1] -> [0, 255]."""
    xyz = normals[..., :3]
    # (n * 0.5 + 0.5) * 255 + 0.5 in float32, step by step in place: no 3 MB temporaries per step
    scaled = np.multiply(xyz if xyz.dtype == np.float32 else xyz.astype(np.float32), np.float32(0.5))
    scaled += np.float32(0.5)
    scaled *= np.float32(255.0)
    scaled += np.float32(0.5)
    np.clip(scaled, 0, 255, out=scaled)
    rgba = np.empty((*scaled.shape[:2], 4), np.uint8)
    rgba[..., :3] = scaled  # truncates, as astype(np.uint8) does
    rgba[..., 3] = 255
    return rgba
