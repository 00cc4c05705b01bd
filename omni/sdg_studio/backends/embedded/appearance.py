"""The base color a prim is shaded with: bound material's diffuse color, else ``displayColor``.

Understood materials: ``UsdPreviewSurface`` (``diffuseColor``, or the ``fallback`` of a texture
connected to it) and Kit's MDL ``OmniPBR`` / ``OmniSurface`` constants. Colors are linear RGB.
"""

from __future__ import annotations

import numpy as np
from pxr import Usd, UsdGeom, UsdShade

DEFAULT_COLOR = (0.5, 0.5, 0.5)
_MDL_COLOR_INPUTS = ("diffuse_color_constant", "diffuse_reflection_color", "base_color")


def _color_of_input(shader_input: UsdShade.Input) -> tuple[float, float, float] | None:
    """Constant value of a color input, following one connection to a texture's ``fallback``."""
    value = None
    if shader_input.HasConnectedSource():
        sources = shader_input.GetConnectedSources()[0]
        if sources:
            fallback = UsdShade.Shader(sources[0].source.GetPrim()).GetInput("fallback")
            value = fallback.Get() if fallback else None
    else:
        value = shader_input.Get()
    if value is None:
        return None
    rgb = tuple(float(v) for v in list(value)[:3])
    return (rgb[0], rgb[1], rgb[2]) if len(rgb) == 3 else None


def material_color(material: UsdShade.Material) -> tuple[float, float, float] | None:
    """Diffuse color of ``material``'s surface shader, or None when it is not a known constant."""
    shader = material.ComputeSurfaceSource()[0]
    if not shader:
        shader = material.ComputeSurfaceSource("mdl")[0]
    if not shader:
        return None
    names = ("diffuseColor", *_MDL_COLOR_INPUTS)
    for name in names:
        shader_input = shader.GetInput(name)
        if shader_input:
            color = _color_of_input(shader_input)
            if color is not None:
                return color
    return None


class ColorResolver:
    """Resolves and caches base colors per material."""

    def __init__(self) -> None:
        self._by_material: dict[str, tuple[float, float, float] | None] = {}

    def color(self, prim: Usd.Prim, time: Usd.TimeCode) -> tuple[float, float, float]:
        """Material diffuse color if a known material is bound, else the (mean) display color."""
        material = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()[0]
        if material:
            key = str(material.GetPath())
            if key not in self._by_material:
                self._by_material[key] = material_color(material)
            found = self._by_material[key]
            if found is not None:
                return found
        primvar = UsdGeom.PrimvarsAPI(prim).FindPrimvarWithInheritance("displayColor")
        if primvar and primvar.HasValue():
            value = primvar.Get(time)
            if value is not None and len(value):
                mean = np.asarray(value, np.float64).reshape(-1, 3).mean(axis=0)
                if np.isfinite(mean).all():
                    return (float(mean[0]), float(mean[1]), float(mean[2]))
        return DEFAULT_COLOR
