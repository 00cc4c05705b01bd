"""Scene extraction: every render-purpose gprim of a stage as triangles with its transform, kept up to date.

One :class:`SceneGeometry` per rendered occurrence: a gprim, an instance proxy under an instanceable
prim, or one instance of a ``PointInstancer`` prototype, in stage order. Every gprim of a supported type
has its occurrence whether it is visible or not (``visible`` says), so ids never depend on visibility.
Triangles stay in the prim's local space; ``local_to_world`` (usd-core row-vector convention,
``p_world = [p, 1] @ M``) places them.

:class:`SceneCache` follows the stage through ``Usd.Notice.ObjectsChanged`` and redoes only what an
edit touches: transforms, visibility, labels, colors and materials are re-read for the prims under
the edited path; geometry attributes re-tessellate that prim; prims added, removed or re-composed
(a reference added, an API schema applied) are extracted again, the rest of the stage is kept.
Tessellations are cached by content, so a prim extracted again, or a copy of an asset already seen,
is not tessellated again. A new layer in the stack (or a stage metadata edit) re-reads everything.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from pxr import Sdf, Tf, Usd, UsdGeom, UsdLux, UsdShade

from omni.sdg_studio.backends.embedded import tessellate
from omni.sdg_studio.backends.embedded.appearance import Appearance, AppearanceResolver, bound_material
from omni.sdg_studio.backends.embedded.tessellate import LocalMesh
from omni.sdg_studio.backends.embedded.vectors import transform3
from omni.sdg_studio.core.semantics.schema import Labels, direct_labels

logger = logging.getLogger(__name__)

#: Attributes a tessellation reads.
_SHAPE_ATTRS = frozenset(
    ("points", "faceVertexCounts", "faceVertexIndices", "orientation", "holeIndices", "size", "radius",
     "radiusTop", "radiusBottom", "height", "axis", "width", "length")
)  # fmt: skip
_INSTANCER_TRANSFORM_ATTRS = frozenset(("positions", "orientations", "orientationsf", "scales"))
_INSTANCER_STRUCTURE_ATTRS = frozenset(("protoIndices", "invisibleIds", "ids", "prototypes"))
_LABEL_PREFIXES = ("semantics:", "semantic:")
_SUPPORTED = (
    UsdGeom.Mesh, UsdGeom.Cube, UsdGeom.Sphere, UsdGeom.Cylinder, UsdGeom.Cone, UsdGeom.Capsule, UsdGeom.Plane
)  # fmt: skip
_EMPTY_MESH = LocalMesh(np.zeros((0, 3)), np.zeros((0, 3), np.int32))


@dataclass(frozen=True)
class LabelNode:
    """A prim on the way from the root to a rendered gprim, with the labels authored on it."""

    path: str
    labels: Labels


@dataclass
class SceneGeometry:
    """One rendered occurrence of a gprim."""

    path: str
    local_to_world: np.ndarray
    label_chain: tuple[LabelNode, ...]
    visible: bool = True
    #: (PointInstancer path, instance index) for point instances, else None.
    instance: tuple[str, int] | None = None
    #: For point instances: the gprim's transform relative to its prototype root.
    relative: np.ndarray | None = None
    #: Local triangles; None until the geometry is first visible.
    mesh: LocalMesh | None = None
    appearance: Appearance = field(default_factory=lambda: Appearance((0.5, 0.5, 0.5)))
    material: str = ""
    animated_transform: bool = False
    animated_shape: bool = False

    @property
    def points(self) -> np.ndarray:
        return (self.mesh or _EMPTY_MESH).points

    @property
    def triangles(self) -> np.ndarray:
        return (self.mesh or _EMPTY_MESH).triangles

    @property
    def color(self) -> tuple[float, float, float]:
        return self.appearance.color

    @property
    def source(self) -> str:
        """The prim whose edits move this geometry: its gprim, or its point instancer."""
        return self.path if self.instance is None else self.instance[0]

    def world_points(self) -> np.ndarray:
        """Points in world space, float64."""
        m = self.local_to_world
        return transform3(self.points, m[:3, :3], m[3, :3])


def _matrix(gf_matrix) -> np.ndarray:
    return np.array(memoryview(gf_matrix), dtype=np.float64).reshape(4, 4)


def _matrices(gf_matrices: list) -> np.ndarray:
    """Many ``Gf.Matrix4d`` as one (n, 4, 4) float64 array (through their buffers: no per-element access)."""
    return np.array([memoryview(m) for m in gf_matrices], dtype=np.float64).reshape(len(gf_matrices), 4, 4)


def _within(path: str, roots: set[str]) -> bool:
    """Whether prim path ``path`` is one of ``roots`` or lies under one."""
    if path in roots:
        return True
    cut = path.rfind("/")
    while cut > 0:
        path = path[:cut]
        if path in roots:
            return True
        cut = path.rfind("/")
    return "/" in roots


def _transform_varying(prim: Usd.Prim) -> bool:
    current = prim
    while current and not current.IsPseudoRoot():
        xformable = UsdGeom.Xformable(current)
        if xformable and xformable.TransformMightBeTimeVarying():
            return True
        current = current.GetParent()
    return False


def _attrs_varying(prim: Usd.Prim, names) -> bool:
    return any((attr := prim.GetAttribute(name)) and attr.ValueMightBeTimeVarying() for name in names)


def _get(prim: Usd.Prim, name: str, default, time: Usd.TimeCode):
    attr = prim.GetAttribute(name)
    value = attr.Get(time) if attr else None
    return default if value is None else value


class _Walk:
    """State of one pass over the stage: inherited visibility and label chains per visited prim."""

    def __init__(self, time: Usd.TimeCode) -> None:
        self.time = time
        self.xforms = UsdGeom.XformCache(time)
        self.visible: dict[Sdf.Path, bool] = {}
        self.chain: dict[Sdf.Path, tuple[LabelNode, ...]] = {}
        self.unsupported: Counter[str] = Counter()


class SceneCache:
    """The extracted scene of one stage, kept up to date across frames and stage edits.

    Versions tell what changed since a caller last looked: ``structure_version`` (occurrences
    added, removed or re-extracted), ``labels_version``, ``shape_version`` (any world-space triangle),
    ``appearance_version`` (colors, textures) and ``light_version`` (a light may have changed).
    ``extractions`` counts occurrences read from the stage anew, ``tessellations`` meshes tessellated.
    """

    def __init__(self, stage: Usd.Stage) -> None:
        self.stage = stage
        self.geometries: list[SceneGeometry] = []
        self.structure_version = 0
        self.labels_version = 0
        self.shape_version = 0
        self.appearance_version = 0
        self.light_version = 0
        self.tessellations = 0
        self.extractions = 0
        self.appearances = AppearanceResolver(stage)
        self._meshes: dict[bytes, LocalMesh] = {}
        self._mesh_problems: dict[bytes, str] = {}
        self._labels: dict[str, Labels] = {}
        self._time: Usd.TimeCode | None = None
        self._full = True
        self._resynced: set[str] = set()
        self._dirty: dict[str, set[str]] = {k: set() for k in ("xform", "visibility", "labels", "appearance", "shape")}
        self._dirty_materials: set[str] = set()
        self._index: list[tuple[str, int]] = []
        self._index_keys: list[str] = []
        #: Geometries by gprim or instancer path, and whether any geometry is a point instance.
        self._at_path: dict[str, list[int]] = {}
        self._instanced = False
        self._animated_visibility = False
        self._warned: set[str] = set()
        self.light_paths: list[str] = []
        self._listener: Tf.Listener | None = Tf.Notice.Register(
            Usd.Notice.ObjectsChanged, self._on_objects_changed, stage
        )

    def close(self) -> None:
        """Stop listening to the stage."""
        if self._listener is not None:
            self._listener.Revoke()
            self._listener = None

    # ---- what changed ------------------------------------------------------------------------
    def _on_objects_changed(self, notice: Usd.Notice.ObjectsChanged, sender: Usd.Stage) -> None:
        for path in notice.GetResyncedPaths():
            self._classify(path, resynced=True)
        for path in notice.GetChangedInfoOnlyPaths():
            self._classify(path, resynced=False)

    def _classify(self, path: Sdf.Path, resynced: bool) -> None:
        if path.IsAbsoluteRootPath():
            self._full = True  # a layer added or removed, or stage metadata: anything may differ
            self.light_version += 1
            return
        prim_path = path.GetPrimPath()
        where = str(prim_path)
        if not path.IsPropertyPath():
            if resynced:
                self._resynced.add(where)
                self.light_version += 1
            return  # prim metadata that changes nothing rendered (kind, documentation, ...)
        prim = self.stage.GetPrimAtPath(prim_path)
        name = path.name
        if prim and prim.HasAPI(UsdLux.LightAPI):
            self.light_version += 1
            if not prim.IsA(UsdGeom.Gprim):
                return
        if prim and prim.IsA(UsdGeom.Camera):
            return
        if name.startswith("xformOp") or name == "xformOpOrder":
            self._dirty["xform"].add(where)
        elif name == "visibility":
            self._dirty["visibility"].add(where)
        elif name == "purpose":
            self._resynced.add(where)
        elif name.startswith(_LABEL_PREFIXES):
            self._dirty["labels"].add(where)
        elif prim and prim.IsA(UsdGeom.PointInstancer) and name in _INSTANCER_TRANSFORM_ATTRS:
            self._dirty["xform"].add(where)
        elif prim and prim.IsA(UsdGeom.PointInstancer) and name in _INSTANCER_STRUCTURE_ATTRS:
            self._resynced.add(where)
        elif name in _SHAPE_ATTRS:
            self._dirty["shape"].add(where)
        elif name.startswith(("material:binding", "primvars:")):
            self._dirty["appearance"].add(where)
        elif prim and (prim.IsA(UsdShade.Shader) or prim.IsA(UsdShade.NodeGraph)):
            self._dirty_materials.add(where)

    # ---- bringing the cache up to date -------------------------------------------------------
    def update(self, time: Usd.TimeCode) -> None:
        """Bring the cached scene to ``time`` and to the stage's current state."""
        new_time = self._time is not None and time != self._time
        if self._time is not None and not self._full and self._instanced:
            self._resynced |= self._instancers_touched()
        if self._full or self._resynced or (new_time and self._animated_visibility):
            self._rebuild(time)
        elif new_time:
            animated = [g for g in self.geometries if g.animated_transform or g.animated_shape]
            self._dirty["xform"] |= {g.source for g in animated if g.animated_transform}
            self._dirty["shape"] |= {g.path for g in animated if g.animated_shape}
            if animated:
                self.light_version += 1
        self._time = time
        self._apply_dirty(time)

    def _instancers_touched(self) -> set[str]:
        """Point instancers to extract again: a prototype part edited, or the instancer's labels or visibility."""
        found: set[str] = set()
        by_part = {k: self._dirty[k] for k in ("xform", "visibility", "labels", "shape")}
        for kind, paths in by_part.items():
            for i in self._affected(paths):
                geometry = self.geometries[i]
                if geometry.instance is None:
                    continue
                via_part = _within(geometry.path, paths)
                if via_part or kind in ("visibility", "labels"):
                    found.add(geometry.instance[0])
        return found

    def _affected(self, paths: set[str]) -> list[int]:
        """Indices of geometries whose gprim or instancer is at or under one of ``paths``."""
        found: set[int] = set()
        keys = self._index_keys
        for path in paths:
            found.update(self._at_path.get(path, ()))
            below = path + "/" if path != "/" else "/"
            k = bisect.bisect_left(keys, below)
            while k < len(keys) and keys[k].startswith(below):
                found.add(self._index[k][1])
                k += 1
        return sorted(found)

    def _rebuild(self, time: Usd.TimeCode) -> None:
        """Walk the stage again, keeping the occurrences under no re-composed path."""
        keep = _Kept()
        if self._full:
            self.appearances = AppearanceResolver(self.stage)
            self._labels = {}
        else:
            stale = self._resynced
            self._labels = {p: v for p, v in self._labels.items() if not _within(p, stale)}
            for g in self.geometries:
                if not (_within(g.path, stale) or _within(g.source, stale)):
                    keep.add(g)
        self.geometries = self._walk(time, keep)
        self._index = sorted(
            [(g.path, i) for i, g in enumerate(self.geometries)]
            + [(g.source, i) for i, g in enumerate(self.geometries) if g.instance is not None]
        )
        self._index_keys = [k for k, _ in self._index]
        self._at_path = {}
        for key, i in self._index:
            self._at_path.setdefault(key, []).append(i)
        self._instanced = any(g.instance is not None for g in self.geometries)
        used = {id(g.mesh) for g in self.geometries}
        self._meshes = {k: m for k, m in self._meshes.items() if id(m) in used}
        self._mesh_problems = {k: v for k, v in self._mesh_problems.items() if k in self._meshes}
        self._full = False
        self._resynced = set()
        self.structure_version += 1
        self.labels_version += 1
        self.shape_version += 1
        self.appearance_version += 1
        self.light_version += 1
        self._report()

    def _apply_dirty(self, time: Usd.TimeCode) -> None:
        dirty, self._dirty = self._dirty, {k: set() for k in self._dirty}
        materials, self._dirty_materials = self._dirty_materials, set()
        xforms = UsdGeom.XformCache(time)
        shape_changed = False
        if dirty["shape"]:
            for i in self._affected(dirty["shape"]):
                geometry = self.geometries[i]
                if geometry.instance is None and geometry.visible:
                    geometry.mesh = self._tessellation(self.stage.GetPrimAtPath(geometry.path), time)
                    self._resolve_appearance(geometry, time)
                    shape_changed = True
        if dirty["visibility"]:
            for i in self._affected(dirty["visibility"]):
                geometry = self.geometries[i]
                if geometry.instance is not None:
                    continue  # its point instancer was extracted again
                prim = self.stage.GetPrimAtPath(geometry.path)
                visible = UsdGeom.Imageable(prim).ComputeVisibility(time) != UsdGeom.Tokens.invisible
                if visible != geometry.visible:
                    geometry.visible = visible
                    if visible and geometry.mesh is None:
                        geometry.mesh = self._tessellation(prim, time)
                        self._resolve_appearance(geometry, time)
                    shape_changed = True
        if dirty["xform"]:
            shape_changed |= self._refresh_transforms(self._affected(dirty["xform"]), xforms, time)
            if any(_within(light, dirty["xform"]) for light in self.light_paths):
                self.light_version += 1
        if dirty["labels"]:
            self._labels = {p: v for p, v in self._labels.items() if not _within(p, dirty["labels"])}
            for i in self._affected(dirty["labels"]):
                geometry = self.geometries[i]
                if geometry.instance is not None:
                    continue  # its point instancer was extracted again
                geometry.label_chain = self._chain(self.stage.GetPrimAtPath(geometry.path), time)
            self.labels_version += 1
        if materials:
            edited = self.appearances.materials_of(materials)
            touched = {g.path for g in self.geometries if g.material in edited}
            dirty["appearance"] |= touched
        if dirty["appearance"]:
            for i in self._affected(dirty["appearance"]):
                self._resolve_appearance(self.geometries[i], time)
            self.appearance_version += 1
        if shape_changed:
            self.shape_version += 1
        self._report()

    def _refresh_transforms(self, indices: list[int], xforms: UsdGeom.XformCache, time: Usd.TimeCode) -> bool:
        instancers: dict[str, tuple[list, np.ndarray]] = {}
        gprims = [i for i in indices if self.geometries[i].instance is None]
        read = [xforms.GetLocalToWorldTransform(self.stage.GetPrimAtPath(self.geometries[i].path)) for i in gprims]
        found = dict(zip(gprims, _matrices(read), strict=True))
        for i in indices:
            geometry = self.geometries[i]
            if geometry.instance is None:
                continue
            path, index = geometry.instance
            if path not in instancers:
                prim = self.stage.GetPrimAtPath(path)
                transforms = UsdGeom.PointInstancer(prim).ComputeInstanceTransformsAtTime(time, time)
                instancers[path] = (list(transforms or []), _matrix(xforms.GetLocalToWorldTransform(prim)))
            transforms, world = instancers[path]
            if index >= len(transforms) or geometry.relative is None:
                continue  # the instancer's structure changed: it is extracted again on its resync
            found[i] = geometry.relative @ _matrix(transforms[index]) @ world
        if not found:
            return False
        order = list(found)
        new = np.array([found[i] for i in order])
        old = np.array([self.geometries[i].local_to_world for i in order])
        moved = np.flatnonzero((new != old).any(axis=(1, 2)))
        for k in moved.tolist():
            self.geometries[order[k]].local_to_world = new[k]
        return bool(len(moved))

    def _report(self) -> None:
        unreadable = {f: why for f, why in self.appearances.unreadable.items() if f not in self._warned}
        if unreadable:
            self._warned.update(unreadable)
            listed = "; ".join(f"{f} ({why})" for f, why in sorted(unreadable.items()))
            logger.warning("texture files not read, their fallback colors are used: %s", listed)
        unknown = sorted(self.appearances.unknown_materials - self._warned)
        if unknown:
            self._warned.update(unknown)
            shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            logger.warning(
                "%d materials are not UsdPreviewSurface or OmniPBR (MaterialX or other shaders); their prims "
                "show displayColor or gray: %s", len(unknown), shown,
            )  # fmt: skip

    # ---- one pass over the stage -------------------------------------------------------------
    def _walk(self, time: Usd.TimeCode, keep: _Kept) -> list[SceneGeometry]:
        walk = _Walk(time)
        out: list[SceneGeometry] = []
        self._animated_visibility = False
        self.light_paths = []
        predicate = Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)
        it = iter(Usd.PrimRange(self.stage.GetPseudoRoot(), predicate))
        for prim in it:
            if prim.IsPseudoRoot():
                continue
            path = prim.GetPath()
            parent = path.GetParentPath()
            imageable = UsdGeom.Imageable(prim)
            visible = walk.visible.get(parent, True)
            if imageable:
                if imageable.GetPurposeAttr().Get(time) in (UsdGeom.Tokens.guide, UsdGeom.Tokens.proxy):
                    it.PruneChildren()
                    continue
                attr = imageable.GetVisibilityAttr()
                self._animated_visibility |= attr.ValueMightBeTimeVarying()
                visible = visible and attr.Get(time) != UsdGeom.Tokens.invisible
            chain = walk.chain.get(parent, ())
            labels = self._direct_labels(prim, time)
            if labels:
                chain = (*chain, LabelNode(str(path), labels))
            walk.visible[path] = visible
            walk.chain[path] = chain
            if prim.HasAPI(UsdLux.LightAPI):
                self.light_paths.append(str(path))
            if prim.IsA(UsdGeom.PointInstancer):
                out.extend(self._point_instancer(UsdGeom.PointInstancer(prim), walk, keep))
                it.PruneChildren()
            elif prim.IsA(UsdGeom.Gprim):
                found = keep.gprims.get(str(path))
                if found is None:
                    found = self._gprim(prim, walk, chain, visible)
                else:
                    self._restate(found, prim, chain, visible, time)
                if found is not None:
                    out.append(found)
        new_types = {t: n for t, n in walk.unsupported.items() if f"type:{t}" not in self._warned}
        if new_types:
            self._warned.update(f"type:{t}" for t in new_types)
            kinds = ", ".join(f"{n} {t}" for t, n in sorted(new_types.items()))
            logger.warning("not rendered by the embedded backend (unsupported prim types): %s", kinds)
        return out

    def _restate(
        self, geometry: SceneGeometry, prim: Usd.Prim, chain: tuple[LabelNode, ...], visible: bool, time: Usd.TimeCode
    ) -> None:
        """A kept occurrence with the visibility and labels the walk found (they are inherited)."""
        geometry.label_chain = chain
        if visible and geometry.mesh is None:
            geometry.mesh = self._tessellation(prim, time)
            self._resolve_appearance(geometry, time)
        geometry.visible = visible

    def _direct_labels(self, prim: Usd.Prim, time: Usd.TimeCode) -> Labels:
        key = str(prim.GetPath())
        labels = self._labels.get(key)
        if labels is None:
            labels = direct_labels(prim, time)
            self._labels[key] = labels
        return labels

    def _chain(self, prim: Usd.Prim, time: Usd.TimeCode, stop: Usd.Prim | None = None) -> tuple[LabelNode, ...]:
        """Label nodes from the root (or just below ``stop``) down to ``prim``; only nodes with labels."""
        nodes = []
        current = prim
        while current and not current.IsPseudoRoot() and (stop is None or current != stop):
            labels = self._direct_labels(current, time)
            if labels:
                nodes.append(LabelNode(str(current.GetPath()), labels))
            current = current.GetParent()
        return tuple(nodes[::-1])

    def _gprim(self, prim: Usd.Prim, walk: _Walk, chain: tuple[LabelNode, ...], visible: bool) -> SceneGeometry | None:
        if not any(prim.IsA(kind) for kind in _SUPPORTED):
            walk.unsupported[str(prim.GetTypeName())] += 1
            return None
        self.extractions += 1
        geometry = SceneGeometry(
            path=str(prim.GetPath()),
            local_to_world=_matrix(walk.xforms.GetLocalToWorldTransform(prim)),
            label_chain=chain,
            visible=visible,
            animated_transform=_transform_varying(prim),
            animated_shape=_attrs_varying(prim, _SHAPE_ATTRS),
        )
        if visible:
            geometry.mesh = self._tessellation(prim, walk.time)
            self._resolve_appearance(geometry, walk.time)
        return geometry

    def _resolve_appearance(self, geometry: SceneGeometry, time: Usd.TimeCode) -> None:
        prim = self.stage.GetPrimAtPath(geometry.path)
        geometry.material = bound_material(prim)
        geometry.appearance = self.appearances.appearance(prim, geometry.material, geometry.mesh or _EMPTY_MESH, time)

    def _point_instancer(self, instancer: UsdGeom.PointInstancer, walk: _Walk, keep: _Kept) -> list[SceneGeometry]:
        prim = instancer.GetPrim()
        where = str(prim.GetPath())
        if where in keep.instancers:
            return keep.instancers[where]
        time = walk.time
        instancer_world = _matrix(walk.xforms.GetLocalToWorldTransform(prim))
        instancer_chain = walk.chain[prim.GetPath()]
        visible = walk.visible[prim.GetPath()]
        animated = _transform_varying(prim) or _attrs_varying(prim, _INSTANCER_TRANSFORM_ATTRS)
        prototypes = instancer.GetPrototypesRel().GetForwardedTargets()
        proto_indices = np.asarray(instancer.GetProtoIndicesAttr().Get(time) or [], np.int64)
        transforms = instancer.ComputeInstanceTransformsAtTime(time, time)
        mask = instancer.ComputeMaskAtTime(time)
        if transforms is None or len(transforms) != len(proto_indices):
            logger.warning("%s: point instancer positions and protoIndices disagree, skipped", where)
            return []
        parts_of = [self._prototype_parts(self.stage.GetPrimAtPath(p), walk) for p in prototypes]
        out = []
        for index, (proto, instance_xform) in enumerate(zip(proto_indices, transforms, strict=True)):
            if (mask and not mask[index]) or not 0 <= proto < len(parts_of):
                continue
            instance_world = _matrix(instance_xform) @ instancer_world
            for part, relative, chain, part_visible in parts_of[proto]:
                self.extractions += 1
                geometry = SceneGeometry(
                    path=str(part.GetPath()),
                    local_to_world=relative @ instance_world,
                    label_chain=instancer_chain + chain,
                    visible=visible and part_visible,
                    instance=(where, index),
                    relative=relative,
                    animated_transform=animated,
                )
                if geometry.visible:
                    geometry.mesh = self._tessellation(part, time)
                    self._resolve_appearance(geometry, time)
                out.append(geometry)
        return out

    def _prototype_parts(
        self, root: Usd.Prim, walk: _Walk
    ) -> list[tuple[Usd.Prim, np.ndarray, tuple[LabelNode, ...], bool]]:
        """Every gprim of a prototype once: (prim, transform relative to the root, label chain, visible)."""
        parts = []
        if not root:
            return parts
        it = iter(Usd.PrimRange(root, Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)))
        for part in it:
            imageable = UsdGeom.Imageable(part)
            if imageable and imageable.GetPurposeAttr().Get(walk.time) in (UsdGeom.Tokens.guide, UsdGeom.Tokens.proxy):
                it.PruneChildren()
                continue
            if not part.IsA(UsdGeom.Gprim):
                continue
            if not any(part.IsA(kind) for kind in _SUPPORTED):
                walk.unsupported[str(part.GetTypeName())] += 1
                continue
            relative = np.eye(4) if part == root else _matrix(walk.xforms.ComputeRelativeTransform(part, root)[0])
            visible = all(
                UsdGeom.Imageable(p).GetVisibilityAttr().Get(walk.time) != UsdGeom.Tokens.invisible
                for p in _ancestors(part, root)
                if UsdGeom.Imageable(p)
            )
            parts.append((part, relative, self._chain(part, walk.time, stop=root.GetParent()), visible))
        return parts

    # ---- tessellation, cached by content -----------------------------------------------------
    def _tessellation(self, prim: Usd.Prim, time: Usd.TimeCode) -> LocalMesh:
        """Local triangles of a supported gprim (empty if it has none that render)."""
        inputs = _shape_inputs(prim, time)
        digest = hashlib.blake2b(digest_size=20)
        digest.update(str(prim.GetTypeName()).encode())
        for value in inputs.values():
            digest.update(value.tobytes() if isinstance(value, np.ndarray) else repr(value).encode())
        key = digest.digest()
        mesh = self._meshes.get(key)
        path = str(prim.GetPath())
        if mesh is None:
            problems = tessellate.MeshProblems()
            mesh = _tessellate(prim, inputs, problems)
            self.tessellations += 1
            self._meshes[key] = mesh
            self._mesh_problems[key] = problems.describe()
        found = self._mesh_problems.get(key, "")
        if (found or not len(mesh.triangles)) and path not in self._warned:
            self._warned.add(path)
            if not len(mesh.triangles):
                logger.warning("%s: %sno renderable triangles, skipped", path, found + "; " if found else "")
            else:
                logger.warning("%s: %s", path, found)
        return mesh


