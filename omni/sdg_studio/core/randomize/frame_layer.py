"""The anonymous layer a randomization writes into, under the stage's session layer.

The scene's own layers are never edited. Each frame starts from the scene as it is
(:meth:`FrameLayer.begin_frame` clears every value of the previous frame and removes the prims
spawned for it), so whatever frame came before, applying frame *j* leaves the same layer; at the
end of a frame (:meth:`FrameLayer.end_frame`) the specs the frame did not write are removed.
Writes go through the Sdf API, one ``Sdf.ChangeBlock`` per batch (:meth:`FrameLayer.batch`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from pxr import Gf, Sdf, Usd, UsdGeom

#: Name of the layer (shown by USD tools as ``anon:...:sdg_studio_randomization``).
LAYER_TAG = "sdg_studio_randomization"
TRANSFORM_OP = "xformOp:transform"


class FrameLayer:
    """Writes one frame's values into an anonymous sublayer of ``stage``'s session layer."""

    def __init__(self, stage: Usd.Stage) -> None:
        self.stage = stage
        self.layer: Sdf.Layer | None = None
        self._attributes: dict[Sdf.Path, Sdf.AttributeSpec] = {}
        self._relationships: dict[Sdf.Path, Sdf.RelationshipSpec] = {}
        self._transient: list[Sdf.Path] = []
        self._written: set[Sdf.Path] = set()  # property and prim paths written this frame

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
        self._written.clear()

    def end_frame(self) -> None:
        """Remove the properties and prims the frame did not write (so any frame order gives the same layer)."""
        layer = self._ensure()
        with Sdf.ChangeBlock():
            for table in (self._attributes, self._relationships):
                for path in [p for p in table if p not in self._written]:
                    spec = table.pop(path)
                    owner = spec.owner
                    if owner:
                        owner.RemoveProperty(spec)
            self._prune(layer.pseudoRoot)

    def restore(self) -> None:
        """Take the layer out of the session layer: the stage is the scene again."""
        if self.layer is not None:
            sublayers = self.stage.GetSessionLayer().subLayerPaths
            if self.layer.identifier in sublayers:
                sublayers.remove(self.layer.identifier)
        self.layer = None
        self._attributes.clear()
        self._relationships.clear()
        self._transient.clear()
        self._written.clear()

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
            owner = self._prim_spec(prim)
            spec = owner.attributes.get(name) if name in owner.attributes else None
            if spec is None:
                variability = Sdf.VariabilityUniform if uniform else Sdf.VariabilityVarying
                spec = Sdf.AttributeSpec(owner, name, type_name, variability)
            for key, item in (info or {}).items():
                spec.SetInfo(key, item)
            self._attributes[path] = spec
        spec.default = value
        self._written.add(path)

    def set_transforms(self, prims: Sequence[Sdf.Path], matrices: Sequence[Gf.Matrix4d]) -> None:
        """Give each prim one ``xformOp:transform`` (its local transform) and that op alone in its op order."""
        order = [TRANSFORM_OP]
        matrix_type, order_type = Sdf.ValueTypeNames.Matrix4d, Sdf.ValueTypeNames.TokenArray
        for prim, matrix in zip(prims, matrices, strict=True):
            self.set_attribute(prim, TRANSFORM_OP, matrix_type, matrix)
            self.set_attribute(prim, UsdGeom.Tokens.xformOpOrder, order_type, order, uniform=True)

    def set_relationship(self, prim: Sdf.Path, name: str, targets: Sequence[Sdf.Path], info: dict[str, Any]) -> None:
        """Author relationship ``name`` on ``prim`` with exactly ``targets``."""
        path = prim.AppendProperty(name)
        spec = self._relationships.get(path)
        if spec is None:
            owner = self._prim_spec(prim)
            spec = owner.relationships.get(name) if name in owner.relationships else None
            if spec is None:
                spec = Sdf.RelationshipSpec(owner, name, custom=False)
            for key, item in info.items():
                spec.SetInfo(key, item)
            self._relationships[path] = spec
        spec.targetPathList.explicitItems = list(targets)
        self._written.add(path)

    def prepend_api_schema(self, prim: Sdf.Path, schema: str) -> None:
        """Apply ``schema`` to ``prim`` (a prepended ``apiSchemas`` item)."""
        spec = self._prim_spec(prim)
        current = spec.GetInfo("apiSchemas") if spec.HasInfo("apiSchemas") else Sdf.TokenListOp()
        items = list(current.prependedItems)
        if schema not in items:
            spec.SetInfo("apiSchemas", Sdf.TokenListOp.Create(prependedItems=[*items, schema]))
        self._written.add(prim)

    def define(self, prim: Sdf.Path, type_name: str, *, reference: str | None = None, transient: bool) -> None:
        """``def`` a prim (referencing ``reference``'s default prim); a transient one lasts for this frame only."""
        spec = self._prim_spec(prim)
        spec.specifier = Sdf.SpecifierDef
        spec.typeName = type_name
        if reference is not None:
            spec.referenceList.explicitItems = [Sdf.Reference(reference)]
        if transient:
            self._transient.append(prim)
        self._written.add(prim)

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
        self._written.add(prim)
        return spec

    def _remove_prim(self, layer: Sdf.Layer, path: Sdf.Path) -> None:
        spec = layer.GetPrimAtPath(path)
        if spec is None:
            return
        for table in (self._attributes, self._relationships):
            for key in [p for p in table if p.HasPrefix(path)]:
                del table[key]
        parent = spec.nameParent if spec.nameParent else layer.pseudoRoot
        del parent.nameChildren[spec.name]

    def _prune(self, spec: Sdf.PrimSpec) -> bool:
        """Remove unwritten prim specs with nothing left in them, bottom-up; True if ``spec`` stays."""
        for child in list(spec.nameChildren):
            if not self._prune(child):
                del spec.nameChildren[child.name]
        if spec.path == Sdf.Path.absoluteRootPath:
            return True
        return spec.path in self._written or bool(spec.nameChildren) or bool(spec.properties)
