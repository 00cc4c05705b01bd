"""Intel Embree: one Embree geometry per mesh over numpy buffers it shares, first hits, coverage of groups.

Each call casts on the calling thread (embreex releases the GIL while it casts), so the backend runs
bands of pixels on its worker threads. embreex has no ray ``tnear``, so rays start on the camera's near
plane and their ``tfar`` stops at the far plane.

The meshes' world vertices and triangles live in two numpy arrays that Embree reads in place (see
:mod:`.embree_api`); mesh ``k`` is Embree geometry ``k`` of the scene, so a hit's ``geomID`` and
``primID`` are the mesh and triangle. When a new load only moves meshes (same vertex and triangle
counts, same triangles), their vertex rows are rewritten and Embree rebuilds its BVH from them: no
geometry is copied or re-created. Scenes of mesh subsets (``cast(only=...)``, the groups of
:meth:`EmbreeEngine.meets`) share the same geometries; they are built on demand (under a lock, committed
at once so that threads only ever read them), committed again after their meshes moved, and dropped
when the meshes themselves change.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from embreex.rtcore_scene import EmbreeScene

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines import embree_api
from omni.sdg_studio.backends.embedded.engines.base import Hits, Pixels, WorldMesh


@dataclass
class _Subset:
    """A scene of some meshes (Embree geometry ``k`` is ``members[k]``), and when it was last committed."""

    scene: EmbreeScene
    #: Mesh index of every Embree geometry id, then -1 (for a miss).
    members: np.ndarray
    committed: int


class _Meshes:
    """The loaded meshes in Embree: shared buffers, one geometry per non-empty mesh, the main scene."""

    def __init__(self, device: embree_api.Device, meshes: Sequence[WorldMesh]) -> None:
        self.meshes = list(meshes)
        vertex_counts = np.array([len(m.vertices) for m in meshes], np.int64)
        triangle_counts = np.array([len(m.triangles) for m in meshes], np.int64)
        self.vertex_start = np.concatenate([[0], np.cumsum(vertex_counts)]).astype(np.int64)
        self.triangle_start = np.concatenate([[0], np.cumsum(triangle_counts)]).astype(np.int64)
        #: One padding row: Embree reads the last vertex with a 16-byte load.
        self.vertices = np.zeros((int(self.vertex_start[-1]) + 1, 3), np.float32)
        self.triangles = np.zeros((int(self.triangle_start[-1]), 3), np.int32)
        drawn = np.flatnonzero(triangle_counts > 0)
        if len(drawn):
            self.vertices[:-1] = np.concatenate([m.vertices for m in meshes if len(m.vertices)])
            self.triangles[:] = np.concatenate([meshes[g].triangles for g in drawn.tolist()])
        self.scene, handle = device.new_scene()
        self.geometry = np.zeros(len(meshes), np.uint64)
        for g in drawn.tolist():
            vertex_range = (int(self.vertex_start[g]), int(self.vertex_start[g + 1]))
            triangle_range = (int(self.triangle_start[g]), int(self.triangle_start[g + 1]))
            geometry = embree_api.new_triangle_geometry(
                device, self.vertices, vertex_range, self.triangles, triangle_range
            )
            embree_api.attach(handle, geometry, g)
            embree_api.release_geometry(geometry)  # the main scene holds it for as long as this object lives
            self.geometry[g] = geometry
        embree_api.commit(self.scene)
        device.check("building the scene")
        self.empty = not len(drawn)
        #: When each mesh's vertices last changed (a counter shared with the subsets' commits).
        self.moved_at = np.zeros(len(meshes), np.int64)
        self.clock = 0

    def moved(self, meshes: Sequence[WorldMesh]) -> list[int] | None:
        """The meshes of ``meshes`` whose vertices alone changed, or None when anything else differs."""
        if len(meshes) != len(self.meshes):
            return None
        changed = []
        for g, (new, old) in enumerate(zip(meshes, self.meshes, strict=True)):
            if new is old:
                continue
            if len(new.vertices) != len(old.vertices) or not (
                new.triangles is old.triangles or np.array_equal(new.triangles, old.triangles)
            ):
                return None
            changed.append(g)
        return changed

    def move(self, meshes: Sequence[WorldMesh], changed: list[int], device: embree_api.Device) -> None:
        """Rewrite the vertex rows of the ``changed`` meshes and rebuild the main scene's BVH."""
        self.clock += 1
        for g in changed:
            self.vertices[self.vertex_start[g] : self.vertex_start[g + 1]] = meshes[g].vertices
            self.meshes[g] = meshes[g]
            if self.geometry[g]:
                embree_api.vertices_changed(int(self.geometry[g]))
        self.moved_at[changed] = self.clock
        embree_api.commit(self.scene)
        device.check("updating the scene")


