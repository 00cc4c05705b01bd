"""Deterministic z-fighting: where coplanar faces of different prims overlap, the lowest geometry wins.

Touching boxes (a crossbar flush with an upright, a seat on a body) share face planes; every engine
then picks one of the coincident surfaces arbitrarily, and Embree's pick can change whenever its BVH
is rebuilt. After the cast, each pixel whose hit triangle lies in a plane shared with other prims'
triangles is given to the lowest geometry index whose coplanar triangle contains the hit point, so both
engines, and every frame, agree.

The shared planes are found once per scene (triangles hashed by their quantized plane). Per frame,
the triangles of the planes that tied pixels hit are rasterized over those pixels (work grows with
their screen area, memory is bounded by the rasterizer's chunks); triangles of a geometry are skipped
in a plane where every tied pixel already hit that geometry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines import Hits, TriangleSoup
from omni.sdg_studio.backends.embedded.engines.raster import group_windows, rasterize

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
    #: The lowest geometry with a triangle in each plane.
    lowest: np.ndarray
    #: Per geometry (G,): whether it has a triangle in a shared plane where it is not the lowest geometry
    #: (only such pixels can change hands).
    yields: np.ndarray

    @classmethod
    def build(cls, soup: TriangleSoup) -> CoplanarPlanes:
        count = soup.count
        geometries = len(soup.offsets) - 1
        nothing = np.zeros(geometries, bool)
        none = cls(np.full(count, -1, np.int32), np.zeros(0, np.int64), np.zeros(1, np.int64), np.zeros(0, np.int64),
                   nothing)  # fmt: skip
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
        lowest = np.minimum.reduceat(geometry, starts)[shared].astype(np.int64)
        row_geometry = soup.row_geometry[rows]
        row_plane = plane_of_row[rows]
        yields = np.zeros(geometries, bool)
        yields[row_geometry[row_geometry > lowest[row_plane]]] = True
        starts_of = np.concatenate([[0], np.cumsum(kept)]).astype(np.int64)
        return cls(plane_of_row, rows, starts_of, lowest, yields)


def resolve_ties(
    hits: Hits, pixels: np.ndarray, camera: PinholeCamera, soup: TriangleSoup, planes: CoplanarPlanes
) -> None:
    """Give each z-fighting pixel of ``hits`` (for flat ``pixels``) to the lowest coplanar geometry."""
    tied = _tied(hits, soup, planes, planes.yields)
    if tied is None:
        return
    index, row, plane = tied
    geometry = soup.row_geometry[row]
    above = geometry > planes.lowest[plane]  # a pixel of its plane's lowest geometry stays
    index, row, plane, geometry = index[above], row[above], plane[above], geometry[above]
    if not len(index):
        return
    highest = np.full(len(planes.lowest), -1, np.int64)
    np.maximum.at(highest, plane, geometry)
    rows, row_plane = _plane_rows(planes, np.flatnonzero(highest >= 0))
    keep = soup.row_geometry[rows] < highest[row_plane]
    best = row.astype(np.int64)
    for at, candidate in _containing(hits, pixels, camera, soup, (index, plane, geometry), rows[keep], row_plane[keep]):
        np.minimum.at(best, at, candidate)  # rows are ordered by geometry
    changed = np.flatnonzero(best != row)
    new_geometry = soup.row_geometry[best[changed]]
    hits.geometry[index[changed]] = new_geometry
    hits.triangle[index[changed]] = best[changed] - soup.offsets[new_geometry]


def _tied(
    hits: Hits, soup: TriangleSoup, planes: CoplanarPlanes, geometries: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(index, table row, plane) of the hits on ``geometries`` (a mask) that lie in a shared plane, or None."""
    if not len(planes.rows):
        return None
    hit = np.flatnonzero(np.append(geometries, False)[hits.geometry])  # a miss (-1) reads the False
    if not len(hit):
        return None
    row = soup.rows(hits.geometry[hit], hits.triangle[hit])
    plane = planes.plane_of_row[row]
    tied = plane >= 0
    if not tied.any():
        return None
    return hit[tied], row[tied], plane[tied]


def _plane_rows(planes: CoplanarPlanes, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every row of the planes ``present``, and its plane."""
    sizes = planes.starts[present + 1] - planes.starts[present]
    entries = np.repeat(planes.starts[present] - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))
    return planes.rows[entries], np.repeat(present, sizes)


def _containing(
    hits: Hits,
    pixels: np.ndarray,
    camera: PinholeCamera,
    soup: TriangleSoup,
    tied: tuple[np.ndarray, np.ndarray, np.ndarray],
    rows: np.ndarray,
    row_plane: np.ndarray,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(position in ``tied``, row) of every candidate row whose triangle holds a tied pixel's hit point:
    same plane, same depth, another geometry."""
    index, plane, geometry = tied
    if not len(rows) or not len(index):
        return
    tied_pixels = pixels[index]
    y, x = np.divmod(tied_pixels, camera.width)
    x0, y0, x1, y1 = int(x.min()), int(y.min()), int(x.max()) + 1, int(y.max()) + 1
    slot = np.full((x1 - x0) * (y1 - y0), -1, np.int64)
    slot[(y - y0) * (x1 - x0) + x - x0] = np.arange(len(index))
    # Each plane's triangles only over the box of that plane's tied pixels.
    planes_seen = np.flatnonzero(np.bincount(plane))
    windows = group_windows(np.searchsorted(planes_seen, plane), len(planes_seen), x, y)
    row_window = windows[np.searchsorted(planes_seen, row_plane)]
    cosines = camera.cosines()
    for pixel, entry, z in rasterize(camera, soup.corners[rows], row_window):
        r, c = np.divmod(pixel, camera.width)
        at = slot[(r - y0) * (x1 - x0) + c - x0]
        keep = at >= 0
        at, entry, z, pixel = at[keep], entry[keep], z[keep], pixel[keep]
        distance = hits.distance[index[at]]
        keep = row_plane[entry] == plane[at]
        keep &= np.abs(z / cosines[pixel] - distance) <= _DEPTH_TOLERANCE * distance
        keep &= soup.row_geometry[rows[entry]] != geometry[at]
        yield at[keep], rows[entry[keep]]
