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


@dataclass(frozen=True)
class TriangleSoup:
    """All triangles of a scene in one table: triangle ``k`` of geometry ``g`` is row ``offsets[g] + k``."""

    offsets: np.ndarray
    #: Geometry index of every row (T,).
    row_geometry: np.ndarray
    first_vertex: np.ndarray
    normals: np.ndarray
    unit_normals: np.ndarray

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
            return cls(offsets, row_geometry, empty, empty, empty.astype(np.float32))
        corners = [np.concatenate([m.vertices[m.triangles[:, k]] for m in meshes]).astype(np.float64) for k in range(3)]
        normals = np.cross(corners[1] - corners[0], corners[2] - corners[0])
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        unit = (normals / np.maximum(length, 1e-300)).astype(np.float32)
        return cls(offsets, row_geometry, corners[0], normals, unit)

    def rows(self, geometry: np.ndarray, triangle: np.ndarray) -> np.ndarray:
        """Table rows of (geometry, triangle) pairs (both >= 0)."""
        return self.offsets[geometry] + triangle

    def exact_distance(self, origin: np.ndarray, dirs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Float64 distance along unit ``dirs`` from ``origin`` to the planes of triangle ``rows``."""
        normal = self.normals[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.einsum("ij,ij->i", normal, self.first_vertex[rows] - origin) / np.einsum("ij,ij->i", normal, dirs)
