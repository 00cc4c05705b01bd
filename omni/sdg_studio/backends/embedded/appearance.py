"""What a prim is shaded with: its bound material's diffuse color or texture, else ``displayColor``.

Understood materials: ``UsdPreviewSurface`` (``diffuseColor`` as a constant, or from a ``UsdUVTexture``
reading PNG / JPEG through Pillow with texture coordinates from a ``UsdPrimvarReader_float2``, optionally
through a ``UsdTransform2d``) and Kit's MDL ``OmniPBR`` / ``OmniSurface`` constants. Colors are linear RGB.
A texture that cannot be read gives its ``fallback``; geometry without the texture coordinates gets the
texture's average color. Materials of other kinds (MaterialX, other MDL) leave ``displayColor`` (or
gray) and are reported once, by name, in one warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from pxr import Sdf, Usd, UsdGeom, UsdShade

from omni.sdg_studio.backends.embedded.tessellate import LocalMesh
from omni.sdg_studio.backends.embedded.textures import WRAP_MODES, Texture, TextureError, load_texture

logger = logging.getLogger(__name__)

DEFAULT_COLOR = (0.5, 0.5, 0.5)
_MDL_COLOR_INPUTS = ("diffuse_color_constant", "diffuse_reflection_color", "base_color")
Color = tuple[float, float, float]


@dataclass(frozen=True)
class Appearance:
    """Base color of a geometry, and its diffuse texture with per-corner texture coordinates if it has one."""

    color: Color
    texture: Texture | None = None
    #: Texture coordinates of every triangle corner (m, 3, 2) float32.
    st: np.ndarray | None = None


@dataclass(frozen=True)
class _TextureLook:
    texture: Texture
    primvar: str
    #: 2x3 affine map applied to st (a ``UsdTransform2d``), or None.
    transform: np.ndarray | None


@dataclass(frozen=True)
class _Look:
    """What a material gives: a constant color, a texture, or nothing understood."""

    color: Color | None
    texture: _TextureLook | None = None


def _rgb(value: object) -> Color | None:
    if value is None:
        return None
    try:
        rgb = [float(v) for v in list(value)[:3]]  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return (rgb[0], rgb[1], rgb[2]) if len(rgb) == 3 and np.isfinite(rgb).all() else None


def _source(shader_input: UsdShade.Input) -> tuple[Usd.Attribute | None, object]:
    """The attribute that produces an input's value (a shader output, or an authored input) and its value."""
    attributes = shader_input.GetValueProducingAttributes()
    if not attributes:
        return None, shader_input.Get()
    attribute = attributes[0]
    return attribute, None if UsdShade.Output.IsOutput(attribute) else attribute.Get()


def _input_value(shader: UsdShade.Shader, name: str, default: object) -> object:
    shader_input = shader.GetInput(name)
    if not shader_input:
        return default
    _, value = _source(shader_input)
    return default if value is None else value


class AppearanceResolver:
    """Resolves appearances, caching per material and per texture file; collects what it could not use."""

    def __init__(self, stage: Usd.Stage) -> None:
        self._stage = stage
        self._looks: dict[str, _Look] = {}
        self._textures: dict[tuple[str, str, str, str, tuple, tuple], Texture | None] = {}
        #: Files that could not be read -> why (reported once per file).
        self.unreadable: dict[str, str] = {}
        #: Materials whose surface is not understood.
        self.unknown_materials: set[str] = set()

    def materials_of(self, paths: set[str]) -> set[str]:
        """The materials holding the shader or node-graph prims ``paths``; their cached looks are dropped."""
        found = set()
        for path in paths:
            prim = self._stage.GetPrimAtPath(path)
            while prim and not prim.IsPseudoRoot() and not prim.IsA(UsdShade.Material):
                prim = prim.GetParent()
            found.add(str(prim.GetPath()) if prim and not prim.IsPseudoRoot() else path)
        self._looks = {k: v for k, v in self._looks.items() if k not in found}
        return found

    def appearance(self, prim: Usd.Prim, material: str, mesh: LocalMesh, time: Usd.TimeCode) -> Appearance:
        """The appearance of gprim ``prim`` bound to ``material`` (a path, or "" for none)."""
        look = self._look(material) if material else None
        if look is not None and look.texture is not None:
            st = _corner_st(prim, look.texture, mesh, time)
            if st is not None:
                return Appearance(_color3(look.texture.texture.mean), look.texture.texture, st)
            return Appearance(_color3(look.texture.texture.mean))
        if look is not None and look.color is not None:
            return Appearance(look.color)
        return Appearance(_display_color(prim, time))

    def _look(self, path: str) -> _Look:
        look = self._looks.get(path)
        if look is None:
            look = self._read_look(path)
            self._looks[path] = look
        return look

    def _read_look(self, path: str) -> _Look:
        material = UsdShade.Material(self._stage.GetPrimAtPath(path))
        if not material:
            return _Look(None)
        shader = material.ComputeSurfaceSource()[0] or material.ComputeSurfaceSource(["mdl"])[0]
        if not shader:
            self.unknown_materials.add(path)
            return _Look(None)
        for name in ("diffuseColor", *_MDL_COLOR_INPUTS):
            shader_input = shader.GetInput(name)
            if not shader_input:
                continue
            attribute, value = _source(shader_input)
            if attribute is not None and UsdShade.Output.IsOutput(attribute):
                texture = self._texture_look(UsdShade.Shader(attribute.GetPrim()))
                if texture is not None:
                    return _Look(None, texture)
                fallback = _rgb(_input_value(UsdShade.Shader(attribute.GetPrim()), "fallback", None))
                return _Look(fallback)
            color = _rgb(value)
            if color is not None:
                return _Look(color)
        if shader.GetShaderId() != "UsdPreviewSurface" and not shader.GetInput("diffuse_color_constant"):
            self.unknown_materials.add(path)
        return _Look(_rgb(_input_value(shader, "diffuseColor", None)))

    def _texture_look(self, shader: UsdShade.Shader) -> _TextureLook | None:
        if shader.GetShaderId() != "UsdUVTexture":
            return None
        asset: Any = _input_value(shader, "file", None)
        if not isinstance(asset, Sdf.AssetPath) or not asset.path:
            return None
        wrap_s, wrap_t = (str(_input_value(shader, n, "useMetadata")) for n in ("wrapS", "wrapT"))
        wrap_s, wrap_t = (w if w in WRAP_MODES else "repeat" for w in (wrap_s, wrap_t))
        scale = _rgb(_input_value(shader, "scale", None)) or (1.0, 1.0, 1.0)
        bias = _rgb(_input_value(shader, "bias", None)) or (0.0, 0.0, 0.0)
        space = str(_input_value(shader, "sourceColorSpace", "auto"))
        resolved = asset.resolvedPath or ""
        key = (resolved or asset.path, space, wrap_s, wrap_t, scale, bias)
        if key not in self._textures:
            try:
                if not resolved:
                    raise TextureError("cannot be resolved")
                self._textures[key] = load_texture(resolved, space, wrap_s, wrap_t, scale, bias)
            except TextureError as exc:
                self.unreadable[asset.path] = str(exc)
                self._textures[key] = None
        texture = self._textures[key]
        if texture is None:
            return None
        primvar, transform = _st_source(shader)
        return _TextureLook(texture, primvar, transform)


