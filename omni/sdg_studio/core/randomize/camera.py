"""``camera``: where each selected camera stands and looks, its roll, focal length and jitter.

The eye is a ``position`` (as in ``pose``), a point on an ``orbit`` around the ``look_at`` target, or
where the scene puts it. ``look_at`` (a prim: the center of its box, or a point) turns local -Z toward
the target with local +Y toward the up axis; ``roll`` then turns the camera about its view axis.
``jitter`` last moves the camera's own transform by up to ``position`` units and turns it by up to
``rotation`` degrees about its own X, Y, Z (what the recorder's camera jitter did).
"""

from __future__ import annotations

import numpy as np
from pxr import Sdf, UsdGeom

from omni.sdg_studio.core.randomize.context import Applied, Binding, FrameContext, Randomizer, Read, parent_reads
from omni.sdg_studio.core.randomize.geometry import homogeneous, prim_box
from omni.sdg_studio.core.randomize.placement import Positions
from omni.sdg_studio.core.randomize.scenario import CameraSpec, JitterSpec
from omni.sdg_studio.core.randomize.transforms import axis_rotation, compose, decompose, euler_xyz, look_at

FOCAL_LENGTH = "focalLength"


def jitter_offsets(rng: np.random.Generator, count: int, jitter: JitterSpec) -> np.ndarray:
    """``(count, 6)`` offsets (dx, dy, dz, rx, ry, rz), uniform within +/- the jitter's bounds."""
    position = rng.uniform(-jitter.position, jitter.position, size=(count, 3))
    rotation = rng.uniform(-jitter.rotation, jitter.rotation, size=(count, 3))
    return np.hstack([position, rotation])


def jittered(local: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``local`` transforms ``(n, 4, 4)`` turned about their own origin by (rx, ry, rz) degrees (X, then Y,
    then Z) and moved by (dx, dy, dz) parent units."""
    out = local.copy()
    out[:, :3, :3] = euler_xyz(offsets[:, 3:]) @ local[:, :3, :3]
    out[:, 3, :3] = local[:, 3, :3] + offsets[:, :3]
    return out


class CameraRandomizer(Randomizer[CameraSpec]):
    """``type: camera``."""

    def __init__(self, spec: CameraSpec, binding: Binding) -> None:
        self.spec = spec
        self.prims = binding.select(spec, spec.select)
        not_cameras = [n for p, n in zip(self.prims.prims, self.prims.names, strict=True) if not p.IsA(UsdGeom.Camera)]
        if not_cameras:
            raise binding.error(
                (*spec.at, "select"), f"select picks prims that are no cameras: {', '.join(not_cameras)}"
            )
        self.positions = Positions(binding, spec.position) if spec.position else None
        self.target = (
            binding.prim((*spec.at, "look_at"), spec.look_at, "look_at") if isinstance(spec.look_at, str) else None
        )

    def reads(self) -> list[Read]:
        reads = [*parent_reads(self.prims), *(self.positions.reads() if self.positions else [])]
        if self.target is not None:
            reads.append(Read(self.target.GetPath(), "shape"))
        return reads

    def writes(self) -> list[Sdf.Path]:
        return list(self.prims.paths)

    def _target(self, ctx: FrameContext) -> np.ndarray:
        if self.target is None:
            return np.asarray(self.spec.look_at, np.float64)
        box = prim_box(self.target, ctx.xforms(), ctx.time)
        world = ctx.world([self.target])[0]
        return homogeneous(box, world).mean(axis=0) if box is not None else world[3, :3]

    def apply(self, ctx: FrameContext, rng: np.random.Generator, step: int) -> Applied:
        spec, count = self.spec, len(self.prims)
        scale, rotation, eyes = decompose(ctx.world(self.prims.prims))
        values: dict[str, np.ndarray] = {}
        target = self._target(ctx) if spec.look_at is not None else None
        if self.positions is not None:
            eyes, values = self.positions.sample(ctx, rng, step, count)
        elif spec.orbit is not None and target is not None:
            distance = spec.orbit.distance.sample(rng, count, step).reshape(count)
            azimuth = spec.orbit.azimuth.sample(rng, count, step).reshape(count)
            elevation = spec.orbit.elevation.sample(rng, count, step).reshape(count)
            eyes = target + distance[:, None] * ctx.basis.direction(azimuth, elevation)
            values |= {"distance": distance, "azimuth": azimuth, "elevation": elevation}
        roll = spec.roll.sample(rng, count, step).reshape(count) if spec.roll is not None else np.zeros(count)
        if target is not None:
            rotation = look_at(eyes, np.broadcast_to(target, eyes.shape), ctx.basis, roll)
            values["target"] = np.asarray(target, np.float64)
        elif spec.roll is not None:
            rotation = axis_rotation(np.array([0.0, 0.0, 1.0]), roll) @ rotation
        if spec.roll is not None:
            values["roll"] = roll
        world = compose(scale, rotation, eyes)
        values = {"position": eyes.copy(), **values}
        if spec.focal_length is not None:
            focal = spec.focal_length.sample(rng, count, step).reshape(count).astype(np.float64)
            values["focal_length"] = focal
            with ctx.layer.batch():
                for path, value in zip(self.prims.paths, focal.tolist(), strict=True):
                    ctx.layer.set_attribute(path, FOCAL_LENGTH, Sdf.ValueTypeNames.Float, value)
        posed = spec.position is not None or spec.orbit is not None or target is not None or spec.roll is not None
        if spec.jitter is None:
            if posed:
                ctx.author_world(self.prims, world)
            return Applied(self.prims.names, values)
        local = (
            world @ np.linalg.inv(ctx.world([p.GetParent() for p in self.prims.prims]))
            if posed
            else ctx.local(self.prims.prims)
        )
        offsets = jitter_offsets(rng, count, spec.jitter)
        values["jitter"] = offsets
        ctx.author_local(self.prims.paths, jittered(local, offsets))
        return Applied(self.prims.names, values)
