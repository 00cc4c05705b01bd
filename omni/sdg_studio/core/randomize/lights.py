"""``light``: intensity, exposure, color or color temperature, distant-light direction, dome rotation.

Values go to the ``UsdLux`` inputs (``inputs:intensity``, ``inputs:exposure``, ``inputs:color``,
``inputs:enableColorTemperature`` + ``inputs:colorTemperature``). A distant light shines along its
local -Z: ``direction`` turns it so the light comes from ``elevation`` degrees above the horizon and
``azimuth`` degrees around the up axis. ``dome_rotation`` turns a dome light about the up axis.
"""

from __future__ import annotations

import numpy as np
from pxr import Gf, Sdf, UsdLux

from omni.sdg_studio.core.randomize.context import Applied, Binding, FrameContext, Randomizer, Read, parent_reads
from omni.sdg_studio.core.randomize.distributions import Distribution
from omni.sdg_studio.core.randomize.scenario import LightSpec
from omni.sdg_studio.core.randomize.transforms import axis_rotation, compose, decompose, look_at

_FLOAT, _BOOL, _COLOR = Sdf.ValueTypeNames.Float, Sdf.ValueTypeNames.Bool, Sdf.ValueTypeNames.Color3f


class LightRandomizer(Randomizer[LightSpec]):
    """``type: light``."""

    def __init__(self, spec: LightSpec, binding: Binding) -> None:
        self.spec = spec
        self.prims = binding.select(spec, spec.select)
        group = self.prims
        not_lights = [n for p, n in zip(group.prims, group.names, strict=True) if not p.HasAPI(UsdLux.LightAPI)]
        if not_lights:
            raise binding.error((*spec.at, "select"), f"select picks prims that are no lights: {', '.join(not_lights)}")
        self.distant = [i for i, p in enumerate(group.prims) if p.IsA(UsdLux.DistantLight)]
        self.domes = [i for i, p in enumerate(group.prims) if p.IsA(UsdLux.DomeLight)]
        if len(group) and (spec.elevation or spec.azimuth) and not self.distant:
            binding.warn((*spec.at, "direction"), "direction turns distant lights; select picks none")
        if len(group) and spec.dome_rotation and not self.domes:
            binding.warn((*spec.at, "dome_rotation"), "dome_rotation turns dome lights; select picks none")

    def reads(self) -> list[Read]:
        return parent_reads(self.prims)

    def apply(self, ctx: FrameContext, rng: np.random.Generator, step: int) -> Applied:
        spec, count = self.spec, len(self.prims)
        values: dict[str, np.ndarray] = {}

        def draw(name: str, distribution: Distribution | None) -> np.ndarray | None:
            if distribution is None:
                return None
            values[name] = distribution.sample(rng, count, step).astype(np.float64)
            return values[name]

        intensity = draw("intensity", spec.intensity)
        exposure = draw("exposure", spec.exposure)
        color = draw("color", spec.color)
        temperature = draw("temperature", spec.temperature)
        elevation = draw("elevation", spec.elevation)
        azimuth = draw("azimuth", spec.azimuth)
        dome = draw("dome_rotation", spec.dome_rotation)
        with ctx.layer.batch():
            for i, path in enumerate(self.prims.paths):
                if intensity is not None:
                    ctx.layer.set_attribute(path, "inputs:intensity", _FLOAT, float(intensity[i]))
                if exposure is not None:
                    ctx.layer.set_attribute(path, "inputs:exposure", _FLOAT, float(exposure[i]))
                if color is not None:
                    ctx.layer.set_attribute(path, "inputs:color", _COLOR, Gf.Vec3f(*color[i].tolist()))
                if temperature is not None:
                    ctx.layer.set_attribute(path, "inputs:enableColorTemperature", _BOOL, True)
                    ctx.layer.set_attribute(path, "inputs:colorTemperature", _FLOAT, float(temperature[i]))
        ctx.refresh()
        self._turn(ctx, elevation, azimuth, dome)
        return Applied(self.prims.names, values)

    def _turn(
        self, ctx: FrameContext, elevation: np.ndarray | None, azimuth: np.ndarray | None, dome: np.ndarray | None
    ) -> None:
        """Author the new orientations of distant lights (direction) and dome lights (rotation)."""
        moving = sorted(
            set(self.distant if elevation is not None or azimuth is not None else [])
            | set(self.domes if dome is not None else [])
        )
        if not moving:
            return
        prims = self.prims.subset([i in moving for i in range(len(self.prims))])
        scale, rotation, translation = decompose(ctx.world(prims.prims))
        basis = ctx.basis
        for row, i in enumerate(moving):
            if i in self.distant and (elevation is not None or azimuth is not None):
                toward = rotation[row, 2]  # local +Z: where the light comes from
                current_el = np.degrees(np.arcsin(np.clip(toward @ basis.up, -1.0, 1.0)))
                flat = basis.plane(toward)
                current_az = np.degrees(np.arctan2(flat[1], flat[0]))
                el = elevation[i] if elevation is not None else current_el
                az = azimuth[i] if azimuth is not None else current_az
                source = basis.direction(np.array([az]), np.array([el]))
                rotation[row] = look_at(source, np.zeros((1, 3)), basis, np.zeros(1))[0]
            if i in self.domes and dome is not None:
                rotation[row] = rotation[row] @ axis_rotation(basis.up, [dome[i]])[0]
        ctx.author_world(prims, compose(scale, rotation, translation))
