"""A numpy z-buffer rasterizer: no dependency beyond numpy; the fallback engine and the test oracle.

Triangles are clipped against the near plane in camera space, projected, and every pixel center
inside a triangle (edges included) is a candidate; the nearest candidate per pixel wins (packed
depth bits and triangle number, resolved with ``np.minimum.at``). The winner's distance is then
recomputed exactly as a ray / plane intersection in float64, like a ray caster's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines.base import Hits, TriangleSoup, WorldMesh, covers_group_by_group

#: Candidate pixels processed per chunk (bounds peak memory to a few hundred MB).
CHUNK = 1 << 21
_NO_HIT = np.iinfo(np.int64).max


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


class RasterEngine:
    """First hit per pixel by z-buffer rasterization."""

    name = "numpy"

    def __init__(self) -> None:
        self._vertices = np.zeros((0, 3))
        self._triangles = np.zeros((0, 3), np.int64)
        self._geometry = np.zeros(0, np.int32)
        self._local = np.zeros(0, np.int32)
        self._soup = TriangleSoup.build(())

    def load(self, meshes: Sequence[WorldMesh]) -> None:
        offsets = np.concatenate([[0], np.cumsum([len(m.vertices) for m in meshes])]).astype(np.int64)
        if meshes:
            self._vertices = np.concatenate([m.vertices for m in meshes]).astype(np.float64)
            self._triangles = np.concatenate([m.triangles + offsets[i] for i, m in enumerate(meshes)])
        counts = [len(m.triangles) for m in meshes]
        self._geometry = np.repeat(np.arange(len(meshes), dtype=np.int32), counts)
        self._local = np.concatenate([np.arange(c, dtype=np.int32) for c in counts]) if meshes else self._geometry
        self._soup = TriangleSoup.build(meshes)

    def cast(self, camera: PinholeCamera, pixels: np.ndarray | None = None, only: Sequence[int] | None = None) -> Hits:
        width, height = camera.width, camera.height
        if pixels is None:
            x0, y0, x1, y1 = 0, 0, width, height
        else:
            if len(pixels) == 0:
                return Hits.misses(0)
            rows, cols = np.divmod(pixels, width)
            x0, y0, x1, y1 = int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1
        win_w, win_h = x1 - x0, y1 - y0
        if only is None:
            rows_sel = np.arange(len(self._triangles))
        else:
            offsets = self._soup.offsets
            chosen = sorted(set(int(g) for g in only))
            rows_sel = np.concatenate(
                [np.arange(offsets[g], offsets[g + 1]) for g in chosen] or [np.zeros(0, np.int64)]
            )
        zbuf = np.full(win_w * win_h, _NO_HIT, np.int64)
        if len(rows_sel):
            self._rasterize(camera, rows_sel, (x0, y0, x1, y1), zbuf)
        found = zbuf != _NO_HIT
        winner = np.where(found, zbuf & 0xFFFFFFFF, 0)
        tri_rows = rows_sel[winner] if len(rows_sel) else np.zeros_like(winner)
        # Results for the window, then the requested pixels out of it.
        win_pixels = (np.arange(y0, y1)[:, None] * width + np.arange(x0, x1)[None, :]).ravel()
        if pixels is not None:
            pick = (rows - y0) * win_w + (cols - x0)  # pyright: ignore[reportPossiblyUnboundVariable]  (set when pixels is given)
            found, tri_rows, win_pixels = found[pick], tri_rows[pick], pixels
        count = len(win_pixels)
        hits = Hits.misses(count)
        if found.any():
            dirs, _ = camera.world_rays(win_pixels[found])
            global_rows = tri_rows[found]
            geometry = self._geometry[global_rows]
            local = self._local[global_rows]
            distance = self._soup.exact_distance(
                camera.position, dirs.astype(np.float64), self._soup.rows(geometry, local)
            )
            hits.distance[found] = distance.astype(np.float32)
            hits.geometry[found] = geometry
            hits.triangle[found] = local
        return hits

    def covers(
        self, camera: PinholeCamera, groups: Sequence[Sequence[int]], group_of_ray: np.ndarray, pixels: np.ndarray
    ) -> np.ndarray:
        return covers_group_by_group(self, camera, groups, group_of_ray, pixels)

    def _rasterize(
        self, camera: PinholeCamera, rows_sel: np.ndarray, window: tuple[int, int, int, int], zbuf: np.ndarray
    ) -> None:
        x0, y0, x1, y1 = window
        k = camera.intrinsics
        view = camera.world_to_camera()
        tri = self._vertices[self._triangles[rows_sel]] @ view[:3, :3] + view[3, :3]
        tri, src = _clip_near(tri, np.arange(len(rows_sel)), camera.near)
        if not len(tri):
            return
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
        sizes = bw[live] * bh[live]
        inv_depth = 1.0 / depth
        win_w = x1 - x0
        start = 0
        ends = np.cumsum(sizes)
        while start < len(live):
            base = ends[start - 1] if start else 0
            stop = max(start + 1, int(np.searchsorted(ends, base + CHUNK, side="right")))
            chunk = live[start:stop]
            counts = sizes[start:stop]
            t = np.repeat(chunk, counts)
            local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            cx = lo_x[t] + local % bw[t] + 0.5
            cy = lo_y[t] + local // bw[t] + 0.5
            ax, ay, bx, by, ccx, ccy = px[t, 0], py[t, 0], px[t, 1], py[t, 1], px[t, 2], py[t, 2]
            w0 = (bx - cx) * (ccy - cy) - (ccx - cx) * (by - cy)
            w1 = (ccx - cx) * (ay - cy) - (ax - cx) * (ccy - cy)
            w2 = (ax - cx) * (by - cy) - (bx - cx) * (ay - cy)
            sign = np.sign(area[t])
            inside = (w0 * sign >= 0) & (w1 * sign >= 0) & (w2 * sign >= 0)
            a = area[t]
            inv_z = (w0 * inv_depth[t, 0] + w1 * inv_depth[t, 1] + w2 * inv_depth[t, 2]) / a
            z = 1.0 / inv_z
            inside &= (z >= camera.near) & (z <= camera.far)
            t, cx, cy, z = t[inside], cx[inside], cy[inside], z[inside]
            pix = (cy - 0.5 - y0).astype(np.int64) * win_w + (cx - 0.5 - x0).astype(np.int64)
            key = (z.astype(np.float32).view(np.uint32).astype(np.int64) << 32) | src[t].astype(np.int64)
            np.minimum.at(zbuf, pix, key)
            start = stop
