"""``color``, ``material`` and ``visibility``: how selected prims look, not where they are.

A color goes to ``primvars:displayColor`` of every gprim at or under a selected prim and/or to the
``diffuseColor`` input of the ``UsdPreviewSurface`` bound to it (a material's color is shared by every
prim bound to that material). A material swap binds a material prim (``MaterialBindingAPI``,
``strongerThanDescendants`` by default so bindings below do not win). Visibility writes ``visibility``.
"""

from __future__ import annotations

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade

from omni.sdg_studio.core.randomize.context import Applied, Binding, FrameContext, Randomizer
from omni.sdg_studio.core.randomize.distributions import Choice, Constant, Sequence
from omni.sdg_studio.core.randomize.geometry import TRAVERSAL
from omni.sdg_studio.core.randomize.scenario import ColorSpec, MaterialSpec, VisibilitySpec

DISPLAY_COLOR = "primvars:displayColor"
DIFFUSE_COLOR = "inputs:diffuseColor"
MATERIAL_BINDING = "material:binding"


def gprims_under(prim: Usd.Prim) -> list[Usd.Prim]:
    """``prim`` if it is a gprim, else the editable gprims below it."""
    if prim.IsA(UsdGeom.Gprim):
        return [prim]
    return [p for p in Usd.PrimRange(prim, TRAVERSAL) if p.IsA(UsdGeom.Gprim) and not p.IsInstanceProxy()]


def preview_surface(material: UsdShade.Material) -> Usd.Prim | None:
    """The material's ``UsdPreviewSurface`` shader prim, when its surface is one."""
    shader = material.ComputeSurfaceSource()[0]
    if shader and shader.GetIdAttr().Get() == "UsdPreviewSurface":
        return shader.GetPrim()
    return None


class ColorRandomizer(Randomizer[ColorSpec]):
    """``type: color``."""

    def __init__(self, spec: ColorSpec, binding: Binding) -> None:
        self.spec = spec
        self.prims = binding.select(spec, spec.select)
        self.gprims = [gprims_under(p) for p in self.prims.prims]

    def apply(self, ctx: FrameContext, rng: np.random.Generator, step: int) -> Applied:
        spec = self.spec
        assert spec.rgb is not None
        colors = spec.rgb.sample(rng, len(self.prims), step).astype(np.float64)
        shaders: dict[Sdf.Path, Gf.Vec3f] = {}
        notes: list[str] = []
        color_type, array_type = Sdf.ValueTypeNames.Color3f, Sdf.ValueTypeNames.Color3fArray
        with ctx.layer.batch():
            for name, gprims, rgb in zip(self.prims.names, self.gprims, colors.tolist(), strict=True):
                value = Gf.Vec3f(*rgb)
                for gprim in gprims:
                    if "display_color" in spec.targets:
                        ctx.layer.set_attribute(
                            gprim.GetPath(), DISPLAY_COLOR, array_type, [value], info={"interpolation": "constant"}
                        )
                    if "diffuse_color" in spec.targets:
                        material = UsdShade.MaterialBindingAPI(gprim).ComputeBoundMaterial()[0]
                        shader = preview_surface(material) if material else None
                        if shader is None:
                            continue
                        connected = UsdShade.Shader(shader).GetInput("diffuseColor")
                        if connected and connected.HasConnectedSource():
                            notes.append(f"{name}: diffuseColor of {shader.GetPath()} is a texture; left")
                            continue
                        shaders.setdefault(shader.GetPath(), value)
            for path, value in shaders.items():
                ctx.layer.set_attribute(path, DIFFUSE_COLOR, color_type, value)
        ctx.refresh()
        values = {"rgb": colors, "shaders": sorted(str(p) for p in shaders)}
        return Applied(self.prims.names, values, sorted(set(notes)))


def material_paths(spec: MaterialSpec) -> list[str]:
    """Every material path the spec can bind."""
    materials = spec.materials
    if isinstance(materials, Constant):
        return [str(materials.value)]
    if isinstance(materials, Choice):
        return [str(v) for v in materials.options]
    if isinstance(materials, Sequence):
        return [str(v) for v in materials.items]
    return []


class MaterialRandomizer(Randomizer[MaterialSpec]):
    """``type: material``."""

    def __init__(self, spec: MaterialSpec, binding: Binding) -> None:
        self.spec = spec
        self.prims = binding.select(spec, spec.select)
        for path in material_paths(spec):
            at = (*spec.at, "materials")
            if not Sdf.Path.IsValidPathString(path) or not Sdf.Path(path).IsAbsolutePath():
                raise binding.error(at, f"{path!r} is not an absolute material prim path")
            if not binding.prim(at, path, "material").IsA(UsdShade.Material):
                raise binding.error(
                    at, f"{path} is a {binding.stage.GetPrimAtPath(path).GetTypeName()}, not a Material"
                )

    def apply(self, ctx: FrameContext, rng: np.random.Generator, step: int) -> Applied:
        assert self.spec.materials is not None
        picks = self.spec.materials.sample(rng, len(self.prims), step)
        strength = "strongerThanDescendants" if self.spec.stronger_than_descendants else "weakerThanDescendants"
        with ctx.layer.batch():
            for path, material in zip(self.prims.paths, picks.tolist(), strict=True):
                ctx.layer.prepend_api_schema(path, "MaterialBindingAPI")
                ctx.layer.set_relationship(path, MATERIAL_BINDING, [Sdf.Path(material)], {"bindMaterialAs": strength})
        ctx.refresh()
        return Applied(self.prims.names, {"material": picks})


class VisibilityRandomizer(Randomizer[VisibilitySpec]):
    """``type: visibility``."""

    def __init__(self, spec: VisibilitySpec, binding: Binding) -> None:
        self.spec = spec
        self.prims = binding.select(spec, spec.select)

    def apply(self, ctx: FrameContext, rng: np.random.Generator, step: int) -> Applied:
        shown = rng.random(len(self.prims)) < self.spec.p
        token = Sdf.ValueTypeNames.Token
        with ctx.layer.batch():
            for path, visible in zip(self.prims.paths, shown.tolist(), strict=True):
                value = UsdGeom.Tokens.inherited if visible else UsdGeom.Tokens.invisible
                ctx.layer.set_attribute(path, UsdGeom.Tokens.visibility, token, value)
        ctx.refresh()
        return Applied(self.prims.names, {"visible": shown})
