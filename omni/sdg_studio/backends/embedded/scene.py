"""Scene extraction: every visible, render-purpose gprim of a stage as triangles with its transform.

One :class:`SceneGeometry` per rendered occurrence: a gprim, an instance proxy under an
instanceable prim, or one instance of a ``PointInstancer`` prototype. Triangles stay in the
prim's local space; ``local_to_world`` (usd-core row-vector convention, ``p_world = [p, 1] @ M``)
places them. :class:`SceneCache` keeps the extraction between frames and listens to the stage:
a camera or light edit changes nothing here, a transform edit re-reads only transforms, any other
edit (or a new time code on an animated stage) re-extracts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from pxr import Tf, Usd, UsdGeom, UsdLux

from omni.sdg_studio.backends.embedded import tessellate
from omni.sdg_studio.backends.embedded.appearance import ColorResolver
from omni.sdg_studio.backends.embedded.errors import warn
from omni.sdg_studio.core.semantics.schema import Labels, direct_labels

_GEOMETRY_ATTRS = (
    "points",
    "faceVertexCounts",
    "faceVertexIndices",
    "orientation",
    "size",
    "radius",
    "radiusTop",
    "radiusBottom",
    "height",
    "axis",
    "width",
    "length",
)
_INSTANCER_ATTRS = ("positions", "orientations", "scales", "protoIndices", "invisibleIds")


@dataclass(frozen=True)
class LabelNode:
    """A prim on the way from the root to a rendered gprim, with the labels authored on it."""

    path: str
    labels: Labels


@dataclass
class SceneGeometry:
    """One rendered occurrence of a gprim."""

    path: str
    points: np.ndarray
    triangles: np.ndarray
    local_to_world: np.ndarray
    color: tuple[float, float, float]
    label_chain: tuple[LabelNode, ...]
    #: (PointInstancer path, instance index) for point instances, else None.
    instance: tuple[str, int] | None = None
    #: For point instances: the gprim's transform relative to its prototype root.
    relative: np.ndarray | None = None

    def world_points(self) -> np.ndarray:
        """Points in world space, float64."""
        m = self.local_to_world
        return self.points @ m[:3, :3] + m[3, :3]


def _matrix(gf_matrix) -> np.ndarray:
    return np.array(gf_matrix, dtype=np.float64).reshape(4, 4)


def _chain(prim: Usd.Prim, time: Usd.TimeCode, stop: Usd.Prim | None = None) -> list[LabelNode]:
    """Label nodes from the root (or just below ``stop``) down to ``prim``; only nodes with labels."""
    nodes = []
    current = prim
    while current and not current.IsPseudoRoot() and (stop is None or current != stop):
        labels = direct_labels(current, time)
        if labels:
            nodes.append(LabelNode(str(current.GetPath()), labels))
        current = current.GetParent()
    return nodes[::-1]


class _Extractor:
    """One pass over the stage at one time code."""

    def __init__(self, stage: Usd.Stage, time: Usd.TimeCode, colors: ColorResolver) -> None:
        self.stage = stage
        self.time = time
        self.colors = colors
        self.xforms = UsdGeom.XformCache(time)
        self.geometries: list[SceneGeometry] = []
        self.unsupported: Counter[str] = Counter()
        self.xforms_animated = False
        self.geometry_animated = False

    def run(self) -> list[SceneGeometry]:
        predicate = Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)
        it = iter(Usd.PrimRange(self.stage.GetPseudoRoot(), predicate))
        for prim in it:
            if prim.IsPseudoRoot():
                continue
            if not self._visible(prim):
                it.PruneChildren()
                continue
            if prim.IsA(UsdGeom.PointInstancer):
                self._point_instancer(UsdGeom.PointInstancer(prim))
                it.PruneChildren()
            elif prim.IsA(UsdGeom.Gprim):
                self._gprim(prim, self._world(prim), _chain(prim, self.time))
        if self.unsupported:
            kinds = ", ".join(f"{n} {t}" for t, n in sorted(self.unsupported.items()))
            warn(f"not rendered by the embedded backend (unsupported prim types): {kinds}")
        return self.geometries

    def _visible(self, prim: Usd.Prim) -> bool:
        imageable = UsdGeom.Imageable(prim)
        if not imageable:
            return True
        if imageable.GetVisibilityAttr().Get(self.time) == UsdGeom.Tokens.invisible:
            return False
        purpose = imageable.GetPurposeAttr().Get(self.time)
        return purpose not in (UsdGeom.Tokens.guide, UsdGeom.Tokens.proxy)

    def _world(self, prim: Usd.Prim) -> np.ndarray:
        self._note_time_varying(prim)
        return _matrix(self.xforms.GetLocalToWorldTransform(prim))

    def _note_time_varying(self, prim: Usd.Prim) -> None:
        if self.xforms_animated:
            return
        current = prim
        while current and not current.IsPseudoRoot():
            xformable = UsdGeom.Xformable(current)
            if xformable and xformable.TransformMightBeTimeVarying():
                self.xforms_animated = True
                return
            current = current.GetParent()

    def _attrs_time_varying(self, prim: Usd.Prim, names: tuple[str, ...]) -> None:
        if not self.geometry_animated:
            self.geometry_animated = any(
                (attr := prim.GetAttribute(name)) and attr.ValueMightBeTimeVarying() for name in names
            )

    def _get(self, prim: Usd.Prim, name: str, default):
        attr = prim.GetAttribute(name)
        value = attr.Get(self.time) if attr else None
        return default if value is None else value

    def _triangles(self, prim: Usd.Prim) -> tessellate.Triangles | None:
        """Local-space triangles of a gprim, or None (counted as unsupported)."""
        self._attrs_time_varying(prim, _GEOMETRY_ATTRS)
        get = self._get
        axis = str(get(prim, "axis", "Z"))
        problems = tessellate.MeshProblems()
        if prim.IsA(UsdGeom.Mesh):
            points = np.asarray(get(prim, "points", []), np.float64)
            counts = np.asarray(get(prim, "faceVertexCounts", []), np.int64)
            indices = np.asarray(get(prim, "faceVertexIndices", []), np.int64)
            if UsdGeom.Mesh(prim).GetHoleIndicesAttr().Get(self.time):
                problems.notes.append("holeIndices ignored (holes are filled)")
            left = get(prim, "orientation", UsdGeom.Tokens.rightHanded) == UsdGeom.Tokens.leftHanded
            result = tessellate.mesh(points, counts, indices, left, problems)
        elif prim.IsA(UsdGeom.Cube):
            result = tessellate.cube(float(get(prim, "size", 2.0)))
        elif prim.IsA(UsdGeom.Sphere):
            result = tessellate.sphere(float(get(prim, "radius", 1.0)))
        elif prim.IsA(UsdGeom.Cylinder_1):
            bottom, top = float(get(prim, "radiusBottom", 1.0)), float(get(prim, "radiusTop", 1.0))
            result = tessellate.cylinder(bottom, top, float(get(prim, "height", 2.0)), axis)
        elif prim.IsA(UsdGeom.Cylinder):
            radius = float(get(prim, "radius", 1.0))
            result = tessellate.cylinder(radius, radius, float(get(prim, "height", 2.0)), axis)
        elif prim.IsA(UsdGeom.Cone):
            result = tessellate.cone(float(get(prim, "radius", 1.0)), float(get(prim, "height", 2.0)), axis)
        elif prim.IsA(UsdGeom.Capsule_1):
            bottom, top = float(get(prim, "radiusBottom", 0.5)), float(get(prim, "radiusTop", 0.5))
            result = tessellate.capsule(bottom, top, float(get(prim, "height", 1.0)), axis)
        elif prim.IsA(UsdGeom.Capsule):
            radius = float(get(prim, "radius", 0.5))
            result = tessellate.capsule(radius, radius, float(get(prim, "height", 1.0)), axis)
        elif prim.IsA(UsdGeom.Plane):
            result = tessellate.plane(float(get(prim, "width", 2.0)), float(get(prim, "length", 2.0)), axis)
        else:
            self.unsupported[str(prim.GetTypeName())] += 1
            return None
        points, tris = tessellate.clean(result[0], result[1], problems)
        found = problems.describe()
        if not len(tris):
            warn(f"{prim.GetPath()}: {found + '; ' if found else ''}no renderable triangles, skipped")
            return None
        if found:
            warn(f"{prim.GetPath()}: {found}")
        return points, tris

    def _gprim(
        self,
        prim: Usd.Prim,
        local_to_world: np.ndarray,
        chain: list[LabelNode],
        instance: tuple[str, int] | None = None,
        relative: np.ndarray | None = None,
    ) -> None:
        tri = self._triangles(prim)
        if tri is None:
            return
        self.geometries.append(
            SceneGeometry(
                path=str(prim.GetPath()),
                points=tri[0],
                triangles=tri[1],
                local_to_world=local_to_world,
                color=self.colors.color(prim, self.time),
                label_chain=tuple(chain),
                instance=instance,
                relative=relative,
            )
        )

    def _point_instancer(self, instancer: UsdGeom.PointInstancer) -> None:
        prim = instancer.GetPrim()
        self._attrs_time_varying(prim, _INSTANCER_ATTRS)
        instancer_world = self._world(prim)
        instancer_chain = _chain(prim, self.time)
        prototypes = instancer.GetPrototypesRel().GetForwardedTargets()
        proto_indices = np.asarray(instancer.GetProtoIndicesAttr().Get(self.time) or [], np.int64)
        transforms = instancer.ComputeInstanceTransformsAtTime(self.time, self.time)
        mask = instancer.ComputeMaskAtTime(self.time)
        if transforms is None or len(transforms) != len(proto_indices):
            warn(f"{prim.GetPath()}: point instancer positions and protoIndices disagree, skipped")
            return
        # Every gprim of each prototype once, with its transform relative to the prototype root.
        proto_parts: list[list[tuple[Usd.Prim, np.ndarray, list[LabelNode]]]] = []
        for proto_path in prototypes:
            root = self.stage.GetPrimAtPath(proto_path)
            parts = []
            if root:
                it = iter(Usd.PrimRange(root, Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)))
                for part in it:
                    if not self._visible(part):
                        it.PruneChildren()
                        continue
                    if part.IsA(UsdGeom.Gprim):
                        relative = _matrix(self.xforms.ComputeRelativeTransform(part, root)[0])
                        if part == root:
                            relative = np.eye(4)
                        parts.append((part, relative, _chain(part, self.time, stop=root.GetParent())))
            proto_parts.append(parts)
        for index, (proto, instance_xform) in enumerate(zip(proto_indices, transforms, strict=True)):
            if (mask and not mask[index]) or not 0 <= proto < len(proto_parts):
                continue
            instance_world = _matrix(instance_xform) @ instancer_world
            for part, relative, chain in proto_parts[proto]:
                self._gprim(
                    part,
                    relative @ instance_world,
                    instancer_chain + chain,
                    instance=(str(prim.GetPath()), index),
                    relative=relative,
                )


def extract(stage: Usd.Stage, time: Usd.TimeCode, colors: ColorResolver | None = None) -> list[SceneGeometry]:
    """Every rendered gprim occurrence of ``stage`` at ``time``."""
    return _Extractor(stage, time, colors or ColorResolver()).run()


def _is_light(prim: Usd.Prim) -> bool:
    return bool(prim) and prim.HasAPI(UsdLux.LightAPI)


def _is_camera_or_light(prim: Usd.Prim) -> bool:
    return bool(prim) and (prim.IsA(UsdGeom.Camera) or _is_light(prim))


class SceneCache:
    """The extracted scene of one stage, kept up to date across frames and stage edits.

    ``geometry_version`` changes when geometries are re-extracted (labels, topology may change);
    ``transform_version`` changes whenever any world-space triangle moved; ``light_version`` whenever
    a light may have changed.
    """

    def __init__(self, stage: Usd.Stage) -> None:
        self.stage = stage
        self.geometries: list[SceneGeometry] = []
        self.geometry_version = 0
        self.transform_version = 0
        self.light_version = 0
        self._time: Usd.TimeCode | None = None
        self._xforms_animated = False
        self._geometry_animated = False
        self._needs_extract = True
        self._dirty_xforms: set[str] = set()
        self._listener: Tf.Listener | None = Tf.Notice.Register(
            Usd.Notice.ObjectsChanged, self._on_objects_changed, stage
        )

    def close(self) -> None:
        """Stop listening to the stage."""
        if self._listener is not None:
            self._listener.Revoke()
            self._listener = None

    def _on_objects_changed(self, notice: Usd.Notice.ObjectsChanged, sender: Usd.Stage) -> None:
        for path in notice.GetResyncedPaths():
            prim = self.stage.GetPrimAtPath(path.GetPrimPath())
            self.light_version += int(_is_light(prim) or not path.IsPropertyPath())
            if path.IsPropertyPath() and _is_camera_or_light(prim):
                continue
            self._needs_extract = True
        for path in notice.GetChangedInfoOnlyPaths():
            prim_path = path.GetPrimPath()
            prim = self.stage.GetPrimAtPath(prim_path)
            if _is_light(prim) or prim_path.IsAbsoluteRootPath():
                self.light_version += 1
            if _is_camera_or_light(prim):
                continue
            name = path.name if path.IsPropertyPath() else ""
            if name.startswith("xformOp") or name == "xformOpOrder":
                self._dirty_xforms.add(str(prim_path))
            else:
                self._needs_extract = True

    def update(self, time: Usd.TimeCode) -> None:
        """Bring the cached scene to ``time`` and to the stage's current state."""
        new_time = self._time is None or time != self._time
        if self._needs_extract or (new_time and self._geometry_animated):
            self._extract(time)
        elif new_time and self._xforms_animated:
            self._refresh_transforms(time, None)
        elif self._dirty_xforms:
            self._refresh_transforms(time, self._dirty_xforms)
        if new_time and (self._xforms_animated or self._geometry_animated):
            self.light_version += 1
        self._time = time
        self._dirty_xforms = set()

    def _extract(self, time: Usd.TimeCode) -> None:
        extractor = _Extractor(self.stage, time, ColorResolver())
        self.geometries = extractor.run()
        self._xforms_animated = extractor.xforms_animated
        self._geometry_animated = extractor.geometry_animated
        self._needs_extract = False
        self.geometry_version += 1
        self.transform_version += 1

    def _refresh_transforms(self, time: Usd.TimeCode, dirty: set[str] | None) -> None:
        """Re-read the world transforms of geometries under ``dirty`` prims (all when None)."""
        xforms = UsdGeom.XformCache(time)
        instancers: dict[str, tuple[list, np.ndarray]] = {}
        moved = False
        for geometry in self.geometries:
            source = geometry.path if geometry.instance is None else geometry.instance[0]
            if dirty is not None and not any(_under(source, d) or _under(geometry.path, d) for d in dirty):
                continue
            if geometry.instance is None:
                prim = self.stage.GetPrimAtPath(geometry.path)
                matrix = _matrix(xforms.GetLocalToWorldTransform(prim))
            else:
                path, index = geometry.instance
                if path not in instancers:
                    prim = self.stage.GetPrimAtPath(path)
                    transforms = UsdGeom.PointInstancer(prim).ComputeInstanceTransformsAtTime(time, time)
                    instancers[path] = (list(transforms or []), _matrix(xforms.GetLocalToWorldTransform(prim)))
                transforms, world = instancers[path]
                if index >= len(transforms) or geometry.relative is None:
                    self._extract(time)
                    return
                matrix = geometry.relative @ _matrix(transforms[index]) @ world
            if not np.array_equal(matrix, geometry.local_to_world):
                geometry.local_to_world = matrix
                moved = True
        if moved:
            self.transform_version += 1


def _under(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor.rstrip("/") + "/")
