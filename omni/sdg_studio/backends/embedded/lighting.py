"""The stage's lights and the simple shading of the ``rgb`` annotator.

``rgb`` is Lambert plus ambient, no shadows: each surface gets its base color times the
irradiance of distant lights (``n . L``), positional lights (sphere, rect, disk, cylinder:
intensity x area x ``n . L`` / distance squared) and dome lights (ambient). Light intensity is
``intensity * 2 ** exposure * color``. One exposure per stage maps a white surface that faces
every light to white, so frames of one stage share a brightness. A stage without lights gets a
headlight from the camera plus some ambient. The result is encoded as sRGB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pxr import Usd, UsdGeom, UsdLux

_HEADLIGHT = 0.75
_HEADLIGHT_AMBIENT = 0.25


@dataclass(frozen=True)
class Lighting:
    """Light contributions, already scaled by the stage's exposure."""

    ambient: np.ndarray
    distant_directions: np.ndarray
    distant_colors: np.ndarray
    point_positions: np.ndarray
    point_colors: np.ndarray
    background: np.ndarray


def _light_color(light: UsdLux.LightAPI, time: Usd.TimeCode) -> np.ndarray:
    intensity = float(light.GetIntensityAttr().Get(time) or 0.0)
    exposure = float(light.GetExposureAttr().Get(time) or 0.0)
    color = light.GetColorAttr().Get(time)
    rgb = np.asarray(color if color is not None else (1.0, 1.0, 1.0), np.float64)
    return rgb * intensity * 2.0**exposure


def _area(prim: Usd.Prim, time: Usd.TimeCode) -> float:
    def get(name: str, default: float) -> float:
        attr = prim.GetAttribute(name)
        value = attr.Get(time) if attr else None
        return float(default if value is None else value)

    if prim.IsA(UsdLux.SphereLight) or prim.IsA(UsdLux.DiskLight):
        return float(np.pi * get("inputs:radius", 0.5) ** 2)
    if prim.IsA(UsdLux.RectLight):
        return get("inputs:width", 1.0) * get("inputs:height", 1.0)
    if prim.IsA(UsdLux.CylinderLight):
        return 2.0 * get("inputs:radius", 0.5) * get("inputs:length", 1.0)
    return 1.0


@dataclass(frozen=True)
class StageLights:
    """The lights of a stage at one time; ``None`` lighting means "no lights: use a headlight"."""

    lighting: Lighting | None

    def for_view(self, view_dir: np.ndarray) -> Lighting:
        """The lighting for a camera looking along unit ``view_dir`` (places the fallback headlight)."""
        if self.lighting is not None:
            return self.lighting
        return Lighting(
            ambient=np.full(3, _HEADLIGHT_AMBIENT),
            distant_directions=-np.asarray(view_dir, np.float64).reshape(1, 3),
            distant_colors=np.full((1, 3), _HEADLIGHT),
            point_positions=np.zeros((0, 3)),
            point_colors=np.zeros((0, 3)),
            background=np.zeros(3),
        )


def read_lights(stage: Usd.Stage, time: Usd.TimeCode, scene_center: np.ndarray) -> StageLights:
    """Lights of ``stage`` at ``time``, exposed for a scene centered at ``scene_center``."""
    xforms = UsdGeom.XformCache(time)
    ambient = np.zeros(3)
    directions, distant, positions, points = [], [], [], []
    for prim in stage.Traverse():
        if not prim.HasAPI(UsdLux.LightAPI):
            continue
        imageable = UsdGeom.Imageable(prim)
        if imageable and imageable.ComputeVisibility(time) == UsdGeom.Tokens.invisible:
            continue
        color = _light_color(UsdLux.LightAPI(prim), time)
        matrix = np.array(xforms.GetLocalToWorldTransform(prim), np.float64).reshape(4, 4)
        if prim.IsA(UsdLux.DomeLight):
            ambient += color
        elif prim.IsA(UsdLux.DistantLight):
            axis = matrix[2, :3]
            norm = np.linalg.norm(axis)
            if norm > 0:
                directions.append(axis / norm)
                distant.append(color)
        else:
            positions.append(matrix[3, :3])
            points.append(color * _area(prim, time))
    point_positions = np.array(positions, np.float64).reshape(-1, 3)
    point_colors = np.array(points, np.float64).reshape(-1, 3)
    if not directions and not points and not ambient.any():
        return StageLights(None)
    distances = np.maximum(np.linalg.norm(point_positions - scene_center, axis=1), 1e-3)
    reference = ambient + np.sum(distant, axis=0) + np.sum(point_colors / distances[:, None] ** 2, axis=0)
    scale = 1.0 / max(float(reference.max()), 1e-12)
    return StageLights(
        Lighting(
            ambient=ambient * scale,
            distant_directions=np.array(directions, np.float64).reshape(-1, 3),
            distant_colors=np.array(distant, np.float64).reshape(-1, 3) * scale,
            point_positions=point_positions,
            point_colors=point_colors * scale,
            background=np.clip(ambient * scale, 0.0, 1.0),
        )
    )


def irradiance(lighting: Lighting, normals: np.ndarray, points: np.ndarray | None) -> np.ndarray:
    """Relative irradiance (N, 3) float32 at surfaces with unit ``normals`` (N, 3) at ``points``."""
    normals = np.asarray(normals, np.float32)
    result = np.empty(normals.shape, np.float32)
    result[:] = lighting.ambient.astype(np.float32)
    for direction, color in zip(lighting.distant_directions, lighting.distant_colors, strict=True):
        cosine = np.maximum(normals @ direction.astype(np.float32), 0.0)
        result += cosine[:, None] * color.astype(np.float32)
    if points is not None:
        for position, color in zip(lighting.point_positions, lighting.point_colors, strict=True):
            to_light = position.astype(np.float32) - points
            dist2 = np.maximum(np.einsum("ij,ij->i", to_light, to_light), 1e-6)
            cosine = np.maximum(np.einsum("ij,ij->i", normals, to_light), 0.0) / np.sqrt(dist2)
            result += (cosine / dist2)[:, None] * color.astype(np.float32)
    return result


_SRGB_STEPS = 4096


def _srgb_table() -> np.ndarray:
    linear = np.linspace(0.0, 1.0, _SRGB_STEPS + 1)
    encoded = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.round(encoded * 255).astype(np.uint8)


SRGB_TABLE = _srgb_table()


def to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear [0, 1] values to sRGB-encoded uint8 (values outside are clipped)."""
    index = np.clip(linear * _SRGB_STEPS + 0.5, 0, _SRGB_STEPS).astype(np.int32)
    return SRGB_TABLE[index]
