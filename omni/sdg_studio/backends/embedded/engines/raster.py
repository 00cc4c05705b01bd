"""A numpy z-buffer rasterizer: no dependency beyond numpy; the fallback engine and the test oracle.

:func:`rasterize` lists, chunk by chunk, every pixel center inside each triangle (edges included) with
its depth: triangles are clipped against the near plane in camera space and projected. The engine keeps
the nearest candidate per pixel (packed depth bits and triangle number, resolved with
``np.minimum.at``) and recomputes the winner's distance exactly as a ray / plane intersection in
float64, like a ray caster's. The same candidates give the surfaces behind a hit, and the coplanar
tie resolution uses them for every engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines.base import Hits, Pixels, TriangleSoup, WorldMesh, pixel_indices
from omni.sdg_studio.backends.embedded.vectors import transform3

#: Candidate pixels processed per chunk (bounds peak memory to some tens of MB).
CHUNK = 1 << 20
_NO_HIT = np.iinfo(np.int64).max

#: A pixel window (x0, y0, x1, y1), ends exclusive.
Window = tuple[int, int, int, int]


def _clip_near(tri: np.ndarray, source: np.ndarray, near: float) -> tuple[np.ndarray, np.ndarray]:
    """Clip camera-space triangles (n, 3, 3) against z = -near; returns triangles and their source rows."""
    inside = tri[:, :, 2] <= -near
    n_in = inside.sum(axis=1)
    keep = [tri[n_in == 3]]
    keep_src = [source[n_in == 3]]
    for count in (1, 2):
        sel = n_in == count
        if not sel.any():
            continue
        t, src, ins = tri[sel], source[sel], inside[sel]
        # Rotate each triangle so that its odd vertex (the lone inside one, or the lone outside one) comes first.
        lone = np.argmax(ins if count == 1 else ~ins, axis=1)
        order = (lone[:, None] + np.arange(3)[None, :]) % 3
        t = np.take_along_axis(t, order[:, :, None], axis=1)
        a, b, c = t[:, 0], t[:, 1], t[:, 2]

        def cut(p: np.ndarray, q: np.ndarray) -> np.ndarray:
            s = (-near - p[:, 2]) / (q[:, 2] - p[:, 2])
            return p + s[:, None] * (q - p)

        ab, ac = cut(a, b), cut(a, c)
        if count == 1:  # a inside: one smaller triangle
            keep.append(np.stack([a, ab, ac], axis=1))
            keep_src.append(src)
        else:  # a outside: a quad b, c, ac, ab -> two triangles
            keep.append(np.stack([ab, b, c], axis=1))
            keep.append(np.stack([ab, c, ac], axis=1))
            keep_src.extend([src, src])
    return np.concatenate(keep), np.concatenate(keep_src)


def window_of(camera: PinholeCamera, pixels: Pixels) -> Window:
    """The smallest pixel window holding ``pixels``."""
    width = camera.width
    if pixels is None:
        return 0, 0, width, camera.height
    if isinstance(pixels, slice):
        start, stop, _ = pixels.indices(width * camera.height)
        if stop <= start:
            return 0, 0, 0, 0
        first, last = start // width, (stop - 1) // width + 1
        return (
            (0 if last - first > 1 else start % width),
            first,
            (width if last - first > 1 else (stop - 1) % width + 1),
            last,
        )
    if not len(pixels):
        return 0, 0, 0, 0
    rows, cols = np.divmod(pixels, width)
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def group_windows(group: np.ndarray, groups: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per group ``0 .. groups - 1``: the (x0, y0, x1, y1) box of its pixels (``group[i]`` holds pixel
    ``(x[i], y[i])``); an empty box for a group with none."""
    windows = np.empty((groups, 4), np.int64)
    windows[:, :2], windows[:, 2:] = np.iinfo(np.int64).max, -1
    np.minimum.at(windows[:, 0], group, x)
    np.minimum.at(windows[:, 1], group, y)
    np.maximum.at(windows[:, 2], group, x + 1)
    np.maximum.at(windows[:, 3], group, y + 1)
    return windows


