"""``EmbeddedBackend``: Replicator's annotators for a USD stage, without Kit.

>>> backend = EmbeddedBackend("data/scenes/warehouse.usda")   # or an open Usd.Stage
>>> frame = backend.render("/World/Cameras/TopCam", (512, 512), ["rgb", "semantic_segmentation"])
>>> frame = backend.render("auto", (512, 512), ["rgb"])        # a camera framing the whole stage

The scene is extracted once and follows stage edits (see :mod:`.scene`): moving a camera casts new
rays only; moving an object transforms its cached triangles again and has the ray engine rebuild its
index from them. A frame is a function of the stage's state alone: nothing kept between calls changes
what a call returns.
"""

from __future__ import annotations

import logging
import os
import resource
from collections.abc import Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from pxr import Usd, UsdGeom

from omni.sdg_studio.backends.embedded.annotators import ANNOTATOR_FUNCTIONS
from omni.sdg_studio.backends.embedded.camera import PinholeCamera, auto_camera, check_resolution, read_camera
from omni.sdg_studio.backends.embedded.engines import ENGINES, Hits, RayEngine, make_engine
from omni.sdg_studio.backends.embedded.errors import EmbeddedRenderError
from omni.sdg_studio.backends.embedded.frame import FrameData, SceneLook, SceneShape, SceneState, cast_frame
from omni.sdg_studio.backends.embedded.labels import LabelTables
from omni.sdg_studio.backends.embedded.lighting import Lighting, StageLights, read_lights
from omni.sdg_studio.backends.embedded.scene import SceneCache
from omni.sdg_studio.backends.embedded.workers import Workers, cpu_count
from omni.sdg_studio.backends.embedded.world import WorldGeometry
from omni.sdg_studio.core.annotators.formats import ANNOTATORS, LABEL_ANNOTATORS
from omni.sdg_studio.core.render_backend import AUTO_CAMERA, Frame
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.usd_diagnostics import summarized_usd_warnings

logger = logging.getLogger(__name__)

#: Annotators the embedded backend produces (Replicator's names).
SUPPORTED_ANNOTATORS: tuple[str, ...] = tuple(a for a in ANNOTATORS if a in ANNOTATOR_FUNCTIONS)

#: Bytes per pixel a frame may hold at its peak: the cast (hits, rays, band temporaries) plus each output.
_FRAME_BYTES_PER_PIXEL = 96
_ANNOTATOR_BYTES_PER_PIXEL = {"rgb": 40, "normals": 48, "pointcloud": 96, "distance_to_image_plane": 8}
_DEFAULT_ANNOTATOR_BYTES = 16
#: Bytes per triangle the scene holds (local and world copies, the triangle table, Embree's BVH).
_SCENE_BYTES_PER_TRIANGLE = 400


def check_annotators(annotators: Any) -> list[str]:
    """The requested annotator names, de-duplicated, or an error naming the unknown ones."""
    if isinstance(annotators, str):
        annotators = [annotators]
    if annotators is None or not isinstance(annotators, Sequence) or not all(isinstance(a, str) for a in annotators):
        raise EmbeddedRenderError(f"annotators {annotators!r}: expected a list of annotator names")
    names = list(dict.fromkeys(annotators))
    if not names:
        raise EmbeddedRenderError(f"annotators []: name at least one of {', '.join(SUPPORTED_ANNOTATORS)}")
    unknown = [n for n in names if n not in ANNOTATOR_FUNCTIONS]
    if unknown:
        known_elsewhere = [n for n in unknown if n in ANNOTATORS]
        detail = (
            f"{', '.join(known_elsewhere)} not produced by the embedded backend"
            if known_elsewhere
            else f"unknown annotator {', '.join(repr(n) for n in unknown)}"
        )
        raise EmbeddedRenderError(f"{detail}; available: {', '.join(SUPPORTED_ANNOTATORS)}")
    return names


def check_taxonomies(semantic_types: Any) -> tuple[str, ...]:
    """``semantic_types`` as a tuple of taxonomy names (a single string is one taxonomy)."""
    if isinstance(semantic_types, str):
        semantic_types = (semantic_types,)
    if not isinstance(semantic_types, Sequence) or not all(isinstance(t, str) for t in semantic_types):
        raise EmbeddedRenderError(f"semantic_types {semantic_types!r}: expected taxonomy names, e.g. ('class',)")
    taxonomies = tuple(dict.fromkeys(semantic_types))
    if not taxonomies or any(not t for t in taxonomies):
        raise EmbeddedRenderError(f"semantic_types {list(semantic_types)!r}: give at least one taxonomy name")
    return taxonomies


