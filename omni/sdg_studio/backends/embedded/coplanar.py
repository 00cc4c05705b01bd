"""Deterministic z-fighting: where coplanar faces of different prims overlap, the lowest geometry wins.

Touching boxes (a crossbar flush with an upright, a seat on a body) share face planes; every engine
then picks one of the coincident surfaces arbitrarily, and Embree's pick can change whenever its BVH
is rebuilt. After the cast, each pixel that hit a triangle lying in a plane shared with another prim's
triangles is given to the lowest geometry index whose coplanar triangle contains the hit point, so both
engines, and every frame, agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines import Hits, TriangleSoup, WorldMesh

#: Normals equal to ~1e-6 rad and plane offsets to ~1e-7 of the scene size count as one plane.
_NORMAL_STEPS = 1e6
_OFFSET_STEPS = 1e7


@dataclass(frozen=True)
class CoplanarGroups:
    """Triangles (table rows) that share a plane with triangles of other geometries."""

    #: Group of every table row, -1 for rows without coplanar partners (T,).
    group_of_row: np.ndarray
    #: Rows of each group, sorted by group, and each group's start in it (groups + 1,).
    rows: np.ndarray
    starts: np.ndarray
    #: Corners (len(rows), 3, 3), plane normal (len(rows), 3) and offset of the grouped rows.
    corners: np.ndarray
    normals: np.ndarray
    offsets: np.ndarray
    tolerance: float

    @classmethod
    def build(cls, meshes: Sequence[WorldMesh], soup: TriangleSoup) -> CoplanarGroups:
        count = soup.count
        none = cls(np.full(count, -1, np.int64), np.zeros(0, np.int64), np.zeros(1, np.int64),
                   np.zeros((0, 3, 3)), np.zeros((0, 3)), np.zeros(0), 0.0)  # fmt: skip
        if count < 2:
            return none
        normal = soup.normals / np.maximum(np.linalg.norm(soup.normals, axis=1, keepdims=True), 1e-300)
        # One orientation per plane: the largest component of the normal is positive.
        biggest = np.abs(normal).argmax(axis=1)
        normal *= np.sign(normal[np.arange(count), biggest])[:, None]
        offset = np.einsum("ij,ij->i", normal, soup.first_vertex)
        scale = max(float(np.abs(soup.first_vertex).max()), 1.0)
        key = np.column_stack([np.round(normal * _NORMAL_STEPS), np.round(offset / scale * _OFFSET_STEPS)])
        mixed = np.ascontiguousarray(key.astype(np.int64)) @ np.array(
            [0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F], np.int64
        )  # wrapping hash of the 4 integers; collisions are caught by the plane test below
        _, inverse = np.unique(mixed, return_inverse=True)
        geometry = soup.row_geometry
        group_min = np.full(inverse.max() + 1, np.iinfo(np.int64).max)
        group_max = np.full(inverse.max() + 1, -1)
        np.minimum.at(group_min, inverse, geometry)
        np.maximum.at(group_max, inverse, geometry)
        shared = group_min[inverse] != group_max[inverse]
        if not shared.any():
            return none
        kept_groups, compact = np.unique(inverse[shared], return_inverse=True)
        group_of_row = np.full(count, -1, np.int64)
        group_of_row[shared] = compact
        rows = np.flatnonzero(shared)[np.argsort(compact, kind="stable")]
        starts = np.searchsorted(group_of_row[rows], np.arange(len(kept_groups) + 1))
        corners = np.empty((len(rows), 3, 3))
        local = rows - soup.offsets[geometry[rows]]
        for g in np.unique(geometry[rows]):
            sel = geometry[rows] == g
            mesh = meshes[g]
            corners[sel] = mesh.vertices[mesh.triangles[local[sel]]]
        return cls(group_of_row, rows, starts, corners, normal[rows], offset[rows], 1e-6 * scale)


def prefer_lowest_geometry(
    hits: Hits, camera: PinholeCamera, soup: TriangleSoup, groups: CoplanarGroups, pixels: np.ndarray | None = None
) -> None:
    """Give each z-fighting pixel of ``hits`` (for ``pixels``, or all) to the lowest coplanar geometry."""
    hit = np.flatnonzero(hits.geometry >= 0)
    if not len(groups.rows) or not len(hit):
        return
    rows = soup.rows(hits.geometry[hit], hits.triangle[hit])
    group = groups.group_of_row[rows]
    tied = group >= 0
    if not tied.any():
        return
    hit, group = hit[tied], group[tied]
    dirs, _ = camera.world_rays(None if pixels is None else pixels[hit])
    if pixels is None:
        dirs = dirs[hit]
    point = camera.position + dirs.astype(np.float64) * hits.distance[hit, None].astype(np.float64)
    # Every (pixel, triangle of its plane group) pair.
    sizes = groups.starts[group + 1] - groups.starts[group]
    pixel_of_pair = np.repeat(np.arange(len(hit)), sizes)
    member = np.repeat(groups.starts[group], sizes) + (
        np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    )
    candidate_geometry = soup.row_geometry[groups.rows[member]]
    lower = candidate_geometry < hits.geometry[hit][pixel_of_pair]
    pixel_of_pair, member, candidate_geometry = pixel_of_pair[lower], member[lower], candidate_geometry[lower]
    p = point[pixel_of_pair]
    on_plane = np.abs(np.einsum("ij,ij->i", groups.normals[member], p) - groups.offsets[member]) <= groups.tolerance
    inside = on_plane & _contains(groups.corners[member], groups.normals[member], p)
    if not inside.any():
        return
    best = np.full(len(hit), np.iinfo(np.int64).max)
    np.minimum.at(best, pixel_of_pair[inside], candidate_geometry[inside] * (soup.count + 1) + member[inside])
    changed = best != np.iinfo(np.int64).max
    winner = best[changed] % (soup.count + 1)
    new_rows = groups.rows[winner]
    new_geometry = soup.row_geometry[new_rows]
    target = hit[changed]
    hits.geometry[target] = new_geometry
    hits.triangle[target] = new_rows - soup.offsets[new_geometry]


def _contains(corners: np.ndarray, normal: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Whether ``point`` (projected on each triangle's plane) lies inside it, edges included."""
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    signs = [np.einsum("ij,ij->i", np.cross(q - p, point - p), normal) for p, q in ((a, b), (b, c), (c, a))]
    positive = (signs[0] >= 0) & (signs[1] >= 0) & (signs[2] >= 0)
    negative = (signs[0] <= 0) & (signs[1] <= 0) & (signs[2] <= 0)
    return positive | negative
