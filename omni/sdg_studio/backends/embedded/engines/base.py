"""What every ray engine offers: load world-space meshes, first hits per pixel, and coverage of mesh groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from omni.sdg_studio.backends.embedded.camera import PinholeCamera

#: Pixels of a frame: a flat slice (a band of whole rows), flat indices, or None for all.
Pixels = slice | np.ndarray | None


@dataclass(frozen=True)
class WorldMesh:
    """One geometry in world space: float32 vertices (n, 3) and int32 triangles (m, 3)."""

    vertices: np.ndarray
    triangles: np.ndarray


@dataclass
class Hits:
    """First hit per requested pixel.

    ``distance`` is along the unit ray from the camera position (``inf`` on a miss), ``geometry``
    the index of the mesh hit (-1 on a miss) and ``triangle`` the triangle index within it.
    Geometry nearer than the camera's near plane is clipped; hits beyond its far plane are misses.
    """

    distance: np.ndarray
    geometry: np.ndarray
    triangle: np.ndarray

    @classmethod
    def misses(cls, count: int) -> Hits:
        return cls(np.full(count, np.inf, np.float32), np.full(count, -1, np.int32), np.full(count, -1, np.int32))


class RayEngine(Protocol):
    """A ray caster over one scene of meshes."""

    name: str
    #: Whether ``cast`` and ``meets`` may run on several threads at once (on different pixels).
    concurrent: bool

    def load(self, meshes: Sequence[WorldMesh]) -> None:
        """Replace the scene; geometry ``k`` of later hits is ``meshes[k]`` (an engine may keep its work for
        the meshes passed again, the same objects, and redo little for meshes that only moved)."""
        ...

    def cast(self, camera: PinholeCamera, pixels: Pixels = None, only: Sequence[int] | None = None) -> Hits:
        """First hits for ``pixels`` against ``only`` (or all) meshes."""
        ...

    def meets(
        self, camera: PinholeCamera, pixels: np.ndarray, group: np.ndarray, groups: Sequence[np.ndarray]
    ) -> np.ndarray:
        """Whether the ray of each ``pixels[i]`` meets a mesh of ``groups[group[i]]`` within the camera's
        clipping range: whether the pixel is covered when that group is rendered alone (exactly as
        ``cast(only=groups[group[i]])`` would find). ``group`` is sorted; each group a sorted index array.
        """
        ...


def pixel_indices(camera: PinholeCamera, pixels: Pixels) -> np.ndarray:
    """Flat pixel indices of ``pixels``."""
    if pixels is None:
        return np.arange(camera.width * camera.height)
    if isinstance(pixels, slice):
        return np.arange(*pixels.indices(camera.width * camera.height))
    return np.asarray(pixels)


@dataclass(frozen=True)
class TriangleSoup:
    """All triangles of a scene in one table: triangle ``k`` of geometry ``g`` is row ``offsets[g] + k``."""

    offsets: np.ndarray
    #: Geometry index of every row (T,).
    row_geometry: np.ndarray
    #: World corners of every row (T, 3, 3) float64.
    corners: np.ndarray
    normals: np.ndarray
    #: Unit normals (T + 1, 3) float32; the last row is zero (for pixels that hit nothing).
    padded_normals: np.ndarray
    #: ``normals . first_vertex`` (T,): with the camera position it tells which side a triangle faces.
    plane_offsets: np.ndarray

    @property
    def first_vertex(self) -> np.ndarray:
        return self.corners[:, 0]

    @property
    def unit_normals(self) -> np.ndarray:
        return self.padded_normals[:-1]

    @property
    def count(self) -> int:
        return len(self.row_geometry)

    @classmethod
    def build(cls, meshes: Sequence[WorldMesh]) -> TriangleSoup:
        counts = [len(m.triangles) for m in meshes]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        row_geometry = np.repeat(np.arange(len(meshes), dtype=np.int32), counts)
        if not meshes or offsets[-1] == 0:
            return cls(offsets, row_geometry, np.zeros((0, 3, 3)), np.zeros((0, 3)), np.zeros((1, 3), np.float32),
                       np.zeros(0))  # fmt: skip
        corners = _corners(meshes, [g for g, m in enumerate(meshes) if len(m.triangles)])
        normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        padded = np.zeros((len(normals) + 1, 3), np.float32)
        padded[:-1] = normals / np.maximum(length, 1e-300)
        plane_offsets = np.einsum("ij,ij->i", normals, corners[:, 0])
        return cls(offsets, row_geometry, corners, normals, padded, plane_offsets)

    def move(self, meshes: Sequence[WorldMesh], changed: np.ndarray) -> None:
        """Recompute, in place, the rows of the geometries ``changed`` (sorted), whose vertices moved."""
        moved = [g for g in changed.tolist() if len(meshes[g].triangles)]
        if not moved:
            return
        rows = self.geometry_rows(moved)
        corners = _corners(meshes, moved)
        normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        self.corners[rows] = corners
        self.normals[rows] = normals
        self.padded_normals[rows] = normals / np.maximum(length, 1e-300)
        self.plane_offsets[rows] = np.einsum("ij,ij->i", normals, corners[:, 0])

    def rows(self, geometry: np.ndarray, triangle: np.ndarray) -> np.ndarray:
        """Table rows of (geometry, triangle) pairs (both >= 0)."""
        return self.offsets[geometry] + triangle

    def geometry_rows(self, geometries: Sequence[int] | np.ndarray) -> np.ndarray:
        """Table rows of every triangle of ``geometries``, in geometry order."""
        chosen = np.unique(np.asarray(geometries, np.int64))
        if not len(chosen):
            return np.zeros(0, np.int64)
        starts, ends = self.offsets[chosen], self.offsets[chosen + 1]
        sizes = ends - starts
        return np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(int(sizes.sum()))

    def exact_distance(self, origin: np.ndarray, dirs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Float64 distance along unit ``dirs`` from ``origin`` to the planes of triangle ``rows``."""
        normal = self.normals[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.einsum("ij,ij->i", normal, self.first_vertex[rows] - origin) / np.einsum("ij,ij->i", normal, dirs)


def _corners(meshes: Sequence[WorldMesh], drawn: list[int]) -> np.ndarray:
    """World corners (n, 3, 3) float64 of every triangle of ``meshes[g]`` for ``g`` in ``drawn``, in order."""
    vertex_counts = np.array([len(meshes[g].vertices) for g in drawn], np.int64)
    triangle_counts = np.array([len(meshes[g].triangles) for g in drawn], np.int64)
    vertices = np.concatenate([meshes[g].vertices for g in drawn])
    first = np.repeat(np.cumsum(vertex_counts) - vertex_counts, triangle_counts)
    triangles = np.concatenate([meshes[g].triangles for g in drawn]) + first[:, None]
    return vertices[triangles].astype(np.float64)
