"""Intel Embree through ``embreex``: one Embree geometry per mesh, rays split over one thread per core.

Embree has no ray ``tnear`` in embreex, so rays start on the camera's near plane and their
``tfar`` stops at the far plane. A sub-scene of selected meshes (for "what would this object
cover alone") is built on demand and kept until the scene changes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import embreex.rtcore_scene as rtcore_scene
import numpy as np
from embreex.mesh_construction import TriangleMesh

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines.base import Hits, WorldMesh

#: Fewer rays than this are cast on the calling thread.
_MIN_RAYS_PER_THREAD = 16384


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


_POOLS: dict[int, ThreadPoolExecutor] = {}
# A forked child (a DataLoader worker) has none of the parent's pool threads: it must start its own pools.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_POOLS.clear)


def _shared_pool(threads: int) -> ThreadPoolExecutor:
    """One pool per thread count, shared by every engine of the process."""
    if threads not in _POOLS:
        _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="embree")
    return _POOLS[threads]


class _Scene:
    """An Embree scene over a subset of meshes, with the map from Embree geomID to mesh index."""

    def __init__(self, meshes: Sequence[WorldMesh], indices: Sequence[int]) -> None:
        self.scene = rtcore_scene.EmbreeScene()
        kept = [i for i in indices if len(meshes[i].triangles)]
        for i in kept:
            mesh = meshes[i]
            TriangleMesh(self.scene, np.ascontiguousarray(mesh.vertices, np.float32), mesh.triangles)
        self.index = np.asarray(kept, np.int32)


class _BatchScene:
    """Copies of every group's meshes, each group moved to its own cell of a grid ``spacing`` apart.

    A ray for group ``k`` starts from the camera moved by the same offset and is cut at
    ``spacing / 2``, so it can only meet group ``k``: all groups are answered by one cast.
    """

    def __init__(self, meshes: Sequence[WorldMesh], groups: Sequence[Sequence[int]], spacing: float) -> None:
        self.scene = rtcore_scene.EmbreeScene()
        self.spacing = spacing
        side = max(1, math.ceil(len(groups) ** (1 / 3)))
        k = np.arange(len(groups))
        self.offsets = np.stack([k % side, (k // side) % side, k // (side * side)], axis=1) * spacing
        for group, offset in zip(groups, self.offsets, strict=True):
            for g in group:
                mesh = meshes[g]
                if len(mesh.triangles):
                    vertices = np.ascontiguousarray(mesh.vertices.astype(np.float64) + offset, np.float32)
                    TriangleMesh(self.scene, vertices, mesh.triangles)


class EmbreeEngine:
    """First-hit ray casting with Embree."""

    name = "embree"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or cpu_count()
        self._pool = _shared_pool(self.threads) if self.threads > 1 else None
        self._meshes: Sequence[WorldMesh] = ()
        self._scenes: dict[tuple[int, ...] | None, _Scene] = {}

    def load(self, meshes: Sequence[WorldMesh]) -> None:
        self._meshes = meshes
        self._scenes = {}
        self._batch = None
        self._bounds = np.array(
            [[m.vertices.min(axis=0), m.vertices.max(axis=0)] if len(m.vertices) else np.zeros((2, 3)) for m in meshes]
        ).reshape(-1, 2, 3)

    def covers(
        self, camera: PinholeCamera, groups: Sequence[Sequence[int]], group_of_ray: np.ndarray, pixels: np.ndarray
    ) -> np.ndarray:
        if not len(pixels):
            return np.zeros(0, bool)
        key = tuple(tuple(g) for g in groups)
        position = camera.position
        # Every copy must lie within half a cell of its own camera and farther than that from the others.
        reach = _farthest(self._bounds[sorted({g for group in groups for g in group})], position)
        batch = self._batch
        if batch is None or batch[0] != key or batch[1].spacing < 2.05 * reach:
            batch = (key, _BatchScene(self._meshes, groups, 4.0 * reach))
            self._batch = batch
        scene = batch[1]
        dirs, cos = camera.world_rays(pixels)
        start = (camera.near / cos).astype(np.float32)
        origins = np.ascontiguousarray(position + scene.offsets[group_of_ray] + dirs * start[:, None], np.float32)
        limit = (np.minimum(camera.far / cos, scene.spacing / 2) - start).astype(np.float32)
        return self._run(scene.scene, origins, np.ascontiguousarray(dirs, np.float32), limit)["primID"] >= 0

    def _run(
        self, scene: rtcore_scene.EmbreeScene, origins: np.ndarray, dirs: np.ndarray, limit: np.ndarray
    ) -> dict[str, np.ndarray]:
        """``scene.run`` over the rays, split across the thread pool; outputs concatenated."""
        count = len(origins)

        def run(lo: int, hi: int) -> dict[str, np.ndarray]:
            return scene.run(origins[lo:hi], dirs[lo:hi], dists=limit[lo:hi].copy(), output=1)

        threads = min(self.threads, max(1, count // _MIN_RAYS_PER_THREAD))
        if threads == 1 or self._pool is None:
            return run(0, count)
        step = -(-count // threads)
        bounds = [(lo, min(lo + step, count)) for lo in range(0, count, step)]
        parts = list(self._pool.map(lambda b: run(*b), bounds))
        return {key: np.concatenate([p[key] for p in parts]) for key in ("primID", "geomID", "tfar")}

    def _scene(self, only: Sequence[int] | None) -> _Scene:
        key = None if only is None else tuple(sorted(set(int(i) for i in only)))
        scene = self._scenes.get(key)
        if scene is None:
            scene = _Scene(self._meshes, range(len(self._meshes)) if key is None else key)
            if key is not None and len(self._scenes) > 256:
                self._scenes = {k: v for k, v in self._scenes.items() if k is None}
            self._scenes[key] = scene
        return scene

    def cast(self, camera: PinholeCamera, pixels: np.ndarray | None = None, only: Sequence[int] | None = None) -> Hits:
        dirs, cos = camera.world_rays(pixels)
        count = len(dirs)
        scene = self._scene(only)
        if count == 0 or len(scene.index) == 0:
            return Hits.misses(count)
        start = (camera.near / cos).astype(np.float32)
        origins = np.ascontiguousarray(camera.position.astype(np.float32) + dirs * start[:, None], np.float32)
        dirs = np.ascontiguousarray(dirs, np.float32)
        limit = (camera.far / cos - start).astype(np.float32)
        result = self._run(scene.scene, origins, dirs, limit)
        prim, geom, tfar = result["primID"], result["geomID"], result["tfar"]
        hit = prim >= 0
        geometry = np.full(count, -1, np.int32)
        geometry[hit] = scene.index[geom[hit]]
        distance = np.where(hit, tfar + start, np.float32(np.inf)).astype(np.float32)
        return Hits(distance, geometry, np.where(hit, prim, -1).astype(np.int32))


def _farthest(bounds: np.ndarray, position: np.ndarray) -> float:
    """Largest distance from ``position`` to a corner of the union of ``bounds`` (n, 2, 3)."""
    low, high = bounds[:, 0].min(axis=0), bounds[:, 1].max(axis=0)
    corners = np.array([[x, y, z] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
    return float(np.linalg.norm(corners - position, axis=1).max())
