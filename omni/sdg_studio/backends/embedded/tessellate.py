"""Triangles for every renderable gprim type, in the prim's local space.

Implicit prims (``Cube``, ``Sphere``, ``Cylinder``, ``Cone``, ``Capsule``, ``Plane``) are tessellated
from their attributes and ``axis`` (``(points float64 (n, 3), triangles int32 (m, 3))``); polygon meshes
are fan-triangulated with their ``orientation`` honoured, keeping where each triangle corner came from
(for face-varying primvars such as texture coordinates). Subdivision surfaces (``catmullClark``,
``loop``, ``bilinear``) are rendered by their control cage: usd-core has no subdivision (OpenSubdiv's
Python bindings are not part of it). RTX tessellates implicit prims itself, so silhouettes differ
from Isaac Sim's by a fraction of a pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

Triangles = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class LocalMesh:
    """Triangles of one gprim in its local space."""

    points: np.ndarray
    triangles: np.ndarray
    #: Polygon meshes: each triangle corner's position in ``faceVertexIndices`` (m, 3) and each
    #: triangle's face (m,), for face-varying and uniform primvars.
    face_vertices: np.ndarray | None = None
    faces: np.ndarray | None = None


#: Segments around the axis of round prims and rings from pole to pole of spheres.
ROUND_SEGMENTS = 64
SPHERE_RINGS = 32

_EMPTY: Triangles = (np.zeros((0, 3)), np.zeros((0, 3), np.int32))


@dataclass
class MeshProblems:
    """What was dropped while triangulating a mesh (reported as one warning per prim)."""

    bad_face_counts: int = 0
    out_of_range_faces: int = 0
    non_finite_points: int = 0
    degenerate_triangles: int = 0
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [
            f"{self.bad_face_counts} faces with fewer than 3 vertices" if self.bad_face_counts else "",
            f"{self.out_of_range_faces} faces with out-of-range vertex indices" if self.out_of_range_faces else "",
            f"{self.non_finite_points} NaN/inf points" if self.non_finite_points else "",
            f"{self.degenerate_triangles} zero-area triangles" if self.degenerate_triangles else "",
            *self.notes,
        ]
        return ", ".join(p for p in parts if p)


def _axis_frame(points: np.ndarray, axis: str) -> np.ndarray:
    """Rotate points built around +Z so that +Z becomes ``axis`` (a cyclic permutation keeps handedness)."""
    if axis == "X":
        return points[:, [2, 0, 1]]
    if axis == "Y":
        return points[:, [1, 2, 0]]
    return points


def fan_corners(counts: np.ndarray, left_handed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Fan triangles of polygons with ``counts`` vertices: corners as positions in the face-vertex list
    (m, 3) and the face of each triangle (m,); convex faces assumed."""
    counts = np.asarray(counts, np.int64)
    n_tris = np.maximum(counts - 2, 0)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    face_of_tri = np.repeat(np.arange(len(counts)), n_tris)
    k = np.arange(n_tris.sum()) - np.repeat(np.cumsum(n_tris) - n_tris, n_tris)
    base = starts[face_of_tri]
    corners = np.stack([base, base + k + 1, base + k + 2], axis=1)
    if left_handed:
        corners = corners[:, [0, 2, 1]]
    return corners, face_of_tri


def fan_triangulate(counts: np.ndarray, indices: np.ndarray, left_handed: bool = False) -> np.ndarray:
    """Fan-triangulate polygons given as (faceVertexCounts, faceVertexIndices); convex faces assumed."""
    corners, _ = fan_corners(counts, left_handed)
    return np.asarray(indices, np.int64)[corners].astype(np.int32)


def mesh(
    points: np.ndarray, counts: np.ndarray, indices: np.ndarray, left_handed: bool, problems: MeshProblems
) -> LocalMesh:
    """Validate and triangulate a polygon mesh, dropping (and counting) what cannot be rendered."""
    points = np.asarray(points, np.float64).reshape(-1, 3)
    counts = np.asarray(counts, np.int64).ravel()
    indices = np.asarray(indices, np.int64).ravel()
    if counts.sum() != len(indices):
        problems.notes.append(
            f"faceVertexCounts sum to {int(counts.sum())} but there are {len(indices)} faceVertexIndices"
        )
        return LocalMesh(*_EMPTY, np.zeros((0, 3), np.int64), np.zeros(0, np.int64))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    keep = counts >= 3
    problems.bad_face_counts += int((~keep).sum())
    bad_index = (indices < 0) | (indices >= len(points))
    if bad_index.any():
        face_bad = np.add.reduceat(bad_index.astype(np.int64), starts) > 0 if len(counts) else np.zeros(0, bool)
        face_bad &= counts > 0
        problems.out_of_range_faces += int((face_bad & keep).sum())
        keep &= ~face_bad
    corners, faces = fan_corners(counts, left_handed)
    kept = keep[faces]
    corners, faces = corners[kept], faces[kept]
    tris = indices[corners]
    good = clean_mask(points, tris, problems)
    return LocalMesh(points, tris[good].astype(np.int32), corners[good], faces[good])


