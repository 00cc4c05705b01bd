"""Outline polygons of binary masks, in numpy: exact pixel-edge outlines, simplified, parts joined.

The outline of a mask runs along pixel edges ("crack following"): its vertices are pixel corners,
so filling the polygon (sampling at pixel centers) gives back the mask exactly, holes aside, and
its bounds are the mask's pixel-edge box. Diagonally touching pixels belong to one outline
(8-connectivity). :func:`simplify` drops vertices within a tolerance (Douglas-Peucker); the kept
vertices are a subset of the exact ones, so the bounds move by at most the tolerance.
:func:`join_parts` makes one polygon of several parts by zero-width bridges between their closest
vertices (walked there and back), the form YOLO segmentation labels need (one polygon per object).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Edge directions in order: +x, +y, -x, -y (image coordinates, y down).
_STEP = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], np.int64)


def mask_outlines(mask: np.ndarray) -> list[np.ndarray]:
    """Outer outlines of ``mask`` ((H, W) bool) as (K, 2) int arrays of ``x, y`` corners, largest first.

    Each outline walks with the object on its right (clockwise on screen) and lists only corners.
    """
    mask = np.asarray(mask, bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be (H, W), got shape {mask.shape}")
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return []
    top, left = int(rows.min()), int(cols.min())
    crop = np.zeros((int(rows.max()) - top + 3, int(cols.max()) - left + 3), bool)
    crop[rows - top + 1, cols - left + 1] = True
    loops = _outline_loops(crop)
    offset = np.array([left - 1, top - 1], np.int64)
    outer = [(loop, area) for loop in loops if (area := _area(loop)) > 0]
    outer.sort(key=lambda item: -item[1])
    kept: list[np.ndarray] = []
    for loop, _ in outer:  # an island inside a hole of a larger part is covered by that part's fill
        top_left = loop[np.lexsort((loop[:, 0], loop[:, 1]))[0]] + 0.5  # centre of the part's first pixel
        if not any(_contains(bigger, top_left) for bigger in kept):
            kept.append(loop)
    return [loop + offset for loop in kept]


def _outline_loops(padded: np.ndarray) -> list[np.ndarray]:
    """Every boundary loop (outer and hole) of a mask with a background border, as corner lists."""
    height, width = padded.shape
    inside = padded[1:-1, 1:-1]
    # a pixel edge is on the boundary where the neighbour across it is outside
    sides = (
        inside & ~padded[:-2, 1:-1],  # top edge, walked +x
        inside & ~padded[1:-1, 2:],  # right edge, walked +y
        inside & ~padded[2:, 1:-1],  # bottom edge, walked -x
        inside & ~padded[1:-1, :-2],  # left edge, walked -y
    )
    corner_of_pixel = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.int64)  # start corner (dx, dy) per side
    starts, dirs = [], []
    for direction, side in enumerate(sides):
        r, c = np.nonzero(side)
        xy = np.stack([c + 1, r + 1], axis=1) + corner_of_pixel[direction]  # padded pixel (r+1, c+1)
        starts.append(xy)
        dirs.append(np.full(len(xy), direction, np.int64))
    start = np.concatenate(starts)
    direction = np.concatenate(dirs)
    end = start + _STEP[direction]
    # outgoing edge per (corner, direction); a corner has one, or two where pixels touch diagonally
    table = np.full((height + 1, width + 1, 4), -1, np.int64)
    table[start[:, 1], start[:, 0], direction] = np.arange(len(start))
    at_end = table[end[:, 1], end[:, 0]]
    ordered = [at_end[np.arange(len(start)), (direction + turn) % 4] for turn in (-1, 0, 1)]
    successor = np.where(ordered[0] >= 0, ordered[0], np.where(ordered[1] >= 0, ordered[1], ordered[2]))
    predecessor = np.empty_like(successor)
    predecessor[successor] = np.arange(len(successor))
    turning = direction != direction[predecessor]  # the edge starts at a corner
    successor_list = successor.tolist()
    turning_list = turning.tolist()
    start_list = start.tolist()
    seen = bytearray(len(start))
    loops = []
    for first in range(len(start)):
        if seen[first]:
            continue
        corners = []
        edge = first
        while not seen[edge]:
            seen[edge] = 1
            if turning_list[edge]:
                corners.append(start_list[edge])
            edge = successor_list[edge]
        loops.append(np.array(corners, np.int64).reshape(-1, 2))
    return loops


def _contains(polygon: np.ndarray, point: np.ndarray) -> bool:
    """Even-odd test of ``point`` against ``polygon`` (a point off every edge, e.g. a pixel centre)."""
    x0, y0 = polygon[:, 0].astype(np.float64), polygon[:, 1].astype(np.float64)
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    px, py = float(point[0]), float(point[1])
    spans = (y0 <= py) != (y1 <= py)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
    return bool(np.count_nonzero(spans & (px < crossing)) % 2)


def _area(polygon: np.ndarray) -> float:
    """Shoelace area; positive for outlines walked with the inside on the right (y down)."""
    x, y = polygon[:, 0].astype(np.float64), polygon[:, 1].astype(np.float64)
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def simplify(polygon: np.ndarray, tolerance: float) -> np.ndarray:
    """``polygon`` (closed, (K, 2)) with vertices within ``tolerance`` of the kept outline dropped."""
    points = np.asarray(polygon, np.float64)
    if tolerance <= 0 or len(points) <= 4:
        return np.asarray(polygon)
    far = int(np.argmax(((points - points[0]) ** 2).sum(axis=1)))
    keep = np.zeros(len(points), bool)
    keep[[0, far]] = True
    closed = np.vstack([points, points[:1]])
    for low, high in ((0, far), (far, len(points))):
        stack = [(low, high)]
        while stack:
            a, b = stack.pop()
            if b - a < 2:
                continue
            segment = closed[b] - closed[a]
            length = float(np.hypot(*segment))
            inner = closed[a + 1 : b] - closed[a]
            if length == 0.0:
                distance = np.hypot(inner[:, 0], inner[:, 1])
            else:
                distance = np.abs(segment[0] * inner[:, 1] - segment[1] * inner[:, 0]) / length
            k = int(np.argmax(distance))
            if distance[k] > tolerance:
                keep[a + 1 + k] = True
                stack.extend([(a, a + 1 + k), (a + 1 + k, b)])
    return np.asarray(polygon)[keep]


def join_parts(parts: Sequence[np.ndarray]) -> np.ndarray:
    """One polygon visiting every part: each next part is entered at its vertex closest to the polygon so
    far, walked round, and left the way it came (a zero-width bridge, so fills are unchanged)."""
    if not parts:
        return np.zeros((0, 2), np.float64)
    joined = np.asarray(parts[0])
    for part in parts[1:]:
        part = np.asarray(part)
        gaps = ((joined[:, None, :].astype(np.float64) - part[None, :, :]) ** 2).sum(axis=2)
        i, j = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
        loop = np.vstack([part[j:], part[: j + 1]])
        joined = np.vstack([joined[: i + 1], loop, joined[i:]])
    return joined


def mask_polygon(mask: np.ndarray, tolerance: float = 1.0) -> np.ndarray:
    """The YOLO-style polygon of ``mask``: outer outlines simplified by ``tolerance`` px and joined.

    Empty (0, 2) for an empty mask. Holes are not represented (the outline fills them).
    """
    outlines = [simplify(outline, tolerance) for outline in mask_outlines(mask)]
    return join_parts(outlines)