def _time_code(stage: Usd.Stage, time: Any) -> Usd.TimeCode:
    if time is None:
        return Usd.TimeCode(stage.GetStartTimeCode()) if stage.HasAuthoredTimeCodeRange() else Usd.TimeCode.Default()
    if isinstance(time, bool) or not isinstance(time, Real) or not np.isfinite(float(time)):
        raise EmbeddedRenderError(f"time {time!r}: must be a finite time code")
    return Usd.TimeCode(float(time))


def _open(stage: Any) -> Usd.Stage:
    if isinstance(stage, Usd.Stage):
        return stage
    if isinstance(stage, (str, Path)):
        return open_stage(stage)
    raise EmbeddedRenderError(f"stage {stage!r}: expected a Usd.Stage or the path of a USD file")


def _engine(engine: Any) -> RayEngine:
    if isinstance(engine, str):
        return make_engine(engine)
    if all(hasattr(engine, name) for name in ("load", "cast", "meets", "name", "concurrent")):
        return engine
    raise EmbeddedRenderError(f"engine {engine!r}: expected one of {', '.join(ENGINES)} or a RayEngine")


def _threads(threads: Any) -> int:
    if threads is None:
        return cpu_count()
    if isinstance(threads, bool) or not isinstance(threads, Integral) or threads < 1:
        raise EmbeddedRenderError(f"threads {threads!r}: expected a whole number of at least 1 (or None: one per core)")
    return int(threads)


def available_memory() -> int | None:
    """Bytes this process can still allocate: free memory, or what its address-space limit leaves."""
    limits = []
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            with open(f"/proc/{os.getpid()}/statm") as statm:
                used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limits.append(soft - used)
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def frame_bytes(resolution: tuple[int, int], annotators: Sequence[str]) -> int:
    """Peak bytes one frame of ``annotators`` at ``resolution`` needs beyond the scene (an upper estimate)."""
    per_pixel = _FRAME_BYTES_PER_PIXEL + sum(
        _ANNOTATOR_BYTES_PER_PIXEL.get(n, _DEFAULT_ANNOTATOR_BYTES) for n in annotators
    )
    return resolution[0] * resolution[1] * per_pixel


