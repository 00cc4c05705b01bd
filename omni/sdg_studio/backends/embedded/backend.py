"""``EmbeddedBackend``: Replicator's annotators for a USD stage, without Kit.

>>> backend = EmbeddedBackend(open_stage("data/scenes/warehouse.usda"))
>>> frame = backend.render("/World/Cameras/TopCam", (512, 512), ["rgb", "semantic_segmentation"])

The scene is extracted once and kept: moving a camera between frames casts new rays only; moving
an object rebuilds the ray engine's scene from the cached triangles; other stage edits re-extract.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pxr import Usd

from omni.sdg_studio.backends.embedded.annotators import ANNOTATOR_FUNCTIONS, FrameData, SceneState
from omni.sdg_studio.backends.embedded.camera import PinholeCamera, check_resolution, read_camera
from omni.sdg_studio.backends.embedded.coplanar import prefer_lowest_geometry
from omni.sdg_studio.backends.embedded.engines import Hits, RayEngine, TriangleSoup, WorldMesh, make_engine
from omni.sdg_studio.backends.embedded.errors import EmbeddedRenderError, warn
from omni.sdg_studio.backends.embedded.labels import LabelTables
from omni.sdg_studio.backends.embedded.lighting import Lighting, StageLights, read_lights
from omni.sdg_studio.backends.embedded.scene import SceneCache
from omni.sdg_studio.core.annotators.formats import ANNOTATORS, LABEL_ANNOTATORS
from omni.sdg_studio.core.render_backend import Frame

#: Annotators the embedded backend produces (Replicator's names).
SUPPORTED_ANNOTATORS: tuple[str, ...] = tuple(a for a in ANNOTATORS if a in ANNOTATOR_FUNCTIONS)


def check_annotators(annotators: Sequence[str]) -> list[str]:
    """The requested annotator names, de-duplicated, or an error naming the unknown ones."""
    if isinstance(annotators, str):
        annotators = [annotators]
    names = list(dict.fromkeys(annotators))
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


def _time_code(stage: Usd.Stage, time: float | None) -> Usd.TimeCode:
    if time is None:
        return Usd.TimeCode(stage.GetStartTimeCode()) if stage.HasAuthoredTimeCodeRange() else Usd.TimeCode.Default()
    value = float(time)
    if not np.isfinite(value):
        raise EmbeddedRenderError(f"time {time!r}: must be a finite time code")
    return Usd.TimeCode(value)


class EmbeddedBackend:
    """Renders annotators of a stage's cameras with a CPU ray engine (Embree, or the numpy rasterizer)."""

    def __init__(self, stage: Usd.Stage, engine: str | RayEngine = "auto", threads: int | None = None) -> None:
        self.stage = stage
        self.engine: RayEngine = make_engine(engine, threads) if isinstance(engine, str) else engine
        self._scene = SceneCache(stage)
        self._state: SceneState | None = None
        self._state_versions = (-1, -1)
        self._tables: dict[tuple[str, ...], LabelTables] = {}
        self._warned_no_labels: set[tuple[str, ...]] = set()
        self._last: tuple[tuple[Any, ...], Hits] | None = None
        self._lights: tuple[tuple[Any, ...], StageLights] | None = None

    @property
    def engine_name(self) -> str:
        return self.engine.name

    def close(self) -> None:
        """Stop following stage edits."""
        self._scene.close()

    def _sync(self, time: Usd.TimeCode) -> SceneState:
        """Bring the cached scene, engine and label tables up to date with the stage at ``time``."""
        self._scene.update(time)
        versions = (self._scene.geometry_version, self._scene.transform_version)
        if self._state is None or versions != self._state_versions:
            if self._state is None or versions[0] != self._state_versions[0]:
                self._tables = {}
            geometries = self._scene.geometries
            meshes = [WorldMesh(g.world_points().astype(np.float32), g.triangles) for g in geometries]
            self.engine.load(meshes)
            albedo = np.zeros((len(geometries) + 1, 3), np.float32)
            if geometries:
                albedo[1:] = [g.color for g in geometries]
            self._state = SceneState(
                stage=self.stage,
                time=time,
                geometries=geometries,
                meshes=meshes,
                soup=TriangleSoup.build(meshes),
                engine=self.engine,
                albedo=albedo,
            )
            self._state_versions = versions
            self._last = None
            if not geometries:
                warn("the stage has no renderable geometry: every pixel is background")
        return self._state

    def _label_tables(self, state: SceneState, semantic_types: tuple[str, ...]) -> LabelTables:
        tables = self._tables.get(semantic_types)
        if tables is None:
            tables = LabelTables(state.geometries, semantic_types)
            self._tables[semantic_types] = tables
        return tables

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
        """Return ``{annotator: data}`` in Replicator's ``get_data()`` layout for ``camera`` at ``resolution``."""
        names = check_annotators(annotators)
        size = check_resolution(resolution)
        taxonomies = tuple(dict.fromkeys(str(t) for t in semantic_types))
        if not taxonomies or any(not t for t in taxonomies):
            raise EmbeddedRenderError(f"semantic_types {list(semantic_types)!r}: give at least one taxonomy name")
        code = _time_code(self.stage, time)
        cam = read_camera(self.stage, camera, size, code)
        state = self._sync(code)
        tables = self._label_tables(state, taxonomies)
        needs_labels = (LABEL_ANNOTATORS - {"instance_id_segmentation"}).intersection(names)
        if not tables.has_labels and needs_labels and taxonomies not in self._warned_no_labels:
            self._warned_no_labels.add(taxonomies)
            warn(
                f"no prim carries labels of type {', '.join(taxonomies)}: "
                "segmentation is all UNLABELLED and there are no boxes"
            )
        hits = self._cast(cam)
        frame = FrameData(cam, hits, state, tables, lambda: self._lighting(state, code, cam), colorize)
        return {name: ANNOTATOR_FUNCTIONS[name](frame) for name in names}

    def _lighting(self, state: SceneState, time: Usd.TimeCode, camera: PinholeCamera) -> Lighting:
        """The stage's lights, read again only after a light (or an animated stage's time) changed."""
        key = (self._scene.light_version, self._state_versions)
        if self._lights is None or self._lights[0] != key:
            self._lights = (key, read_lights(self.stage, time, _scene_center(state)))
        return self._lights[1].for_view(-camera.rotation[2])

    def _cast(self, camera: PinholeCamera) -> Hits:
        """Cast the camera's rays, reusing the last result for an identical camera and scene."""
        key = (camera.intrinsics, camera.near, camera.far, camera.camera_to_world.tobytes(), self._state_versions)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        hits = self.engine.cast(camera)
        assert self._state is not None
        prefer_lowest_geometry(hits, camera, self._state.soup, self._state.coplanar)
        self._last = (key, hits)
        return hits


def _scene_center(state: SceneState) -> np.ndarray:
    if not state.meshes:
        return np.zeros(3)
    lows = np.array([m.vertices.min(axis=0) for m in state.meshes])
    highs = np.array([m.vertices.max(axis=0) for m in state.meshes])
    return (lows.min(axis=0) + highs.max(axis=0)) / 2.0
