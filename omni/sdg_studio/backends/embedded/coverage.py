"""Which labeled objects cover which pixels when rendered alone, beyond the ones they own (are seen in).

A geometry can only be met by rays through the screen region its oriented bounding box projects to
(the convex hull of the eight projected corners holds the projection of everything inside the box),
and only by rays whose first hit is no farther than the box's farthest corner (a surface met behind
the first hit is farther than it). So, per labeled *unit* (geometries held by the same objects), the
candidate pixels are those of its geometries' regions, widened by a pixel against rounding, whose first
hit is another unit's and near enough. Each candidate is then decided exactly by the engine: does that
pixel's ray meet the unit rendered alone (:meth:`RayEngine.meets`, the same test as rendering it
alone)? No surface is peeled, so a unit's own back faces and the surfaces between objects cost nothing;
the work grows with the screen area of the boxes around hidden or partly hidden objects, and every
array is bounded by :data:`PAIR_CHUNK` candidates at a time.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines import Hits, RayEngine
from omni.sdg_studio.backends.embedded.labels import LabelTables
from omni.sdg_studio.backends.embedded.vectors import dot3
from omni.sdg_studio.backends.embedded.workers import Workers

#: Candidate (unit, pixel) pairs handled at a time (bounds peak memory to some tens of MB).
PAIR_CHUNK = 1 << 20
#: Relative margin on a box's farthest-corner distance (first-hit distances are float32).
_REACH_MARGIN = 1e-5
_SEGMENTS = np.array(list(combinations(range(8), 2)), np.int64)
#: The twelve edges of a box (corner ``i`` has bit 2, 1, 0 set for the high x, y, z), and the segments
#: between the 20 points of a box cut by the near plane (its 8 corners, then a point on each edge).
_EDGES = np.array([(i, i | bit) for i in range(8) for bit in (1, 2, 4) if not i & bit], np.int64)
_CUT_SEGMENTS = np.array(list(combinations(range(20), 2)), np.int64)


def hidden_pairs(
    camera: PinholeCamera, hits: Hits, boxes: np.ndarray, tables: LabelTables, engine: RayEngine, workers: Workers
) -> tuple[np.ndarray, np.ndarray]:
    """(object, pixel) of every pixel an object covers alone but does not own, each pair once.

    ``boxes`` holds the world corners of every geometry's local bounding box (G, 8, 3), NaN for empty ones.
    """
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    units = tables.units
    geometries = np.flatnonzero((units.of_geometry >= 0) & np.isfinite(boxes[:, 0, 0]))
    if not len(geometries):
        return none
    geometries = geometries[np.argsort(units.of_geometry[geometries], kind="stable")]
    spans = _screen_spans(camera, boxes[geometries])
    if spans is None:
        return none
    which, row, first, last, reach = spans
    widths = last - first + 1
    ends = np.cumsum(widths)
    chunks, start = [], 0
    while start < len(widths):
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + PAIR_CHUNK, side="right")))
        chunks.append(slice(start, stop))
        start = stop
    pixel_count = camera.width * camera.height
    first_unit = np.append(units.of_geometry, -1)[hits.geometry]  # a miss (-1) reads the last entry
    membership = tables.membership_keys
    object_count = len(tables.objects)
    camera.world_rays()  # every ray direction, once, before the threads gather from them

    def chunk(part: slice) -> np.ndarray:
        size = widths[part]
        local = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
        geometry = np.repeat(geometries[which[part]], size)
        pixel = np.repeat(row[part] * camera.width + first[part], size) + local
        unit = units.of_geometry[geometry]
        keep = (first_unit[pixel] != unit) & (hits.distance[pixel] <= np.repeat(reach[which[part]], size))
        unit, pixel = np.divmod(distinct(unit[keep] * pixel_count + pixel[keep]), pixel_count)
        met = engine.meets(camera, pixel, unit, units.members)
        obj, pixel = tables.objects_of(units.first[unit[met]], pixel[met])
        owned = _contains_sorted(membership, hits.geometry[pixel].astype(np.int64) * object_count + obj)
        return distinct(obj[~owned] * pixel_count + pixel[~owned])

    found = workers.map(chunk, chunks) if engine.concurrent else [chunk(part) for part in chunks]
    keys = distinct(np.concatenate(found)) if found else np.zeros(0, np.int64)
    return np.divmod(keys, pixel_count)


def _screen_spans(
    camera: PinholeCamera, corners: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Pixel rows the boxes ``corners`` (n, 8, 3) may cover: (box, row, first column, last column) per row
    span, and per box the farthest distance of a point inside it (n,); None when no box is in view.

    Rays start on the near plane, so a box is cut there: what is left of it is the convex hull of its
    corners in front of the plane and of the points where its edges cross it.
    """
    count = len(corners)
    reach = np.linalg.norm(corners - camera.position, axis=2).max(axis=1) * (1 + _REACH_MARGIN)
    view = camera.world_to_camera
    depth = -(dot3(corners.reshape(-1, 3), view[:3, 2]).reshape(count, 8) + view[3, 2])
    front = depth >= camera.near
    whole = np.flatnonzero(front.all(axis=1))
    cut = np.flatnonzero(front.any(axis=1) & ~front.all(axis=1))
    parts = [_hull_spans(camera, corners[whole], np.ones((len(whole), 8), bool), _SEGMENTS, whole)]
    if len(cut):
        a, b = _EDGES[:, 0], _EDGES[:, 1]
        da, db = depth[cut][:, a], depth[cut][:, b]
        crossing = (da < camera.near) != (db < camera.near)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(crossing, (camera.near - da) / (db - da), 0.0)[:, :, None]
        start, end = corners[cut][:, a], corners[cut][:, b]
        points = np.concatenate([corners[cut], start + share * (end - start)], axis=1)
        valid = np.concatenate([front[cut], crossing], axis=1)
        parts.append(_hull_spans(camera, points, valid, _CUT_SEGMENTS, cut))
    found = [p for p in parts if p is not None]
    if not found:
        return None
    which, row, first, last = (np.concatenate(column) for column in zip(*found, strict=True))
    order = np.argsort(which, kind="stable")
    return which[order], row[order], first[order], last[order], reach


