"""World-space triangles of a stage's gprims, prim boxes and a downward ray cast, in numpy (no backend).

Polygon meshes are fan-triangulated (convex faces assumed, ``orientation`` honoured); every other
gprim (``Cube``, ``Sphere``, ``Cylinder``, ``Cone``, ``Capsule``, ``Plane``) and a ``PointInstancer``
stand in as the 12 triangles of their local extent box: exact for cubes, the enclosing box otherwise.
Rays only go down the stage's up axis (what ``settle`` and ``scatter`` need), so a cast is a 2-D
point-in-triangle test plus an interpolated height.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom

from omni.sdg_studio.core.randomize.transforms import Basis

#: Prims the casts see: active, loaded, defined, not abstract, including instance proxies.
TRAVERSAL = Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)
#: The 12 outward-wound triangles of a box over corners indexed by bits (+x 1, +y 2, +z 4).
BOX_TRIANGLES = np.array(
    [
        [0, 2, 3], [0, 3, 1],  # -z
        [4, 5, 7], [4, 7, 6],  # +z
        [0, 1, 5], [0, 5, 4],  # -y
        [2, 6, 7], [2, 7, 3],  # +y
        [0, 4, 6], [0, 6, 2],  # -x
        [1, 3, 7], [1, 7, 5],  # +x
    ]
)  # fmt: skip
_CHUNK = 1 << 21  # rays x triangles tested at once


def box_corners(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``(8, 3)`` corners of the box ``[low, high]``; corner ``i`` takes ``high`` on x if ``i & 1``, y if
    ``i & 2``, z if ``i & 4``."""
    bits = (np.arange(8)[:, None] >> np.arange(3)) & 1
    return np.where(bits == 1, high, low).astype(np.float64)


