"""Per-frame random camera offsets, the same for a given seed and frame in every run (so resume matches).

The offsets are authored in an anonymous layer inserted under the stage's session layer, so the
scene's own layers are never edited and :meth:`CameraJitterRandomizer.restore` removes every trace.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom

from omni.sdg_studio.core.recorder.config import CameraJitter


def jitter_offsets(seed: int, index: int, count: int, jitter: CameraJitter) -> np.ndarray:
    """``(count, 6)`` offsets (dx, dy, dz, rx, ry, rz) for frame ``index``: a pure function of seed and frame."""
    rng = np.random.default_rng([seed, index])
    position = rng.uniform(-jitter.position, jitter.position, size=(count, 3))
    rotation = rng.uniform(-jitter.rotation, jitter.rotation, size=(count, 3))
    return np.hstack([position, rotation])


def jittered(base: Gf.Matrix4d, offset: Sequence[float]) -> Gf.Matrix4d:
    """``base`` turned about its own origin by (rx, ry, rz) degrees and moved by (dx, dy, dz) parent units."""
    dx, dy, dz, rx, ry, rz = (float(v) for v in offset)
    turn = Gf.Rotation(Gf.Vec3d(1, 0, 0), rx) * Gf.Rotation(Gf.Vec3d(0, 1, 0), ry) * Gf.Rotation(Gf.Vec3d(0, 0, 1), rz)
    out = Gf.Matrix4d().SetRotate(turn) * base
    out.SetTranslateOnly(base.ExtractTranslation() + Gf.Vec3d(dx, dy, dz))
    return out


class CameraJitterRandomizer:
    """Moves ``cameras`` by seeded random offsets before each frame; :meth:`restore` undoes it."""

    def __init__(self, stage: Usd.Stage, cameras: Sequence[str], jitter: CameraJitter, seed: int) -> None:
        self.stage = stage
        self.cameras = list(dict.fromkeys(cameras))
        self.jitter = jitter
        self.seed = seed
        self._base = {
            path: UsdGeom.Xformable(stage.GetPrimAtPath(path)).GetLocalTransformation() for path in self.cameras
        }
        self._layer: Sdf.Layer | None = None

    def apply(self, index: int) -> None:
        """Author frame ``index``'s camera poses."""
        layer = self._layer
        if layer is None:
            layer = self._layer = Sdf.Layer.CreateAnonymous("sdg_studio_camera_jitter")
            self.stage.GetSessionLayer().subLayerPaths.insert(0, layer.identifier)
        offsets = jitter_offsets(self.seed, index, len(self.cameras), self.jitter)
        with Usd.EditContext(self.stage, Usd.EditTarget(layer)):
            for path, offset in zip(self.cameras, offsets, strict=True):
                op = UsdGeom.Xformable(self.stage.GetPrimAtPath(path)).MakeMatrixXform()
                op.Set(jittered(self._base[path], offset))

    def restore(self) -> None:
        """Remove the jitter layer: the cameras are back where the scene puts them."""
        if self._layer is None:
            return
        sublayers = self.stage.GetSessionLayer().subLayerPaths
        if self._layer.identifier in sublayers:
            sublayers.remove(self._layer.identifier)
        self._layer = None
