"""Deterministic z-fighting: where coplanar faces of different prims overlap, the lowest geometry wins.

Touching boxes (a crossbar flush with an upright, a seat on a body) share face planes; every engine
then picks one of the coincident surfaces arbitrarily, and Embree's pick can change whenever its BVH
is rebuilt. After the cast, each pixel whose hit triangle lies in a plane shared with other prims'
triangles is given to the lowest geometry index whose coplanar triangle contains the hit point, so both
engines, and every frame, agree.

The shared planes are found once per scene (triangles hashed by their quantized plane). Per frame,
the triangles of the planes that tied pixels hit are rasterized over those pixels (work grows with
their screen area, memory is bounded by the rasterizer's chunks); triangles of a geometry are skipped
in a plane where every tied pixel already hit that geometry. The other geometries found at a tied
pixel are returned too: they cover that pixel when rendered alone (for occlusion statistics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines import Hits, TriangleSoup
from omni.sdg_studio.backends.embedded.engines.raster import rasterize

#: Normals equal to ~1e-6 rad and plane offsets to ~1e-7 of the scene size count as one plane.
_NORMAL_STEPS = 1e6
_OFFSET_STEPS = 1e7
#: A candidate's depth must match the hit's to this fraction (guards against plane-hash collisions).
_DEPTH_TOLERANCE = 1e-4
_HASH = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F], np.int64)


@dataclass(frozen=True)
class CoplanarPlanes:
    """Planes holding triangles of more than one geometry."""

    #: Plane of every triangle-table row (T,), -1 where no other geometry has a triangle in its plane.
    plane_of_row: np.ndarray
    #: Rows in shared planes, sorted by plane: plane k holds ``rows[starts[k]:starts[k + 1]]``.
    rows: np.ndarray
    starts: np.ndarray

    @classmethod
    def build(cls, soup: TriangleSoup) -> CoplanarPlanes:
        count = soup.count
        none = cls(np.full(count, -1, np.int32), np.zeros(0, np.int64), np.zeros(1, np.int64))
        if count < 2:
            return none
        normal = soup.normals / np.maximum(np.linalg.norm(soup.normals, axis=1, keepdims=True), 1e-300)
        # One orientation per plane: the largest component of the normal is positive.
        biggest = np.abs(normal).argmax(axis=1)
        normal *= np.sign(normal[np.arange(count), biggest])[:, None]
        offset = np.einsum("ij,ij->i", normal, soup.first_vertex)
        scale = max(float(np.abs(soup.first_vertex).max()), 1.0)
        key = np.column_stack([np.round(normal * _NORMAL_STEPS), np.round(offset / scale * _OFFSET_STEPS)])
        mixed = np.ascontiguousarray(key.astype(np.int64)) @ _HASH  # wrapping hash of the 4 integers
        order = np.argsort(mixed, kind="stable")
        starts = np.concatenate([[0], np.flatnonzero(np.diff(mixed[order])) + 1])
        geometry = soup.row_geometry[order]
        shared = np.minimum.reduceat(geometry, starts) != np.maximum.reduceat(geometry, starts)
        if not shared.any():
            return none
        sizes = np.diff(np.append(starts, count))
        plane_of_sorted = np.repeat(np.where(shared, np.cumsum(shared) - 1, -1), sizes)
        plane_of_row = np.empty(count, np.int32)
        plane_of_row[order] = plane_of_sorted
        rows = order[plane_of_sorted >= 0]
        kept = sizes[shared]
        return cls(plane_of_row, rows, np.concatenate([[0], np.cumsum(kept)]).astype(np.int64))


def resolve_ties(
    hits: Hits, pixels: np.ndarray, camera: PinholeCamera, soup: TriangleSoup, planes: CoplanarPlanes
) -> tuple[np.ndarray, np.ndarray]:
    """Give each z-fighting pixel of ``hits`` (for flat ``pixels``) to the lowest coplanar geometry.

    Returns the other geometries found at those pixels as (index into ``pixels``, geometry) pairs.
    """
    none = (np.zeros(0, np.int64), np.zeros(0, np.int32))
    if not len(planes.rows):
        return none
    hit = np.flatnonzero(hits.geometry >= 0)
    row = soup.rows(hits.geometry[hit], hits.triangle[hit])
    plane = planes.plane_of_row[row]
    tied = plane >= 0
    if not tied.any():
        return none
    tied_index, row, plane = hit[tied], row[tied], plane[tied]
    geometry = soup.row_geometry[row]
    candidate_rows, candidate_plane = _candidates(planes, soup, plane, geometry)
    if not len(candidate_rows):
        return none
    tied_pixels = pixels[tied_index]
    rows_, cols = np.divmod(tied_pixels, camera.width)
    x0, y0, x1, y1 = int(cols.min()), int(rows_.min()), int(cols.max()) + 1, int(rows_.max()) + 1
    slot = np.full((x1 - x0) * (y1 - y0), -1, np.int64)
    slot[(rows_ - y0) * (x1 - x0) + cols - x0] = np.arange(len(tied_index))
    cosines = camera.cosines()
    best = row.astype(np.int64)
    found_slot, found_geometry = [], []
    for pixel, entry, z in rasterize(camera, soup.corners[candidate_rows], (x0, y0, x1, y1)):
        r, c = np.divmod(pixel, camera.width)
        at = slot[(r - y0) * (x1 - x0) + c - x0]
        keep = at >= 0
        at, entry, z, pixel = at[keep], entry[keep], z[keep], pixel[keep]
        distance = hits.distance[tied_index[at]]
        keep = candidate_plane[entry] == plane[at]
        keep &= np.abs(z / cosines[pixel] - distance) <= _DEPTH_TOLERANCE * distance
        keep &= soup.row_geometry[candidate_rows[entry]] != geometry[at]
        at, entry = at[keep], entry[keep]
        np.minimum.at(best, at, candidate_rows[entry])  # rows are ordered by geometry
        found_slot.append(at)
        found_geometry.append(soup.row_geometry[candidate_rows[entry]])
    changed = np.flatnonzero(best != row)
    new_geometry = soup.row_geometry[best[changed]]
    target = tied_index[changed]
    hits.geometry[target] = new_geometry
    hits.triangle[target] = best[changed] - soup.offsets[new_geometry]
    # Every other geometry at the tied pixels: those found, and the engine's own pick where it lost.
    at = np.concatenate([*found_slot, changed])
    other = np.concatenate([*found_geometry, geometry[changed]]).astype(np.int32)
    keep = other != hits.geometry[tied_index[at]]
    return tied_index[at[keep]], other[keep]


def _candidates(
    planes: CoplanarPlanes, soup: TriangleSoup, plane: np.ndarray, geometry: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the planes that tied pixels hit (and their plane), less a geometry's rows in a plane where
    every tied pixel hit that very geometry."""
    present = np.unique(plane)
    low = np.full(len(planes.starts), np.iinfo(np.int32).max, np.int64)
    high = np.full(len(planes.starts), -1, np.int64)
    np.minimum.at(low, plane, geometry)
    np.maximum.at(high, plane, geometry)
    sizes = planes.starts[present + 1] - planes.starts[present]
    entries = np.repeat(planes.starts[present] - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
    rows = planes.rows[entries]
    row_plane = np.repeat(present, sizes)
    only = (low[row_plane] == high[row_plane]) & (soup.row_geometry[rows] == low[row_plane])
    return rows[~only], row_plane[~only]