def rasterize(
    camera: PinholeCamera, corners: np.ndarray, window: Window | np.ndarray, chunk: int = CHUNK
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every pixel of ``window`` whose center lies inside one of the world triangles ``corners`` (n, 3, 3).

    ``window`` is one (x0, y0, x1, y1) for all triangles, or one per triangle (n, 4). Yields chunks of
    (flat pixel index in the image, triangle index, camera-space depth along -Z), with depths within the
    camera's clipping range; at most about ``chunk`` candidates at a time.
    """
    windows = np.asarray(window, np.int64).reshape(-1, 4)
    if not len(corners) or not ((windows[:, 2] > windows[:, 0]) & (windows[:, 3] > windows[:, 1])).any():
        return
    k = camera.intrinsics
    view = camera.world_to_camera
    tri = transform3(corners.reshape(-1, 3), view[:3, :3], view[3, :3]).reshape(-1, 3, 3)
    tri, src = _clip_near(tri, np.arange(len(corners)), camera.near)
    if not len(tri):
        return
    x0, y0, x1, y1 = (windows[src if len(windows) > 1 else np.zeros(len(src), np.int64), k] for k in range(4))
    depth = -tri[:, :, 2]
    sx = (k.focal_length * tri[:, :, 0] / depth - k.horizontal_offset) / k.horizontal_aperture + 0.5
    sy = 0.5 - (k.focal_length * tri[:, :, 1] / depth - k.vertical_offset) / k.vertical_aperture
    px, py = sx * k.width, sy * k.height
    # Pixel (i, j) has its center at (i + 0.5, j + 0.5); candidate ranges are inclusive of edges.
    lo_x = np.maximum(np.ceil(px.min(axis=1) - 0.5), x0)
    hi_x = np.minimum(np.floor(px.max(axis=1) - 0.5), x1 - 1)
    lo_y = np.maximum(np.ceil(py.min(axis=1) - 0.5), y0)
    hi_y = np.minimum(np.floor(py.max(axis=1) - 0.5), y1 - 1)
    bw = np.maximum(hi_x - lo_x + 1, 0).astype(np.int64)
    bh = np.maximum(hi_y - lo_y + 1, 0).astype(np.int64)
    area = (px[:, 1] - px[:, 0]) * (py[:, 2] - py[:, 0]) - (px[:, 2] - px[:, 0]) * (py[:, 1] - py[:, 0])
    live = np.flatnonzero((bw > 0) & (bh > 0) & (area != 0) & (depth.min(axis=1) <= camera.far))
    if not len(live):
        return
    inv_depth = 1.0 / depth
    projected = (px, py, area, inv_depth)
    # Triangles in groups of at most ``chunk`` pixel rows; each row only over its span of columns.
    heights = bh[live]
    ends = np.cumsum(heights)
    start = 0
    while start < len(live):
        base = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + chunk, side="right")))
        t_row = np.repeat(live[start:stop], heights[start:stop])
        local = np.arange(len(t_row)) - np.repeat(
            np.cumsum(heights[start:stop]) - heights[start:stop], heights[start:stop]
        )
        y = lo_y[t_row] + local
        first, last = _row_spans(px, py, t_row, y + 0.5)
        first = np.maximum(first, x0[t_row])
        last = np.minimum(last, x1[t_row] - 1)
        widths = np.maximum(last - first + 1, 0).astype(np.int64)
        row_ends = np.cumsum(widths)
        row_start = 0
        while row_start < len(t_row):
            row_base = row_ends[row_start - 1] if row_start else 0
            row_stop = max(row_start + 1, int(np.searchsorted(row_ends, row_base + chunk, side="right")))
            part = slice(row_start, row_stop)
            yield from _span_candidates(t_row[part], y[part], first[part], widths[part], projected, src, camera)
            row_start = row_stop
        start = stop


def _row_spans(px: np.ndarray, py: np.ndarray, t: np.ndarray, center_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last pixel column (widened by one for rounding) a triangle may cover on each row."""
    left = np.full(len(t), np.inf)
    right = np.full(len(t), -np.inf)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        xa, ya, xb, yb = px[t, a], py[t, a], px[t, b], py[t, b]
        crosses = (center_y >= np.minimum(ya, yb)) & (center_y <= np.maximum(ya, yb))
        flat = ya == yb
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(flat, xa, xa + (center_y - ya) * (xb - xa) / (yb - ya))
        left = np.where(crosses, np.minimum(left, np.where(flat, np.minimum(xa, xb), x)), left)
        right = np.where(crosses, np.maximum(right, np.where(flat, np.maximum(xa, xb), x)), right)
    found = np.isfinite(left) & np.isfinite(right)
    first = np.where(found, np.ceil(np.where(found, left, 0.0) - 0.5) - 1, 1.0)
    last = np.where(found, np.floor(np.where(found, right, 0.0) - 0.5) + 1, 0.0)
    return first, last


def _span_candidates(
    t_row: np.ndarray,
    y: np.ndarray,
    first: np.ndarray,
    widths: np.ndarray,
    projected: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    src: np.ndarray,
    camera: PinholeCamera,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The pixels of row spans whose centers pass the edge tests, with their depths."""
    px, py, area, inv_depth = projected
    t = np.repeat(t_row, widths)
    cx = np.repeat(first, widths) + (np.arange(len(t)) - np.repeat(np.cumsum(widths) - widths, widths)) + 0.5
    cy = np.repeat(y, widths) + 0.5
    ax, ay, bx, by, ccx, ccy = px[t, 0], py[t, 0], px[t, 1], py[t, 1], px[t, 2], py[t, 2]
    w0 = (bx - cx) * (ccy - cy) - (ccx - cx) * (by - cy)
    w1 = (ccx - cx) * (ay - cy) - (ax - cx) * (ccy - cy)
    w2 = (ax - cx) * (by - cy) - (bx - cx) * (ay - cy)
    a = area[t]
    sign = np.sign(a)
    inside = (w0 * sign >= 0) & (w1 * sign >= 0) & (w2 * sign >= 0)
    with np.errstate(divide="ignore"):
        z = a / (w0 * inv_depth[t, 0] + w1 * inv_depth[t, 1] + w2 * inv_depth[t, 2])
    inside &= (z >= camera.near) & (z <= camera.far)
    t, cx, cy, z = t[inside], cx[inside], cy[inside], z[inside]
    pixel = (cy - 0.5).astype(np.int64) * camera.width + (cx - 0.5).astype(np.int64)
    yield pixel, src[t], z


class RasterEngine:
    """First hit per pixel by z-buffer rasterization."""

    name = "numpy"
    concurrent = False

    def __init__(self) -> None:
        self._soup = TriangleSoup.build(())
        self._local = np.zeros(0, np.int32)

    def load(self, meshes: Sequence[WorldMesh]) -> None:
        self._soup = TriangleSoup.build(meshes)
        counts = [len(m.triangles) for m in meshes]
        self._local = (
            np.concatenate([np.arange(c, dtype=np.int32) for c in counts]) if meshes else np.zeros(0, np.int32)
        )

    def _rows(self, only: Sequence[int] | np.ndarray | None) -> np.ndarray:
        return np.arange(self._soup.count) if only is None else self._soup.geometry_rows(only)

    def cast(self, camera: PinholeCamera, pixels: Pixels = None, only: Sequence[int] | None = None) -> Hits:
        flat = pixel_indices(camera, pixels)
        if not len(flat):
            return Hits.misses(0)
        x0, y0, x1, y1 = window_of(camera, pixels)
        win_w = x1 - x0
        rows = self._rows(only)
        zbuf = np.full(win_w * (y1 - y0), _NO_HIT, np.int64)
        for pixel, tri, z in rasterize(camera, self._soup.corners[rows], (x0, y0, x1, y1)):
            r, c = np.divmod(pixel, camera.width)
            key = (z.astype(np.float32).view(np.uint32).astype(np.int64) << 32) | tri.astype(np.int64)
            np.minimum.at(zbuf, (r - y0) * win_w + (c - x0), key)
        r, c = np.divmod(flat, camera.width)
        winner = zbuf[(r - y0) * win_w + (c - x0)]
        found = winner != _NO_HIT
        hits = Hits.misses(len(flat))
        if found.any():
            table_rows = rows[winner[found] & 0xFFFFFFFF]
            dirs, _ = camera.world_rays(flat[found])
            distance = self._soup.exact_distance(camera.position, dirs.astype(np.float64), table_rows)
            hits.distance[found] = distance.astype(np.float32)
            hits.geometry[found] = self._soup.row_geometry[table_rows]
            hits.triangle[found] = self._local[table_rows]
        return hits

    def meets(
        self, camera: PinholeCamera, pixels: np.ndarray, group: np.ndarray, groups: Sequence[np.ndarray]
    ) -> np.ndarray:
        met = np.zeros(len(pixels), bool)
        if not len(pixels):
            return met
        count = camera.width * camera.height
        wanted = group.astype(np.int64) * count + pixels  # sorted by group, then any order
        order = np.argsort(wanted, kind="stable")
        wanted = wanted[order]
        present = group[np.concatenate([[True], group[1:] != group[:-1]])]  # ``group`` is sorted
        rows = [self._soup.geometry_rows(groups[int(k)]) for k in present]
        row_group = np.repeat(present, [len(r) for r in rows]).astype(np.int64)
        rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        # Each group's triangles only over the box of that group's pixels.
        r, c = np.divmod(pixels, camera.width)
        windows = group_windows(np.searchsorted(present, group), len(present), c, r)
        row_window = windows[np.searchsorted(present, row_group)]
        for pixel, tri, _ in rasterize(camera, self._soup.corners[rows], row_window):
            key = row_group[tri] * count + pixel
            at = np.minimum(np.searchsorted(wanted, key), len(wanted) - 1)
            met[order[at[wanted[at] == key]]] = True
        return met