class EmbreeEngine:
    """Ray casting with Embree."""

    name = "embree"
    concurrent = True

    def __init__(self) -> None:
        self._device = embree_api.Device()
        self._loaded = _Meshes(self._device, ())
        self._subsets: dict[bytes, _Subset] = {}
        self._lock = threading.Lock()

    def load(self, meshes: Sequence[WorldMesh]) -> None:
        with self._lock:
            changed = self._loaded.moved(meshes)
            if changed is None:
                self._subsets = {}
                self._loaded = _Meshes(self._device, meshes)
            elif changed:
                self._loaded.move(meshes, changed, self._device)

    def _subset(self, members: np.ndarray) -> _Subset:
        """The scene of the meshes ``members`` (sorted, unique), built or committed again if needed."""
        loaded = self._loaded
        key = members.tobytes()
        found = self._subsets.get(key)
        if found is not None and (not len(members) or loaded.moved_at[members].max() <= found.committed):
            return found
        with self._lock:
            found = self._subsets.get(key)
            if found is None:
                scene, handle = self._device.new_scene()
                for k, g in enumerate(members.tolist()):
                    if loaded.geometry[g]:
                        embree_api.attach(handle, int(loaded.geometry[g]), k)
                found = _Subset(scene, np.append(members, -1).astype(np.int32), -1)
            if found.committed < loaded.clock:
                embree_api.commit(found.scene)
                self._device.check("building a scene of some meshes")
                found.committed = loaded.clock
            self._subsets[key] = found
        return found

    def cast(self, camera: PinholeCamera, pixels: Pixels = None, only: Sequence[int] | None = None) -> Hits:
        dirs, _ = camera.world_rays(pixels)
        count = len(dirs)
        if only is None:
            scene, members = self._loaded.scene, None
        else:
            subset = self._subset(np.unique(np.asarray(only, np.int64)))
            scene, members = subset.scene, subset.members
        if count == 0 or self._loaded.empty:
            return Hits.misses(count)
        origins, limit, start = _rays(camera, pixels, dirs)
        result = scene.run(origins, dirs, dists=limit, output=1)
        prim, tfar = result["primID"], result["tfar"]
        distance = np.where(prim >= 0, tfar + start, np.float32(np.inf))
        geometry = result["geomID"] if members is None else members[result["geomID"]]
        return Hits(distance, geometry.astype(np.int32, copy=False), prim)

    def meets(
        self, camera: PinholeCamera, pixels: np.ndarray, group: np.ndarray, groups: Sequence[np.ndarray]
    ) -> np.ndarray:
        met = np.zeros(len(pixels), bool)
        if not len(pixels) or self._loaded.empty:
            return met
        dirs, _ = camera.world_rays(pixels)
        origins, limit, _ = _rays(camera, pixels, dirs)
        edges = np.concatenate([[0], np.flatnonzero(np.diff(group)) + 1, [len(group)]])
        for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
            scene = self._subset(groups[int(group[lo])]).scene
            # An occlusion query: any hit within the ray's range, the same triangle test as a first hit's.
            found = scene.run(origins[lo:hi], dirs[lo:hi], dists=limit[lo:hi], query="OCCLUDED")
            met[lo:hi] = found == 0
        return met


#: Ray ranges of the last few (intrinsics, near, far): start distance and length of every pixel's ray.
_RANGES: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
_MAX_RANGES = 4


def _rays(
    camera: PinholeCamera, pixels: Pixels | np.ndarray, dirs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origins on the near plane, lengths to the far plane (a fresh array: embreex writes into it) and the
    start distances of the rays of ``pixels`` with world directions ``dirs``."""
    key = (camera.intrinsics, camera.near, camera.far)
    ranges = _RANGES.get(key)
    if ranges is None:
        cos = camera.cosines()
        start = np.float32(camera.near) / cos
        ranges = (start, np.float32(camera.far) / cos - start)
        if len(_RANGES) >= _MAX_RANGES:
            _RANGES.clear()
        _RANGES[key] = ranges
    if pixels is None:
        start, limit = ranges[0], ranges[1].copy()
    elif isinstance(pixels, slice):
        start, limit = ranges[0][pixels], ranges[1][pixels].copy()
    else:
        start, limit = ranges[0][pixels], ranges[1][pixels]
    origins = camera.position.astype(np.float32) + dirs * start[:, None]
    return np.ascontiguousarray(origins, np.float32), limit, start