def _hull_spans(
    camera: PinholeCamera, points: np.ndarray, valid: np.ndarray, segments: np.ndarray, boxes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Row spans of the convex hulls of the ``valid`` world ``points`` (m, k, 3), all in front of the near
    plane, widened by a pixel: (entry of ``boxes``, row, first column, last column); ``segments`` are all
    pairs of the k points."""
    width, height = camera.width, camera.height
    if not len(points):
        return None
    xy, _ = camera.project(points.reshape(-1, 3))
    x = np.where(valid, xy[:, 0].reshape(valid.shape), np.nan)
    y = np.where(valid, xy[:, 1].reshape(valid.shape), np.nan)
    low_y, high_y = np.nanmin(y, axis=1), np.nanmax(y, axis=1)
    first_row = np.maximum(np.ceil(low_y - 0.5) - 1, 0)
    last_row = np.minimum(np.floor(high_y - 0.5) + 1, height - 1)
    seen = (first_row <= last_row) & (np.nanmin(x, axis=1) < width + 1) & (np.nanmax(x, axis=1) > -1)
    hulls = np.flatnonzero(seen)
    if not len(hulls):
        return None
    rows = (last_row[hulls] - first_row[hulls] + 1).astype(np.int64)
    which = np.repeat(hulls, rows)
    row = first_row[which].astype(np.int64) + np.arange(int(rows.sum())) - np.repeat(np.cumsum(rows) - rows, rows)
    # The hull's extent at the row's center (clamped into the hull's own rows: the widened rows take the
    # nearest extent): the extremes of every point-to-point segment crossing it.
    center = np.clip(row + 0.5, low_y[which], high_y[which])
    left = np.full(len(row), np.inf)
    right = np.full(len(row), -np.inf)
    for a, b in segments:
        xa, ya, xb, yb = x[which, a], y[which, a], x[which, b], y[which, b]
        crosses = (center >= np.minimum(ya, yb)) & (center <= np.maximum(ya, yb))  # False for a missing point
        flat = ya == yb
        with np.errstate(divide="ignore", invalid="ignore"):
            at = xa + (center - ya) * (xb - xa) / (yb - ya)
        left = np.where(crosses, np.minimum(left, np.where(flat, np.minimum(xa, xb), at)), left)
        right = np.where(crosses, np.maximum(right, np.where(flat, np.maximum(xa, xb), at)), right)
    found = np.isfinite(left) & np.isfinite(right)
    first = np.maximum(np.ceil(np.where(found, left, 1.0) - 0.5) - 1, 0).astype(np.int64)
    last = np.minimum(np.where(found, np.floor(np.where(found, right, 0.0) - 0.5) + 1, -1.0), width - 1).astype(
        np.int64
    )
    keep = last >= first
    return boxes[which[keep]], row[keep], first[keep], last[keep]


def distinct(keys: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array (``np.unique`` without its hash pass, which numpy 2.4
    runs first and which costs some 40 times a sort on large arrays)."""
    ordered = np.sort(keys)
    if not len(ordered):
        return ordered
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]


def _contains_sorted(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in ``sorted_keys``."""
    if not len(sorted_keys):
        return np.zeros(len(keys), bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys
