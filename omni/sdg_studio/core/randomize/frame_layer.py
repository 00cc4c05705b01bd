"""The anonymous layer a randomization writes into, under the stage's session layer.

The scene's own layers are never edited. Each frame starts from the scene as it is
(:meth:`FrameLayer.begin_frame`): values of the previous frame are cleared, or, for a prim's
transform, set back to the scene's own local transform (one write instead of clearing the transform
and its op order and writing both again; prims whose transform is animated or resets the transform
stack are cleared instead), and the prims spawned for it are removed. So whatever frame came before,
applying frame *j* leaves the same layer; at the end of a frame (:meth:`FrameLayer.end_frame`) the
specs the frame did not write are removed. Writes go through the Sdf API, one ``Sdf.ChangeBlock`` per
batch (:meth:`FrameLayer.batch`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pxr import Gf, Sdf, Usd, UsdGeom

#: Name of the layer (shown by USD tools as ``anon:...:sdg_studio_randomization``).
LAYER_TAG = "sdg_studio_randomization"
TRANSFORM_OP = "xformOp:transform"
OP_ORDER = [TRANSFORM_OP]


@dataclass
class _TransformSpecs:
    """A prim's ``xformOp:transform`` and ``xformOpOrder`` specs; ``rest`` is the scene's local transform
    held between frames (``None``: cleared between frames instead)."""

    op: Sdf.AttributeSpec
    order: Sdf.AttributeSpec
    rest: Gf.Matrix4d | None


class FrameLayer:
    """Writes one frame's values into an anonymous sublayer of ``stage``'s session layer."""

    def __init__(self, stage: Usd.Stage) -> None:
        self.stage = stage
        self.layer: Sdf.Layer | None = None
        self._attributes: dict[Sdf.Path, Sdf.AttributeSpec] = {}
        self._relationships: dict[Sdf.Path, Sdf.RelationshipSpec] = {}
        self._transforms: dict[Sdf.Path, _TransformSpecs] = {}
        self._transient: list[Sdf.Path] = []
        self._prims: set[Sdf.Path] = set()  # prim specs this layer holds for us
        self._written: set[Sdf.Path] = set()  # prims written this frame
        self._written_properties: set[Sdf.Path] = set()
        self._written_transforms: set[Sdf.Path] = set()

    # -- frame lifecycle -------------------------------------------------------------------------------------------
    def begin_frame(self) -> None:
        """Insert the layer if needed, then return the stage to the scene's state (specs stay for reuse)."""
        layer = self._ensure()
        with Sdf.ChangeBlock():
            for path in self._transient:
                self._remove_prim(layer, path)
            self._transient.clear()
            for spec in self._attributes.values():
                if spec.HasDefaultValue():
                    spec.ClearDefaultValue()
            for spec in self._relationships.values():
                spec.targetPathList.ClearEdits()
            for specs in self._transforms.values():
                if specs.rest is not None:
                    specs.op.default = specs.rest
                else:
                    specs.op.ClearDefaultValue()
                    specs.order.ClearDefaultValue()
        self._written.clear()
        self._written_properties.clear()
        self._written_transforms.clear()

    def end_frame(self) -> None:
        """Remove the properties and prims the frame did not write (so any frame order gives the same layer)."""
        layer = self._ensure()
        emptied: set[Sdf.Path] = set()
        with Sdf.ChangeBlock():
            if len(self._written_properties) < len(self._attributes) + len(self._relationships):
                for table in (self._attributes, self._relationships):
                    for path in [p for p in table if p not in self._written_properties]:
                        self._remove_property(table.pop(path))
                        emptied.add(path.GetPrimPath())
            if len(self._written_transforms) < len(self._transforms):
                for prim in [p for p in self._transforms if p not in self._written_transforms]:
                    specs = self._transforms.pop(prim)
                    self._remove_property(specs.op)
                    self._remove_property(specs.order)
                    emptied.add(prim)
            self._prune(layer, (self._prims - self._written) | emptied)

    def restore(self) -> None:
        """Take the layer out of the session layer: the stage is the scene again."""
        if self.layer is not None:
            sublayers = self.stage.GetSessionLayer().subLayerPaths
            if self.layer.identifier in sublayers:
                sublayers.remove(self.layer.identifier)
        self.layer = None
        for table in (self._attributes, self._relationships, self._transforms):
            table.clear()
        for paths in (self._prims, self._written, self._written_properties, self._written_transforms):
            paths.clear()
        self._transient.clear()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one ``Sdf.ChangeBlock`` (the stage sees them when the block ends)."""
        self._ensure()
        with Sdf.ChangeBlock():
            yield

    # -- writes ----------------------------------------------------------------------------------------------------
    def set_attribute(
        self,
        prim: Sdf.Path,
        name: str,
        type_name: Sdf.ValueTypeName,
        value: Any,
        *,
        uniform: bool = False,
        info: dict[str, Any] | None = None,
    ) -> None:
        """Author ``value`` as the default value of attribute ``name`` on ``prim``."""
        path = prim.AppendProperty(name)
        spec = self._attributes.get(path)
        if spec is None:
            spec = self._attributes[path] = self._attribute_spec(prim, name, type_name, uniform, info or {})
        spec.default = value
        self._written_properties.add(path)
        self._written.add(prim)

    def set_transforms(
        self,
        prims: Sequence[Sdf.Path],
        matrices: Sequence[Gf.Matrix4d],
        rest: Callable[[Sdf.Path], Gf.Matrix4d | None],
    ) -> None:
        """Give each prim one ``xformOp:transform`` (its local transform) and that op alone in its op order.

        ``rest(prim)`` is asked once per prim, before its first write: the scene's local transform of the
        prim to hold between frames, or ``None`` to clear it between frames.
        """
        written, transforms = self._written_transforms, self._transforms
        for prim, matrix in zip(prims, matrices, strict=True):
            specs = transforms.get(prim)
            if specs is None:
                held = rest(prim)
                op = self._attribute_spec(prim, TRANSFORM_OP, Sdf.ValueTypeNames.Matrix4d, False, {})
                order = self._attribute_spec(prim, UsdGeom.Tokens.xformOpOrder, Sdf.ValueTypeNames.TokenArray, True, {})
                order.default = OP_ORDER
                specs = transforms[prim] = _TransformSpecs(op, order, held)
            elif specs.rest is None:
                specs.order.default = OP_ORDER
            specs.op.default = matrix
            written.add(prim)
        self._written.update(prims)

    def set_relationship(self, prim: Sdf.Path, name: str, targets: Sequence[Sdf.Path], info: dict[str, Any]) -> None:
        """Author relationship ``name`` on ``prim`` with exactly ``targets``."""
        path = prim.AppendProperty(name)
        spec = self._relationships.get(path)
        if spec is None:
            owner = self._prim_spec(prim)
            spec = owner.relationships.get(name)
            if spec is None:
                spec = Sdf.RelationshipSpec(owner, name, custom=False)
            for key, item in info.items():
                spec.SetInfo(key, item)
            self._relationships[path] = spec
        spec.targetPathList.explicitItems = list(targets)
        self._written_properties.add(path)
        self._written.add(prim)

    def prepend_api_schema(self, prim: Sdf.Path, schema: str) -> None:
        """Apply ``schema`` to ``prim`` (a prepended ``apiSchemas`` item)."""
        spec = self._prim_spec(prim)
        current = spec.GetInfo("apiSchemas") if spec.HasInfo("apiSchemas") else Sdf.TokenListOp()
        items = list(current.prependedItems)
        if schema not in items:
            spec.SetInfo("apiSchemas", Sdf.TokenListOp.Create(prependedItems=[*items, schema]))

    def define(self, prim: Sdf.Path, type_name: str, *, reference: str | None = None, transient: bool) -> None:
        """``def`` a prim (referencing ``reference``'s default prim); a transient one lasts for this frame only."""
        spec = self._prim_spec(prim)
        spec.specifier = Sdf.SpecifierDef
        spec.typeName = type_name
        if reference is not None:
            spec.referenceList.explicitItems = [Sdf.Reference(reference)]
        if transient:
            self._transient.append(prim)

    # -- internals -------------------------------------------------------------------------------------------------
    def _ensure(self) -> Sdf.Layer:
        if self.layer is None:
            layer = Sdf.Layer.CreateAnonymous(LAYER_TAG)
            self.stage.GetSessionLayer().subLayerPaths.insert(0, layer.identifier)
            self.layer = layer
        return self.layer

    def _prim_spec(self, prim: Sdf.Path) -> Sdf.PrimSpec:
        layer = self._ensure()
        spec = layer.GetPrimAtPath(prim)
        if spec is None:
            spec = Sdf.CreatePrimInLayer(layer, prim)
        self._prims.add(prim)
        self._written.add(prim)
        return spec

    def _attribute_spec(
        self, prim: Sdf.Path, name: str, type_name: Sdf.ValueTypeName, uniform: bool, info: dict[str, Any]
    ) -> Sdf.AttributeSpec:
        owner = self._prim_spec(prim)
        spec = owner.attributes.get(name)
        if spec is None:
            variability = Sdf.VariabilityUniform if uniform else Sdf.VariabilityVarying
            spec = Sdf.AttributeSpec(owner, name, type_name, variability)
        for key, item in info.items():
            spec.SetInfo(key, item)
        return spec

    @staticmethod
    def _remove_property(spec: Sdf.PropertySpec) -> None:
        owner = spec.owner
        if owner:
            owner.RemoveProperty(spec)

    def _remove_prim(self, layer: Sdf.Layer, path: Sdf.Path) -> None:
        spec = layer.GetPrimAtPath(path)
        if spec is None:
            return
        for table in (self._attributes, self._relationships, self._transforms):
            for key in [p for p in table if p.HasPrefix(path)]:
                del table[key]
        self._prims = {p for p in self._prims if not p.HasPrefix(path)}
        del (spec.nameParent or layer.pseudoRoot).nameChildren[spec.name]

    def _prune(self, layer: Sdf.Layer, candidates: set[Sdf.Path]) -> None:
        """Remove the prim specs among ``candidates`` (and then their parents) that the frame did not write and
        that hold nothing any more, deepest first."""
        pending = set(candidates)
        while pending:
            path = max(pending, key=lambda p: p.pathElementCount)
            pending.discard(path)
            spec = layer.GetPrimAtPath(path)
            if spec is None or path in self._written or spec.nameChildren or spec.properties:
                continue
            del (spec.nameParent or layer.pseudoRoot).nameChildren[spec.name]
            self._prims.discard(path)
            parent = path.GetParentPath()
            if parent != Sdf.Path.absoluteRootPath:
                pending.add(parent)
