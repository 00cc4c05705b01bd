"""The stage's lights and the simple shading of the ``rgb`` annotator.

``rgb`` is Lambert plus ambient, no shadows. Each light's strength is what ``UsdLux`` defines, with
every attribute the stage leaves unauthored at the schema's own value (a ``DistantLight``'s
``intensity`` is 50000, a ``DomeLight``'s 1): ``intensity * 2 ** exposure * color * diffuse``, times
the blackbody color when ``enableColorTemperature`` is on, times the light's area for sphere, rect,
disk and cylinder lights unless ``normalize`` is on. Distant lights give ``n . L``; positional lights
``n . L / distance²`` (from the light's center); dome lights a uniform ambient.

Exposure, one per stage (so frames of a stage share a brightness): the ambient part is raised to at
least :data:`AMBIENT_FLOOR` of the brightest total (the dome's color, or white without a dome), so no
face is black only because the dome is weak next to the sun; then everything is scaled so that a white
surface facing every light is white. A stage without lights gets a headlight from the camera plus some
ambient. The result is encoded as sRGB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pxr import Usd, UsdGeom, UsdLux

from omni.sdg_studio.backends.embedded.vectors import dot3

_HEADLIGHT = 0.75
_HEADLIGHT_AMBIENT = 0.25
#: Smallest share of the exposure reference the ambient light gets.
AMBIENT_FLOOR = 0.15


@dataclass(frozen=True)
class Lighting:
    """Light contributions, already scaled by the stage's exposure."""

    ambient: np.ndarray
    distant_directions: np.ndarray
    distant_colors: np.ndarray
    point_positions: np.ndarray
    point_colors: np.ndarray
    background: np.ndarray


def _light_color(prim: Usd.Prim, time: Usd.TimeCode) -> np.ndarray:
    """A light's radiant color as ``UsdLux`` defines it, unauthored attributes at the schema's values."""
    light = UsdLux.LightAPI(prim)

    def value(attribute: Usd.Attribute, default):
        found = attribute.Get(time) if attribute else None
        return default if found is None else found

    rgb = np.asarray(value(light.GetColorAttr(), (1.0, 1.0, 1.0)), np.float64)
    if value(light.GetEnableColorTemperatureAttr(), False):
        rgb = rgb * np.asarray(UsdLux.BlackbodyTemperatureAsRgb(float(value(light.GetColorTemperatureAttr(), 6500))))
    strength = float(value(light.GetIntensityAttr(), 1.0)) * 2.0 ** float(value(light.GetExposureAttr(), 0.0))
    strength *= float(value(light.GetDiffuseAttr(), 1.0))
    if not value(light.GetNormalizeAttr(), False):
        strength *= _area(prim, time)
    color = rgb * strength
    return np.where(np.isfinite(color), np.maximum(color, 0.0), 0.0)


def _area(prim: Usd.Prim, time: Usd.TimeCode) -> float:
    """Emitting area of a positional light (1 for distant and dome lights)."""

    def get(attribute: Usd.Attribute) -> float:
        return float(attribute.Get(time))

    if prim.IsA(UsdLux.SphereLight):
        return float(np.pi * get(UsdLux.SphereLight(prim).GetRadiusAttr()) ** 2)
    if prim.IsA(UsdLux.DiskLight):
        return float(np.pi * get(UsdLux.DiskLight(prim).GetRadiusAttr()) ** 2)
    if prim.IsA(UsdLux.RectLight):
        rect = UsdLux.RectLight(prim)
        return get(rect.GetWidthAttr()) * get(rect.GetHeightAttr())
    if prim.IsA(UsdLux.CylinderLight):
        cylinder = UsdLux.CylinderLight(prim)
        return 2.0 * get(cylinder.GetRadiusAttr()) * get(cylinder.GetLengthAttr())
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


def read_lights(stage: Usd.Stage, paths: list[str], time: Usd.TimeCode, scene_center: np.ndarray) -> StageLights:
    """Lights at ``paths`` of ``stage`` at ``time``, exposed for a scene centered at ``scene_center``."""
    xforms = UsdGeom.XformCache(time)
    ambient = np.zeros(3)
    directions, distant, positions, points = [], [], [], []
    for path in paths:
        prim = stage.GetPrimAtPath(path)
        if not prim or not prim.HasAPI(UsdLux.LightAPI):
            continue
        imageable = UsdGeom.Imageable(prim)
        if imageable and imageable.ComputeVisibility(time) == UsdGeom.Tokens.invisible:
            continue
        color = _light_color(prim, time)
        matrix = np.array(xforms.GetLocalToWorldTransform(prim), np.float64).reshape(4, 4)
        if prim.IsA(UsdLux.DomeLight) or prim.IsA(UsdLux.DomeLight_1):
            ambient += color
        elif prim.IsA(UsdLux.DistantLight):
            axis = matrix[2, :3]
            norm = np.linalg.norm(axis)
            if norm > 0:
                directions.append(axis / norm)
                distant.append(color)
        elif not prim.IsA(UsdGeom.Gprim):  # mesh lights (MeshLightAPI) are not modeled
            positions.append(matrix[3, :3])
            points.append(color)
    point_positions = np.array(positions, np.float64).reshape(-1, 3)
    point_colors = np.array(points, np.float64).reshape(-1, 3)
    direct_colors = np.array(distant, np.float64).reshape(-1, 3)
    if not directions and not points and not ambient.any():
        return StageLights(None)
    distances = np.maximum(np.linalg.norm(point_positions - scene_center, axis=1), 1e-3)
    direct = direct_colors.sum(axis=0) + np.sum(point_colors / distances[:, None] ** 2, axis=0)
    raised = _raised_ambient(ambient, direct)
    scale = 1.0 / max(float((direct + raised).max()), 1e-12)
    return StageLights(
        Lighting(
            ambient=raised * scale,
            distant_directions=np.array(directions, np.float64).reshape(-1, 3),
            distant_colors=direct_colors * scale,
            point_positions=point_positions,
            point_colors=point_colors * scale,
            background=np.clip(raised * scale, 0.0, 1.0) if ambient.any() else np.zeros(3),
        )
    )


def _raised_ambient(ambient: np.ndarray, direct: np.ndarray) -> np.ndarray:
    """The ambient light raised to :data:`AMBIENT_FLOOR` of the total, keeping the dome's color."""
    strongest = float(ambient.max())
    tint = ambient / strongest if strongest > 0 else np.ones(3)
    # ``a`` such that a / max(direct + a * tint) >= floor: a >= floor * max(direct) / (1 - floor) suffices.
    needed = AMBIENT_FLOOR * float(direct.max()) / (1.0 - AMBIENT_FLOOR)
    return tint * max(strongest, needed)


def irradiance(lighting: Lighting, normals: np.ndarray, points: np.ndarray | None) -> np.ndarray:
    """Relative irradiance (N, 3) float32 at surfaces with unit ``normals`` (N, 3) at ``points``."""
    normals = np.asarray(normals, np.float32)
    result = np.empty(normals.shape, np.float32)
    result[:] = lighting.ambient.astype(np.float32)
    for direction, color in zip(lighting.distant_directions, lighting.distant_colors, strict=True):
        cosine = np.maximum(dot3(normals, direction), 0.0)
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
