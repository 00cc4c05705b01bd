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


#: Plane groups larger than this are not resolved (pairwise overlap tests would be too slow).
MAX_GROUP = 6000


@dataclass(frozen=True)
class CoplanarGroups:
    """For every triangle (table row) that overlaps coplanar triangles of lower geometries: those triangles."""

    #: Index into ``starts`` of every table row, -1 for rows without such partners (T,).
    slot_of_row: np.ndarray
    #: Partner rows of slot ``k``: ``partners[starts[k]:starts[k + 1]]``.
    starts: np.ndarray
    partners: np.ndarray
    #: Corners (T_p, 3, 3), unit normal (T_p, 3) and plane offset (T_p,) of each partner entry.
    corners: np.ndarray
    normals: np.ndarray
    offsets: np.ndarray
    tolerance: float

    @classmethod
    def build(cls, meshes: Sequence[WorldMesh], soup: TriangleSoup) -> CoplanarGroups:
        count = soup.count
        none = cls(np.full(count, -1, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64),
                   np.zeros((0, 3, 3)), np.zeros((0, 3)), np.zeros(0), 0.0)  # fmt: skip
        if count < 2:
            return none
        normal = soup.normals / np.maximum(np.linalg.norm(soup.normals, axis=1, keepdims=True), 1e-300)
        # One orientation per plane: the largest component of the normal is positive.
        biggest = np.abs(normal).argmax(axis=1)
        normal *= np.sign(normal[np.arange(count), biggest])[:, None]
        offset = np.einsum("ij,ij->i", normal, soup.first_vertex)
        scale = max(float(np.abs(soup.first_vertex).max()), 1.0)
        tolerance = 1e-6 * scale
        key = np.column_stack([np.round(normal * _NORMAL_STEPS), np.round(offset / scale * _OFFSET_STEPS)])
        mixed = np.ascontiguousarray(key.astype(np.int64)) @ np.array(
            [0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F], np.int64
        )  # wrapping hash of the 4 integers; collisions are caught by the plane test at render time
        order = np.argsort(mixed, kind="stable")
        starts = np.concatenate([[0], np.flatnonzero(np.diff(mixed[order])) + 1])
        ends = np.append(starts[1:], count)
        geometry = soup.row_geometry
        sorted_geometry = geometry[order]
        mixed_prims = np.minimum.reduceat(sorted_geometry, starts) != np.maximum.reduceat(sorted_geometry, starts)
        candidates = np.flatnonzero(mixed_prims & (ends - starts <= MAX_GROUP))
        if not len(candidates):
            return none
        corners = _corners(meshes, soup)
        low, high = corners.min(axis=1) - tolerance, corners.max(axis=1) + tolerance
        pairs_row, pairs_partner = [], []
        for group in candidates:
            rows = order[starts[group] : ends[group]]
            g = geometry[rows]
            keep = g[None, :] < g[:, None]  # [i, j]: partner j belongs to a lower geometry than row i
            lo, hi = low[rows], high[rows]
            for axis in range(3):  # and the two triangles' boxes overlap
                keep &= lo[:, axis, None] <= hi[None, :, axis]
                keep &= lo[None, :, axis] <= hi[:, axis, None]
            i, j = np.nonzero(keep)
            pairs_row.append(rows[i])
            pairs_partner.append(rows[j])
        if not pairs_row or not sum(len(p) for p in pairs_row):
            return none
        row_of_pair = np.concatenate(pairs_row)
        partner = np.concatenate(pairs_partner)
        by_row = np.argsort(row_of_pair, kind="stable")
        row_of_pair, partner = row_of_pair[by_row], partner[by_row]
        tied_rows, first = np.unique(row_of_pair, return_index=True)
        slot_of_row = np.full(count, -1, np.int64)
        slot_of_row[tied_rows] = np.arange(len(tied_rows))
        starts = np.append(first, len(partner))
        return cls(slot_of_row, starts, partner, corners[partner], normal[partner], offset[partner], tolerance)


def _corners(meshes: Sequence[WorldMesh], soup: TriangleSoup) -> np.ndarray:
    """Corners (T, 3, 3) of every table row, float64."""
    if not soup.count:
        return np.zeros((0, 3, 3))
    return np.concatenate([m.vertices[m.triangles].astype(np.float64) for m in meshes if len(m.triangles)])


def prefer_lowest_geometry(
    hits: Hits, camera: PinholeCamera, soup: TriangleSoup, groups: CoplanarGroups, pixels: np.ndarray | None = None
) -> None:
    """Give each z-fighting pixel of ``hits`` (for ``pixels``, or all) to the lowest coplanar geometry."""
    hit = np.flatnonzero(hits.geometry >= 0)
    if not len(groups.partners) or not len(hit):
        return
    slot = groups.slot_of_row[soup.rows(hits.geometry[hit], hits.triangle[hit])]
    tied = slot >= 0
    if not tied.any():
        return
    hit, slot = hit[tied], slot[tied]
    dirs, _ = camera.world_rays(hit if pixels is None else pixels[hit])
    point = camera.position + dirs.astype(np.float64) * hits.distance[hit, None].astype(np.float64)
    # Every (pixel, partner) pair.
    sizes = groups.starts[slot + 1] - groups.starts[slot]
    pixel_of_pair = np.repeat(np.arange(len(hit)), sizes)
    entry = np.repeat(groups.starts[slot], sizes) + (
        np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    )
    p = point[pixel_of_pair]
    on_plane = np.abs(np.einsum("ij,ij->i", groups.normals[entry], p) - groups.offsets[entry]) <= groups.tolerance
    inside = on_plane & _contains(groups.corners[entry], groups.normals[entry], p)
    if not inside.any():
        return
    partner_rows = groups.partners[entry[inside]]
    best = np.full(len(hit), np.iinfo(np.int64).max)
    np.minimum.at(best, pixel_of_pair[inside], partner_rows)  # rows are ordered by geometry
    changed = best != np.iinfo(np.int64).max
    new_rows = best[changed]
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
