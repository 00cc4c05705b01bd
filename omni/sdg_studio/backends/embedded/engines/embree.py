"""Intel Embree through ``embreex``: the meshes merged into one Embree geometry, first hits and depth peeling.

Each call casts on the calling thread (embreex releases the GIL while it casts), so the backend runs
bands of pixels on its worker threads. embreex has no ray ``tnear``, so rays start on the camera's near
plane and their ``tfar`` stops at the far plane. The surfaces behind a hit are found by peeling: the
ray starts again just behind the last surface it met, in a scene of the requested meshes only, until
it meets nothing more. Scenes of mesh subsets are built on demand (under a lock, committed at once so
that threads only ever read them) and kept until the next :meth:`EmbreeEngine.load`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import embreex.rtcore_scene as rtcore_scene
import numpy as np
from embreex.mesh_construction import TriangleMesh

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.engines.base import Hits, Pixels, WorldMesh, behind_start, pixel_indices
from omni.sdg_studio.backends.embedded.vectors import gather_rows

#: A ray meets at most this many surfaces behind its first hit (a bound on peeling work per ray).
MAX_LAYERS = 256
#: Sub-scenes (mesh subsets) kept per loaded scene.
_MAX_SUBSCENES = 64


class _MergedScene:
    """The triangles of some meshes as one Embree geometry, with the map from Embree primID back to them."""

    def __init__(self, meshes: Sequence[WorldMesh], indices: Sequence[int]) -> None:
        kept = [i for i in indices if len(meshes[i].triangles)]
        self.scene = rtcore_scene.EmbreeScene()
        counts = np.array([len(meshes[i].triangles) for i in kept], np.int64)
        #: Mesh index and triangle index within it of every Embree primitive, and -1 last (for primID -1).
        self.geometry = np.append(np.repeat(np.asarray(kept, np.int32), counts), np.int32(-1))
        local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        self.triangle = np.append(local, -1).astype(np.int32)
        self.empty = not kept
        if self.empty:
            return
        vertex_counts = np.array([len(meshes[i].vertices) for i in kept], np.int64)
        base = np.repeat(np.cumsum(vertex_counts) - vertex_counts, counts)
        vertices = np.concatenate([meshes[i].vertices for i in kept]).astype(np.float32)
        triangles = (np.concatenate([meshes[i].triangles for i in kept]) + base[:, None]).astype(np.int32)
        TriangleMesh(self.scene, np.ascontiguousarray(vertices), np.ascontiguousarray(triangles))
        # Commit now (embreex commits on the first run): later runs from several threads only read.
        self.scene.run(np.zeros((1, 3), np.float32), np.array([[0, 0, 1]], np.float32), dists=np.zeros(1, np.float32))

    def run(self, origins: np.ndarray, dirs: np.ndarray, limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(primitive index or -1, distance) of the nearest hit of each ray within ``limit``."""
        result = self.scene.run(
            np.ascontiguousarray(origins, np.float32),
            np.ascontiguousarray(dirs, np.float32),
            dists=np.ascontiguousarray(limit, np.float32),
            output=1,
        )
        return result["primID"], result["tfar"]


class EmbreeEngine:
    """Ray casting with Embree."""

    name = "embree"
    concurrent = True

    def __init__(self) -> None:
        self._meshes: Sequence[WorldMesh] = ()
        self._triangle_counts = np.zeros(0, np.int64)
        self._scenes: dict[bytes | None, _MergedScene] = {}
        self._lock = threading.Lock()

    def load(self, meshes: Sequence[WorldMesh]) -> None:
        with self._lock:
            self._meshes = meshes
            self._scenes = {}
            self._triangle_counts = np.array([len(m.triangles) for m in meshes], np.int64)

    def _scene(self, only: Sequence[int] | np.ndarray | None) -> _MergedScene:
        key = None if only is None else np.unique(np.asarray(only, np.int64)).tobytes()
        scene = self._scenes.get(key)
        if scene is None:
            with self._lock:
                scene = self._scenes.get(key)
                if scene is None:
                    indices = range(len(self._meshes)) if key is None else np.frombuffer(key, np.int64).tolist()
                    scene = _MergedScene(self._meshes, indices)
                    if key is not None and len(self._scenes) > _MAX_SUBSCENES:
                        self._scenes = {k: v for k, v in self._scenes.items() if k is None}
                    self._scenes[key] = scene
        return scene

    def _peel_scene(self, geometries: np.ndarray) -> _MergedScene:
        """The scene to peel ``geometries`` in: the whole scene when they are all its triangles, else their own
        (built once; unrelated surfaces such as floors and walls would otherwise each cost a layer)."""
        counts = self._triangle_counts
        return self._scene(None if counts[geometries].sum() == counts.sum() else geometries)

    def cast(self, camera: PinholeCamera, pixels: Pixels = None, only: Sequence[int] | None = None) -> Hits:
        dirs, cos = camera.world_rays(pixels)
        count = len(dirs)
        scene = self._scene(only)
        if count == 0 or scene.empty:
            return Hits.misses(count)
        start = np.float32(camera.near) / cos
        origins = camera.position.astype(np.float32) + dirs * start[:, None]
        prim, tfar = scene.run(origins, dirs, np.float32(camera.far) / cos - start)
        distance = np.where(prim >= 0, tfar + start, np.float32(np.inf))
        return Hits(distance, scene.geometry[prim], scene.triangle[prim])

    def hits_behind(
        self, camera: PinholeCamera, pixels: np.ndarray, start: np.ndarray, stop: np.ndarray, geometries: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        if not len(pixels) or not len(geometries):
            return np.zeros(0, np.int64), np.zeros(0, np.int32)
        scene = self._peel_scene(geometries)
        found_ray: list[np.ndarray] = []
        found_geometry: list[np.ndarray] = []
        if scene.empty:
            return np.zeros(0, np.int64), np.zeros(0, np.int32)
        all_dirs, cos = camera.world_rays(pixel_indices(camera, pixels))
        far = np.minimum(np.float32(camera.far) / cos, stop).astype(np.float32)
        position = camera.position.astype(np.float32)
        ray = np.flatnonzero(start < far)
        begin = start[ray].astype(np.float32)
        for _ in range(MAX_LAYERS):
            if not len(ray):
                break
            dirs = gather_rows(all_dirs, ray)
            prim, tfar = scene.run(position + dirs * begin[:, None], dirs, far[ray] - begin)
            hit = prim >= 0
            ray, begin, prim, tfar = ray[hit], begin[hit], prim[hit], tfar[hit]
            found_ray.append(ray)
            found_geometry.append(scene.geometry[prim])
            begin = behind_start(camera, begin + tfar)
            keep = begin < far[ray]
            ray, begin = ray[keep], begin[keep]
        if not found_ray:
            return np.zeros(0, np.int64), np.zeros(0, np.int32)
        return np.concatenate(found_ray), np.concatenate(found_geometry)