class _Kept:
    """Occurrences a walk may keep: gprims by path, point instancers' occurrences by instancer path."""

    def __init__(self) -> None:
        self.gprims: dict[str, SceneGeometry] = {}
        self.instancers: dict[str, list[SceneGeometry]] = {}

    def add(self, geometry: SceneGeometry) -> None:
        if geometry.instance is None:
            self.gprims[geometry.path] = geometry
        else:
            self.instancers.setdefault(geometry.instance[0], []).append(geometry)


def _ancestors(prim: Usd.Prim, root: Usd.Prim) -> list[Usd.Prim]:
    found = []
    current = prim
    while current and current != root.GetParent() and not current.IsPseudoRoot():
        found.append(current)
        current = current.GetParent()
    return found


def _shape_inputs(prim: Usd.Prim, time: Usd.TimeCode) -> dict[str, object]:
    """The attribute values a tessellation of ``prim`` depends on."""
    get = lambda name, default: _get(prim, name, default, time)  # noqa: E731
    if prim.IsA(UsdGeom.Mesh):
        return {
            "points": np.asarray(get("points", []), np.float64).reshape(-1, 3),
            "counts": np.asarray(get("faceVertexCounts", []), np.int64),
            "indices": np.asarray(get("faceVertexIndices", []), np.int64),
            "left": get("orientation", UsdGeom.Tokens.rightHanded) == UsdGeom.Tokens.leftHanded,
            "holes": len(get("holeIndices", [])) > 0,
        }
    names = ("size", "radius", "radiusTop", "radiusBottom", "height", "axis", "width", "length")
    return {name: get(name, None) for name in names if prim.GetAttribute(name)}