def homogeneous(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``points (..., 3)`` transformed by a row-vector ``matrix (4, 4)``."""
    return points @ matrix[:3, :3] + matrix[3, :3]


def gf_array(matrix: Gf.Matrix4d) -> np.ndarray:
    return np.array(matrix, np.float64).reshape(4, 4)


def fan_triangles(counts: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``(m, 3)`` vertex indices of the fan triangulation of polygons (faces with < 3 vertices dropped)."""
    counts = np.asarray(counts, np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    fans = np.maximum(counts - 2, 0)
    face = np.repeat(np.arange(len(counts)), fans)
    corner = np.arange(int(fans.sum())) - np.repeat(np.cumsum(fans) - fans, fans)
    first = starts[face]
    return np.stack([indices[first], indices[first + corner + 1], indices[first + corner + 2]], axis=1)


def local_triangles(prim: Usd.Prim, time: Usd.TimeCode) -> np.ndarray:
    """``(m, 3, 3)`` triangles of one gprim in its own space (empty when it has no usable geometry)."""
    empty = np.zeros((0, 3, 3))
    if prim.IsA(UsdGeom.Mesh):
        mesh = UsdGeom.Mesh(prim)
        points = mesh.GetPointsAttr().Get(time)
        counts = mesh.GetFaceVertexCountsAttr().Get(time)
        indices = mesh.GetFaceVertexIndicesAttr().Get(time)
        if not points or not counts or not indices:
            return empty
        points, indices = np.asarray(points, np.float64), np.asarray(indices, np.int64)
        if int(np.sum(counts)) != len(indices) or indices.min() < 0 or indices.max() >= len(points):
            return empty
        tris = fan_triangles(np.asarray(counts), indices)
        if mesh.GetOrientationAttr().Get(time) == UsdGeom.Tokens.leftHanded:
            tris = tris[:, ::-1]
        return points[tris]
    extent = _extent(prim, time)
    return box_corners(*extent)[BOX_TRIANGLES] if extent is not None else empty


def _is_solid(prim: Usd.Prim) -> bool:
    return prim.IsA(UsdGeom.Gprim) or prim.IsA(UsdGeom.PointInstancer)


class StageGeometry:
    """The visible geometry of a stage as world triangles; local triangles are cached per prim path."""

    def __init__(self, stage: Usd.Stage, time: Usd.TimeCode) -> None:
        self.stage = stage
        self.time = time
        self._local: dict[Sdf.Path, np.ndarray] = {}

    def forget(self, root: Sdf.Path) -> None:
        """Drop cached triangles at and under ``root`` (prims whose geometry was replaced)."""
        for path in [p for p in self._local if p.HasPrefix(root)]:
            del self._local[path]

    def triangles(
        self,
        xforms: UsdGeom.XformCache,
        roots: Iterable[Sdf.Path] | None = None,
        exclude: Iterable[Sdf.Path] = (),
    ) -> np.ndarray:
        """``(m, 3, 3)`` world triangles of visible gprims under ``roots`` (default: the whole stage),
        skipping the subtrees at ``exclude`` and ``guide`` prims."""
        skip = set(exclude)
        starts = [self.stage.GetPseudoRoot()] if roots is None else [self.stage.GetPrimAtPath(r) for r in roots]
        parts: list[np.ndarray] = []
        for start in starts:
            if not start:
                continue
            walk = iter(Usd.PrimRange(start, TRAVERSAL))
            for prim in walk:
                path = prim.GetPath()
                if path in skip or _hidden(prim, self.time):
                    walk.PruneChildren()
                    continue
                if not _is_solid(prim):
                    continue
                if prim.IsA(UsdGeom.PointInstancer):
                    walk.PruneChildren()  # its prototypes are drawn only through it
                local = self._local.get(path)
                if local is None:
                    local = self._local[path] = local_triangles(prim, self.time)
                if len(local):
                    parts.append(homogeneous(local, gf_array(xforms.GetLocalToWorldTransform(prim))))
        return np.concatenate(parts) if parts else np.zeros((0, 3, 3))


def _hidden(prim: Usd.Prim, time: Usd.TimeCode) -> bool:
    imageable = UsdGeom.Imageable(prim)
    if not imageable:
        return False
    if imageable.GetVisibilityAttr().Get(time) == UsdGeom.Tokens.invisible:
        return True
    return imageable.GetPurposeAttr().Get(time) == UsdGeom.Tokens.guide


def upward(triangles: np.ndarray, basis: Basis, max_slope: float) -> np.ndarray:
    """Mask of the triangles whose normal (by winding) is within ``max_slope`` degrees of the up axis."""
    normal = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    length = np.linalg.norm(normal, axis=1)
    cosine = (normal @ basis.up) / np.maximum(length, 1e-300)
    return (length > 1e-12) & (cosine >= np.cos(np.radians(max_slope)) - 1e-9)


def areas(triangles: np.ndarray) -> np.ndarray:
    return 0.5 * np.linalg.norm(np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1)


def sample_points(rng: np.random.Generator, triangles: np.ndarray, weights: np.ndarray, count: int) -> np.ndarray:
    """``count`` points uniform over the area of ``triangles`` (``weights``: their normalised areas)."""
    picks = rng.choice(len(triangles), size=count, p=weights)
    r1, r2 = rng.random(count), rng.random(count)
    root = np.sqrt(r1)
    a, b, c = (triangles[picks, k] for k in range(3))
    return (1 - root)[:, None] * a + (root * (1 - r2))[:, None] * b + (root * r2)[:, None] * c


def cast_down(origins: np.ndarray, triangles: np.ndarray, basis: Basis) -> np.ndarray:
    """Height (up coordinate) of the first surface straight below each origin; ``-inf`` where nothing is."""
    out = np.full(len(origins), -np.inf)
    if not len(triangles) or not len(origins):
        return out
    ray_xy, ray_h = basis.plane(origins), basis.height(origins)
    tri_xy = basis.plane(triangles)  # (m, 3, 2)
    tri_h = basis.height(triangles)  # (m, 3)
    low, high = tri_xy.min(axis=1), tri_xy.max(axis=1)
    keep = np.all((low <= ray_xy.max(axis=0) + 1e-9) & (high >= ray_xy.min(axis=0) - 1e-9), axis=1)
    keep &= tri_h.min(axis=1) <= ray_h.max() + 1e-9
    tri_xy, tri_h, low, high = tri_xy[keep], tri_h[keep], low[keep], high[keep]
    if not len(tri_xy):
        return out
    a, e0, e1 = tri_xy[:, 0], tri_xy[:, 1] - tri_xy[:, 0], tri_xy[:, 2] - tri_xy[:, 0]
    det = e0[:, 0] * e1[:, 1] - e1[:, 0] * e0[:, 1]
    flat = np.abs(det) > 1e-14  # triangles seen edge-on from above have no inside
    step = max(1, _CHUNK // len(tri_xy))
    for start in range(0, len(origins), step):
        p = ray_xy[start : start + step, None, :] - a[None]  # (r, m, 2)
        inv = np.where(flat, 1.0 / np.where(flat, det, 1.0), 0.0)
        u = (p[..., 0] * e1[:, 1] - e1[:, 0] * p[..., 1]) * inv
        v = (e0[:, 0] * p[..., 1] - p[..., 0] * e0[:, 1]) * inv
        inside = flat & (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9)
        height = tri_h[:, 0] + u * (tri_h[:, 1] - tri_h[:, 0]) + v * (tri_h[:, 2] - tri_h[:, 0])
        below = inside & (height <= ray_h[start : start + step, None] + 1e-9)
        out[start : start + step] = np.where(below, height, -np.inf).max(axis=1)
    return out


def prim_box(prim: Usd.Prim, xforms: UsdGeom.XformCache, time: Usd.TimeCode) -> np.ndarray | None:
    """``(8, 3)`` corners of the tightest box around ``prim``'s visible geometry (itself and below), in
    ``prim``'s own space (before its own transform); ``None`` when it has no geometry.

    Each gprim's extent box is taken into ``prim``'s space exactly (``UsdGeom.BBoxCache`` merges child
    boxes world-aligned, which loosens the box of a turned prim).
    """
    to_prim = np.linalg.inv(gf_array(xforms.GetLocalToWorldTransform(prim)))
    low, high = np.full(3, np.inf), np.full(3, -np.inf)
    walk = iter(Usd.PrimRange(prim, TRAVERSAL))
    for child in walk:
        if _hidden(child, time):
            walk.PruneChildren()
            continue
        if not _is_solid(child):
            continue
        if child.IsA(UsdGeom.PointInstancer):
            walk.PruneChildren()
        extent = _extent(child, time)
        if extent is None:
            continue
        corners = homogeneous(box_corners(*extent), gf_array(xforms.GetLocalToWorldTransform(child)) @ to_prim)
        low, high = np.minimum(low, corners.min(axis=0)), np.maximum(high, corners.max(axis=0))
    if not np.isfinite(low).all():
        return None
    return box_corners(low, high)


def _extent(prim: Usd.Prim, time: Usd.TimeCode) -> tuple[np.ndarray, np.ndarray] | None:
    """A gprim's local extent: authored, else computed from its attributes."""
    boundable = UsdGeom.Boundable(prim)
    extent = boundable.GetExtentAttr().Get(time)
    if not extent or len(extent) != 2:
        extent = UsdGeom.Boundable.ComputeExtentFromPlugins(boundable, time)
    if not extent or len(extent) != 2:
        return None
    low, high = np.asarray(extent[0], np.float64), np.asarray(extent[1], np.float64)
    return (low, high) if np.isfinite(low).all() and np.isfinite(high).all() and (low <= high).all() else None
