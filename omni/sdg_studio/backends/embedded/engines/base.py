"""What every ray engine offers: load world-space meshes, return the first hit per pixel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from omni.sdg_studio.backends.embedded.camera import PinholeCamera


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
    """A first-hit ray caster."""

    name: str

    def load(self, meshes: Sequence[WorldMesh]) -> None:
        """Replace the scene; geometry ``k`` of later hits is ``meshes[k]``."""
        ...

    def cast(self, camera: PinholeCamera, pixels: np.ndarray | None = None, only: Sequence[int] | None = None) -> Hits:
        """Hits for ``pixels`` (flat indices into the H*W image, all when None) against ``only`` (or all) meshes."""
        ...

    def covers(
        self, camera: PinholeCamera, groups: Sequence[Sequence[int]], group_of_ray: np.ndarray, pixels: np.ndarray
    ) -> np.ndarray:
        """Whether the ray of each pixel hits the meshes of its group (``groups[group_of_ray[i]]``), alone.

        ``groups`` is the same list from frame to frame (the labeled objects), so engines may prepare it once.
        """
        ...


def covers_group_by_group(
    engine: RayEngine,
    camera: PinholeCamera,
    groups: Sequence[Sequence[int]],
    group_of_ray: np.ndarray,
    pixels: np.ndarray,
) -> np.ndarray:
    """:meth:`RayEngine.covers` as one cast per group."""
    hit = np.zeros(len(pixels), bool)
    for group in np.unique(group_of_ray):
        rays = np.flatnonzero(group_of_ray == group)
        hit[rays] = engine.cast(camera, pixels[rays], only=groups[group]).geometry >= 0
    return hit


@dataclass(frozen=True)
class TriangleSoup:
    """All triangles of a scene in one table: triangle ``k`` of geometry ``g`` is row ``offsets[g] + k``."""

    offsets: np.ndarray
    #: Geometry index of every row (T,).
    row_geometry: np.ndarray
    first_vertex: np.ndarray
    normals: np.ndarray
    #: Unit normals (T + 1, 3) float32; the last row is zero (for pixels that hit nothing).
    padded_normals: np.ndarray
    #: ``normals . first_vertex`` (T,): with the camera position it tells which side a triangle faces.
    plane_offsets: np.ndarray

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
        row_geometry = np.repeat(np.arange(len(meshes), dtype=np.int64), counts)
        if not meshes or offsets[-1] == 0:
            empty = np.zeros((0, 3))
            return cls(offsets, row_geometry, empty, empty, np.zeros((1, 3), np.float32), np.zeros(0))
        corners = [np.concatenate([m.vertices[m.triangles[:, k]] for m in meshes]).astype(np.float64) for k in range(3)]
        normals = np.cross(corners[1] - corners[0], corners[2] - corners[0])
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        padded = np.zeros((len(normals) + 1, 3), np.float32)
        padded[:-1] = normals / np.maximum(length, 1e-300)
        plane_offsets = np.einsum("ij,ij->i", normals, corners[0])
        return cls(offsets, row_geometry, corners[0], normals, padded, plane_offsets)

    def rows(self, geometry: np.ndarray, triangle: np.ndarray) -> np.ndarray:
        """Table rows of (geometry, triangle) pairs (both >= 0)."""
        return self.offsets[geometry] + triangle

    def exact_distance(self, origin: np.ndarray, dirs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Float64 distance along unit ``dirs`` from ``origin`` to the planes of triangle ``rows``."""
        normal = self.normals[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.einsum("ij,ij->i", normal, self.first_vertex[rows] - origin) / np.einsum("ij,ij->i", normal, dirs)
