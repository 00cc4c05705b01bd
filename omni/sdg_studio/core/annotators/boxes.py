"""The corners and edges of 3D boxes, in one corner order for every backend, writer and overlay.

Corner ``i`` takes, per axis, the box's min (bit 0) or max (bit 1) of ``(i & 1, i >> 1 & 1, i >> 2 & 1)``
for (x, y, z); :data:`BOX_EDGES` joins corners that differ in one bit.
"""

from __future__ import annotations

import numpy as np

#: Per corner, whether it takes the max (True) or the min of x, y and z.
CORNER_BITS = np.array([[i & 1, i >> 1 & 1, i >> 2 & 1] for i in range(8)], bool)
#: The 12 edges as pairs of corner indices.
BOX_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (2, 3), (4, 5), (6, 7),  # along x
    (0, 2), (1, 3), (4, 6), (5, 7),  # along y
    (0, 4), (1, 5), (2, 6), (3, 7),  # along z
)  # fmt: skip


def box_corners(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The 8 corners (..., 8, 3) of axis-aligned boxes from ``low`` to ``high`` (..., 3)."""
    low, high = np.asarray(low), np.asarray(high)
    return np.where(CORNER_BITS, high[..., None, :], low[..., None, :])


def bbox3d_corners(rows: np.ndarray) -> np.ndarray:
    """World-space corners (N, 8, 3) of ``bounding_box_3d`` rows (local extents + row-vector local-to-world)."""
    low = np.stack([rows["x_min"], rows["y_min"], rows["z_min"]], axis=-1).astype(np.float64)
    high = np.stack([rows["x_max"], rows["y_max"], rows["z_max"]], axis=-1).astype(np.float64)
    local = box_corners(low, high)
    homogeneous = np.concatenate([local, np.ones((*local.shape[:2], 1))], axis=-1)
    transforms = np.asarray(rows["transform"], np.float64).reshape(-1, 4, 4)
    world = np.einsum("nci,nij->ncj", homogeneous, transforms)
    return world[..., :3] / world[..., 3:4]
