"""The scene's geometries in world space, kept across frames: only what moved is transformed again.

Geometries sharing a tessellation (copies of an asset, a randomizer's thousand cubes) are transformed
together, many matrices at once, with the same float64 operations as one at a time, so a frame's
triangles do not depend on how many moved with them. Besides the float32 world meshes this keeps, per
geometry, the world bounds of its vertices and the eight world corners of its local bounding box
(an oriented box: what projects onto the smallest screen region known to hold the geometry).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from omni.sdg_studio.backends.embedded.engines import WorldMesh
from omni.sdg_studio.backends.embedded.scene import SceneGeometry
from omni.sdg_studio.backends.embedded.tessellate import LocalMesh

#: Points transformed per batch (bounds the float64 temporaries to some tens of MB).
_BATCH_POINTS = 1 << 20
_NOTHING = WorldMesh(np.zeros((0, 3), np.float32), np.zeros((0, 3), np.int32))
_BOX_CORNERS = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], bool)


def transform_many(points: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """``points @ m[:3, :3] + m[3, :3]`` (float64, (n, 3)) for each of ``matrices`` (k, 4, 4): (k, n, 3),
    computed as :func:`~omni.sdg_studio.backends.embedded.vectors.transform3` does, column by column."""
    out = np.empty((len(matrices), len(points), 3))
    x, y, z = (points[None, :, axis] for axis in range(3))
    for k in range(3):
        column = out[:, :, k]
        np.multiply(x, matrices[:, 0, k, None], out=column)
        column += y * matrices[:, 1, k, None]
        column += z * matrices[:, 2, k, None]
        column += matrices[:, 3, k, None]
    return out


class WorldGeometry:
    """World meshes, vertex bounds (G, 2, 3) and oriented box corners (G, 8, 3) of a scene's geometries."""

    def __init__(self) -> None:
        self.meshes: list[WorldMesh] = []
        self.bounds = np.zeros((0, 2, 3))
        self.boxes = np.zeros((0, 8, 3))
        self._transforms = np.zeros((0, 4, 4))
        self._shapes = np.zeros(0, np.int64)
        self._held: list[LocalMesh | None] = []
        self._local_boxes: dict[int, np.ndarray] = {}

    def update(self, geometries: Sequence[SceneGeometry]) -> np.ndarray | None:
        """Bring everything up to date with ``geometries``; return the indices of the geometries that only
        moved (same triangles), or None when a geometry was added, removed, shown, hidden or re-tessellated."""
        count = len(geometries)
        transforms = np.array([g.local_to_world for g in geometries], np.float64).reshape(count, 4, 4)
        shapes = np.array([id(g.mesh) if g.visible and g.mesh is not None else 0 for g in geometries], np.int64)
        if count != len(self.meshes):
            redo = np.arange(count)
            topology_changed = True
            self.meshes = [_NOTHING] * count
            self.bounds = np.empty((count, 2, 3))
            self.boxes = np.empty((count, 8, 3))
        else:
            moved = (transforms != self._transforms).any(axis=(1, 2))
            reshaped = shapes != self._shapes
            redo = np.flatnonzero(moved | reshaped)
            topology_changed = bool(reshaped.any())
        self._transforms, self._shapes = transforms, shapes
        self._held = [g.mesh for g in geometries]  # the tessellations whose ids ``_shapes`` holds stay alive
        self._place(geometries, redo)
        return None if topology_changed else redo

    def _place(self, geometries: Sequence[SceneGeometry], indices: np.ndarray) -> None:
        groups: dict[int, list[int]] = {}
        for g in indices.tolist():
            if self._shapes[g]:
                groups.setdefault(int(self._shapes[g]), []).append(g)
            else:
                self.meshes[g] = _NOTHING
                self.bounds[g, 0], self.bounds[g, 1] = np.inf, -np.inf
                self.boxes[g] = np.nan
        live = {id(g.mesh) for g in geometries if g.mesh is not None}
        self._local_boxes = {k: v for k, v in self._local_boxes.items() if k in live}
        for members in groups.values():
            mesh = geometries[members[0]].mesh
            assert mesh is not None
            self._place_copies(mesh, np.array(members))

    def _place_copies(self, mesh: LocalMesh, members: np.ndarray) -> None:
        """World meshes, bounds and boxes of ``members``, geometries sharing the tessellation ``mesh``."""
        points = np.asarray(mesh.points, np.float64)
        step = max(1, _BATCH_POINTS // max(len(points), 1))
        for first in range(0, len(members), step):
            batch = members[first : first + step]
            world = transform_many(points, self._transforms[batch]).astype(np.float32)
            for k, g in enumerate(batch.tolist()):
                self.meshes[g] = WorldMesh(world[k], mesh.triangles)
            if len(points) and len(mesh.triangles):
                self.bounds[batch, 0], self.bounds[batch, 1] = world.min(axis=1), world.max(axis=1)
                self.boxes[batch] = transform_many(self._local_box(mesh), self._transforms[batch])
            else:
                self.bounds[batch, 0], self.bounds[batch, 1] = np.inf, -np.inf
                self.boxes[batch] = np.nan

    def _local_box(self, mesh: LocalMesh) -> np.ndarray:
        """The eight corners (8, 3) of the local bounding box of ``mesh``'s points."""
        found = self._local_boxes.get(id(mesh))
        if found is None:
            low, high = mesh.points.min(axis=0), mesh.points.max(axis=0)
            found = np.where(_BOX_CORNERS, high, low).astype(np.float64)
            self._local_boxes[id(mesh)] = found
        return found