class EmbeddedBackend:
    """Renders annotators of a stage's cameras with a CPU ray engine (Embree, or the numpy rasterizer).

    ``threads`` (default: one per core) run the cast and the work after it, band by band.
    """

    def __init__(
        self, stage: Usd.Stage | str | Path, engine: str | RayEngine = "auto", threads: int | None = None
    ) -> None:
        self.workers = Workers(_threads(threads))
        self.engine: RayEngine = _engine(engine)
        self.stage = _open(stage)
        self._scene = SceneCache(self.stage)
        self._state: SceneState | None = None
        self._versions: tuple[int, ...] = ()
        self._world = WorldGeometry()
        self._shape_version = 0
        self._tables: dict[tuple[str, ...], LabelTables] = {}
        self._warned_no_labels: set[tuple[str, ...]] = set()
        self._last: tuple[tuple[Any, ...], Hits] | None = None
        self._lights: tuple[tuple[Any, ...], StageLights] | None = None

    @property
    def engine_name(self) -> str:
        return self.engine.name

    @property
    def tessellations(self) -> int:
        """Meshes tessellated so far (a stage edit that only moves, recolors or hides adds none)."""
        return self._scene.tessellations

    def close(self) -> None:
        """Stop following stage edits."""
        self._scene.close()

    def render(
        self,
        camera: str,
        resolution: tuple[int, int],
        annotators: Sequence[str],
        *,
        time: float | None = None,
        semantic_types: Sequence[str] = ("class",),
        colorize: bool = False,
    ) -> Frame:
        """Return ``{annotator: data}`` in Replicator's ``get_data()`` layout for ``camera`` at ``resolution``.

        ``camera`` is a camera prim path, or ``"auto"`` for a camera framing the whole stage.
        """
        if not isinstance(camera, str) or not camera:
            raise EmbeddedRenderError(f"camera {camera!r}: expected a camera prim path or {AUTO_CAMERA!r}")
        names = check_annotators(annotators)
        size = check_resolution(resolution)
        taxonomies = check_taxonomies(semantic_types)
        if not isinstance(colorize, bool):
            raise EmbeddedRenderError(f"colorize {colorize!r}: expected True or False")
        code = _time_code(self.stage, time)
        self._check_fits(size, names)
        if camera != AUTO_CAMERA:
            read_camera(self.stage, camera, size, code)  # a bad camera is refused before any scene work
        with summarized_usd_warnings("reading the stage"):
            state = self._sync(code)
        cam = self._camera(camera, size, code, state)
        tables = self._label_tables(state, taxonomies)
        needs_labels = (LABEL_ANNOTATORS - {"instance_id_segmentation"}).intersection(names)
        if not tables.has_labels and needs_labels and taxonomies not in self._warned_no_labels:
            self._warned_no_labels.add(taxonomies)
            logger.warning(
                "no prim carries labels of type %s: segmentation is all UNLABELLED and there are no boxes",
                ", ".join(taxonomies),
            )
        frame = FrameData(
            cam, self._cast(cam, state), state, tables, lambda: self._lighting(state, code, cam), colorize, self.workers
        )
        return {name: ANNOTATOR_FUNCTIONS[name](frame) for name in names}

    def _check_fits(self, size: tuple[int, int], names: Sequence[str]) -> None:
        """Refuse, before any work, a frame that cannot fit in the memory left."""
        needed = frame_bytes(size, names)
        if self._state is None:
            needed += 64 * 2**20
        free = available_memory()
        if free is not None and needed > free:
            raise EmbeddedRenderError(
                f"resolution {size[0]}x{size[1]} with {len(names)} annotators needs about {needed / 2**20:.0f} MB "
                f"and only {max(free, 0) / 2**20:.0f} MB are available; use a smaller resolution or fewer annotators"
            )

    def _camera(self, camera: str, size: tuple[int, int], code: Usd.TimeCode, state: SceneState) -> PinholeCamera:
        if camera != AUTO_CAMERA:
            return read_camera(self.stage, camera, size, code)
        up = str(UsdGeom.GetStageUpAxis(self.stage))
        return auto_camera(state.shape.total_bounds, up, float(UsdGeom.GetStageMetersPerUnit(self.stage)), size)

    def _sync(self, time: Usd.TimeCode) -> SceneState:
        """Bring the cached scene, engine, looks and label tables up to date with the stage at ``time``."""
        scene = self._scene
        scene.update(time)
        versions = (scene.structure_version, scene.labels_version, scene.shape_version, scene.appearance_version)
        if self._state is not None and versions == self._versions:
            self._state.time = time
            return self._state
        old = self._versions or (-1, -1, -1, -1)
        geometries = scene.geometries
        shape = self._state.shape if self._state is not None else None
        if shape is None or versions[0] != old[0] or versions[2] != old[2]:
            moved = self._world.update(geometries)
            meshes = list(self._world.meshes)
            self.engine.load(meshes)
            if shape is None or moved is None:
                shape = SceneShape.build(meshes, self._world.bounds, self._world.boxes)
            else:
                shape = shape.moved(meshes, moved, self._world.bounds, self._world.boxes)
            self._shape_version += 1
            self._last = None
            if not any(len(m.triangles) for m in meshes):
                logger.warning("the stage has no renderable geometry: every pixel is background")
        look = self._state.look if self._state is not None else None
        if look is None or versions[0] != old[0] or versions[3] != old[3]:
            look = SceneLook.build(geometries)
        if versions[0] != old[0] or versions[1] != old[1]:
            self._tables = {}
        self._state = SceneState(self.stage, time, geometries, shape, look, self.engine)
        self._versions = versions
        return self._state

    def _label_tables(self, state: SceneState, semantic_types: tuple[str, ...]) -> LabelTables:
        tables = self._tables.get(semantic_types)
        if tables is None:
            tables = LabelTables(state.geometries, semantic_types)
            self._tables[semantic_types] = tables
        return tables

    def _lighting(self, state: SceneState, time: Usd.TimeCode, camera: PinholeCamera) -> Lighting:
        """The stage's lights, read again only after a light (or the scene's extent) changed."""
        key = (self._scene.light_version, self._shape_version, time)
        if self._lights is None or self._lights[0] != key:
            bounds = state.shape.total_bounds
            center = np.zeros(3) if bounds is None else bounds.mean(axis=0)
            self._lights = (key, read_lights(self.stage, self._scene.light_paths, time, center))
        return self._lights[1].for_view(-camera.rotation[2])

    def _cast(self, camera: PinholeCamera, state: SceneState) -> Hits:
        """Cast the camera's rays, reusing the last result for an identical camera and scene."""
        key = (camera.intrinsics, camera.near, camera.far, camera.camera_to_world.tobytes(), self._shape_version)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        found = cast_frame(camera, state, self.workers)
        self._last = (key, found)
        return found
