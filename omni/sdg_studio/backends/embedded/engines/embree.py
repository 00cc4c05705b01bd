"""Intel Embree through ``embreex``: one Embree geometry per mesh, rays split over one thread per core.

Embree has no ray ``tnear`` in embreex, so rays start on the camera's near plane and their
``tfar`` stops at the far plane. A sub-scene of selected meshes (for "what would this object
cover alone") is built on demand and kept until the scene changes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from embreex import rtcore_scene
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


class _Scene:
    """An Embree scene over a subset of meshes, with the map from Embree geomID to mesh index."""

    def __init__(self, meshes: Sequence[WorldMesh], indices: Sequence[int]) -> None:
        self.scene = rtcore_scene.EmbreeScene()
        kept = [i for i in indices if len(meshes[i].triangles)]
        for i in kept:
            mesh = meshes[i]
            TriangleMesh(self.scene, np.ascontiguousarray(mesh.vertices, np.float32), mesh.triangles)
        self.index = np.asarray(kept, np.int32)


class EmbreeEngine:
    """First-hit ray casting with Embree."""

    name = "embree"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or cpu_count()
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None
        self._meshes: Sequence[WorldMesh] = ()
        self._scenes: dict[tuple[int, ...] | None, _Scene] = {}

    def load(self, meshes: Sequence[WorldMesh]) -> None:
        self._meshes = meshes
        self._scenes = {}

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

        def run(lo: int, hi: int) -> dict[str, np.ndarray]:
            return scene.scene.run(origins[lo:hi], dirs[lo:hi], dists=limit[lo:hi].copy(), output=1)

        threads = min(self.threads, max(1, count // _MIN_RAYS_PER_THREAD))
        if threads == 1 or self._pool is None:
            parts = [run(0, count)]
        else:
            step = -(-count // threads)
            bounds = [(lo, min(lo + step, count)) for lo in range(0, count, step)]
            parts = list(self._pool.map(lambda b: run(*b), bounds))
        prim = np.concatenate([p["primID"] for p in parts])
        hit = prim >= 0
        geom = np.concatenate([p["geomID"] for p in parts])
        tfar = np.concatenate([p["tfar"] for p in parts])
        geometry = np.full(count, -1, np.int32)
        geometry[hit] = scene.index[geom[hit]]
        distance = np.where(hit, tfar + start, np.float32(np.inf)).astype(np.float32)
        return Hits(distance, geometry, np.where(hit, prim, -1).astype(np.int32))