def clean_mask(points: np.ndarray, tris: np.ndarray, problems: MeshProblems) -> np.ndarray:
    """Which triangles to keep: not touching NaN/inf points, not of zero area (drops are counted)."""
    finite = np.asarray(np.isfinite(points).all(axis=1))
    good = np.ones(len(tris), bool)
    if not finite.all():
        problems.non_finite_points += int((~finite).sum())
        good &= finite[tris].all(axis=1)
    if good.any():
        safe = np.where(finite[:, None], points, 0.0)
        a, b, c = safe[tris[:, 0]], safe[tris[:, 1]], safe[tris[:, 2]]
        area2 = np.linalg.norm(np.cross(b - a, c - a), axis=1)
        scale = max(float(np.abs(safe).max(initial=0.0)), 1e-30)
        flat = good & ~(area2 > (scale * 1e-12) ** 2)
        problems.degenerate_triangles += int(flat.sum())
        good &= ~flat
    return good


def clean(points: np.ndarray, tris: np.ndarray, problems: MeshProblems) -> Triangles:
    """Drop triangles touching NaN/inf points and triangles of zero area."""
    return points, tris[clean_mask(points, tris, problems)].astype(np.int32)


def cube(size: float) -> Triangles:
    """Axis-aligned cube of edge ``size`` centered at the origin (12 triangles, outward winding)."""
    h = size / 2
    corners = np.array([[x, y, z] for x in (-h, h) for y in (-h, h) for z in (-h, h)], np.float64)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    tris = [(a, b, c) for a, b, c, _ in quads] + [(a, c, d) for a, _, c, d in quads]
    return corners, np.array(tris, np.int32)


def _revolve(profile_r: np.ndarray, profile_z: np.ndarray, segments: int) -> Triangles:
    """Surface of revolution around +Z from a (radius, z) profile; zero radii collapse to one pole point."""
    theta = np.arange(segments) * (2 * np.pi / segments)
    ring_points, ring_index = [], []
    count = 0
    for r, z in zip(profile_r, profile_z, strict=True):
        if r <= 0:
            ring_points.append(np.array([[0.0, 0.0, z]]))
            ring_index.append(np.full(segments, count))
            count += 1
        else:
            ring_points.append(np.stack([r * np.cos(theta), r * np.sin(theta), np.full(segments, z)], axis=1))
            ring_index.append(count + np.arange(segments))
            count += segments
    points = np.concatenate(ring_points)
    tris = []
    nxt = np.roll(np.arange(segments), -1)
    for lower, upper in pairwise(ring_index):
        a, b, c, d = lower, lower[nxt], upper[nxt], upper
        tris.append(np.stack([a, b, c], axis=1))
        tris.append(np.stack([a, c, d], axis=1))
    all_tris = np.concatenate(tris)
    flat = all_tris[:, 0] == all_tris[:, 1]
    flat |= all_tris[:, 1] == all_tris[:, 2]
    flat |= all_tris[:, 0] == all_tris[:, 2]
    return points, all_tris[~flat].astype(np.int32)


def sphere(radius: float, segments: int = ROUND_SEGMENTS, rings: int = SPHERE_RINGS) -> Triangles:
    """UV sphere centered at the origin."""
    phi = np.linspace(-np.pi / 2, np.pi / 2, rings + 1)
    profile_r = radius * np.cos(phi)
    profile_r[[0, -1]] = 0.0  # exact poles
    return _revolve(profile_r, radius * np.sin(phi), segments)


def cylinder(radius_bottom: float, radius_top: float, height: float, axis: str) -> Triangles:
    """Capped cylinder (or truncated cone) centered at the origin along ``axis``."""
    h = height / 2
    profile_r = np.array([0.0, radius_bottom, radius_top, 0.0])
    profile_z = np.array([-h, -h, h, h])
    points, tris = _revolve(profile_r, profile_z, ROUND_SEGMENTS)
    return _axis_frame(points, axis), tris


def cone(radius: float, height: float, axis: str) -> Triangles:
    """Capped cone centered at the origin, apex at +height/2 along ``axis``."""
    return cylinder(radius, 0.0, height, axis)


def capsule(radius_bottom: float, radius_top: float, height: float, axis: str) -> Triangles:
    """Cylinder of ``height`` with hemispherical caps, centered at the origin along ``axis``."""
    half_rings = SPHERE_RINGS // 2
    phi_low = np.linspace(-np.pi / 2, 0.0, half_rings + 1)
    phi_high = np.linspace(0.0, np.pi / 2, half_rings + 1)
    h = height / 2
    profile_r = np.concatenate([radius_bottom * np.cos(phi_low), radius_top * np.cos(phi_high)])
    profile_r[[0, -1]] = 0.0  # exact poles
    profile_z = np.concatenate([-h + radius_bottom * np.sin(phi_low), h + radius_top * np.sin(phi_high)])
    points, tris = _revolve(profile_r, profile_z, ROUND_SEGMENTS)
    return _axis_frame(points, axis), tris


def plane(width: float, length: float, axis: str) -> Triangles:
    """Two-triangle plane: ``axis`` is the normal; width/length follow UsdGeomPlane's extent rules."""
    w, ln = width / 2, length / 2
    if axis == "X":
        corners = [(0, -ln, -w), (0, ln, -w), (0, ln, w), (0, -ln, w)]
    elif axis == "Y":
        corners = [(-w, 0, -ln), (-w, 0, ln), (w, 0, ln), (w, 0, -ln)]
    else:
        corners = [(-w, -ln, 0), (w, -ln, 0), (w, ln, 0), (-w, ln, 0)]
    return np.array(corners, np.float64), np.array([[0, 1, 2], [0, 2, 3]], np.int32)