def _color3(values: np.ndarray) -> Color:
    return (float(values[0]), float(values[1]), float(values[2]))


def _st_source(texture: UsdShade.Shader) -> tuple[str, np.ndarray | None]:
    """The primvar a texture reads its coordinates from, and the ``UsdTransform2d`` on the way, if any."""
    st_input = texture.GetInput("st")
    if not st_input:
        return "st", None
    attribute, _ = _source(st_input)
    transform = None
    if attribute is not None and UsdShade.Output.IsOutput(attribute):
        node = UsdShade.Shader(attribute.GetPrim())
        if node.GetShaderId() == "UsdTransform2d":
            scale = np.asarray(_input_value(node, "scale", (1.0, 1.0)), np.float64)
            angle = np.radians(float(_input_value(node, "rotation", 0.0)))  # type: ignore[arg-type]
            shift = np.asarray(_input_value(node, "translation", (0.0, 0.0)), np.float64)
            rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            transform = np.column_stack([rotate * scale[None, :], shift])
            inner = node.GetInput("in")
            attribute = _source(inner)[0] if inner else None
    if attribute is not None and UsdShade.Output.IsOutput(attribute):
        reader = UsdShade.Shader(attribute.GetPrim())
        name = _input_value(reader, "varname", "st")
        return str(name) or "st", transform
    return "st", transform


def _corner_st(prim: Usd.Prim, look: _TextureLook, mesh: LocalMesh, time: Usd.TimeCode) -> np.ndarray | None:
    """Texture coordinates (m, 3, 2) of every triangle corner of ``mesh``, or None if the prim has none."""
    primvar = UsdGeom.PrimvarsAPI(prim).FindPrimvarWithInheritance(look.primvar)
    if not primvar or not primvar.HasValue():
        return None
    values = primvar.ComputeFlattened(time)
    if values is None:
        return None
    st = np.asarray(values, np.float64).reshape(-1, 2)
    interpolation = primvar.GetInterpolation()
    if interpolation == UsdGeom.Tokens.faceVarying and mesh.face_vertices is not None:
        index = mesh.face_vertices
    elif interpolation in (UsdGeom.Tokens.vertex, UsdGeom.Tokens.varying):
        index = mesh.triangles
    elif interpolation == UsdGeom.Tokens.uniform and mesh.faces is not None:
        index = np.repeat(mesh.faces[:, None], 3, axis=1)
    elif interpolation == UsdGeom.Tokens.constant and len(st):
        index = np.zeros(mesh.triangles.shape, np.int64)
    else:
        return None
    if not len(index) or int(index.max(initial=0)) >= len(st):
        return None
    corners = st[index]
    if look.transform is not None:
        corners = corners @ look.transform[:, :2].T + look.transform[:, 2]
    return corners.astype(np.float32)


def _display_color(prim: Usd.Prim, time: Usd.TimeCode) -> Color:
    primvar = UsdGeom.PrimvarsAPI(prim).FindPrimvarWithInheritance("displayColor")
    if primvar and primvar.HasValue():
        value = primvar.Get(time)
        if value is not None and len(value):
            mean = np.asarray(value, np.float64).reshape(-1, 3).mean(axis=0)
            if np.isfinite(mean).all():
                return _color3(mean)
    return DEFAULT_COLOR


def bound_material(prim: Usd.Prim) -> str:
    """Path of the material bound to ``prim`` (full purpose), or "" for none."""
    material = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()[0]
    return str(material.GetPath()) if material else ""