def _tessellate(prim: Usd.Prim, inputs: dict, problems: tessellate.MeshProblems) -> LocalMesh:
    def number(name: str, default: float) -> float:
        value = inputs.get(name)
        return float(default if value is None else value)  # type: ignore[arg-type]

    axis = str(inputs.get("axis") or "Z")
    if prim.IsA(UsdGeom.Mesh):
        if inputs["holes"]:
            problems.notes.append("holeIndices ignored (holes are filled)")
        return tessellate.mesh(inputs["points"], inputs["counts"], inputs["indices"], bool(inputs["left"]), problems)  # type: ignore[arg-type]
    if prim.IsA(UsdGeom.Cube):
        result = tessellate.cube(number("size", 2.0))
    elif prim.IsA(UsdGeom.Sphere):
        result = tessellate.sphere(number("radius", 1.0))
    elif prim.IsA(UsdGeom.Cylinder_1):
        result = tessellate.cylinder(number("radiusBottom", 1.0), number("radiusTop", 1.0), number("height", 2.0), axis)
    elif prim.IsA(UsdGeom.Cylinder):
        radius = number("radius", 1.0)
        result = tessellate.cylinder(radius, radius, number("height", 2.0), axis)
    elif prim.IsA(UsdGeom.Cone):
        result = tessellate.cone(number("radius", 1.0), number("height", 2.0), axis)
    elif prim.IsA(UsdGeom.Capsule_1):
        result = tessellate.capsule(number("radiusBottom", 0.5), number("radiusTop", 0.5), number("height", 1.0), axis)
    elif prim.IsA(UsdGeom.Capsule):
        radius = number("radius", 0.5)
        result = tessellate.capsule(radius, radius, number("height", 1.0), axis)
    else:
        result = tessellate.plane(number("width", 2.0), number("length", 2.0), axis)
    points, triangles = tessellate.clean(result[0], result[1], problems)
    return LocalMesh(points, triangles)


def extract(stage: Usd.Stage, time: Usd.TimeCode) -> list[SceneGeometry]:
    """Every rendered gprim occurrence of ``stage`` at ``time`` (visible ones; a one-off extraction)."""
    cache = SceneCache(stage)
    try:
        cache.update(time)
        return [g for g in cache.geometries if g.visible]
    finally:
        cache.close()
