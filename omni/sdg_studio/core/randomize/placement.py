"""``pose`` and ``scatter``: where prims go and how they rest.

A pose sets world position (absolute, or in another prim's frame from its origin or from a corner of
its oriented box), world orientation (yaw, XYZ euler, uniform SO(3), optionally composed with a
prim's orientation) and a scale factor; ``settle`` then lowers each prim until its box rests on the
highest geometry under it (a downward ray cast over the stage's triangles). A scatter puts each prim
on the upward faces of a surface, its footprint wholly over them, and with ``collisions`` no two
footprints overlap; prims that find no room after ``max_attempts`` draws are hidden and reported.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from pxr import Sdf, UsdGeom

from omni.sdg_studio.core.randomize.context import (
    Applied,
    Binding,
    FrameContext,
    PrimGroup,
    Randomizer,
    Read,
    parent_reads,
)
from omni.sdg_studio.core.randomize.geometry import (
    BOX_TRIANGLES,
    StageGeometry,
    areas,
    cast_down,
    homogeneous,
    prim_box,
    sample_points,
    upward,
)
from omni.sdg_studio.core.randomize.scenario import Anchor, PoseSpec, PositionSpec, RotationSpec, ScatterSpec
from omni.sdg_studio.core.randomize.transforms import (
    Basis,
    axis_rotation,
    compose,
    decompose,
    euler_xyz,
    matrix_quaternions,
    uniform_rotations,
)

#: Box edges as corner pairs (corner bits: +x 1, +y 2, +z 4).
#: How far (stage units) a surface may rise above a scattered prim's resting point under its footprint.
REST_TOLERANCE = 1e-5
#: Candidate placements drawn at once per prim (each draw costs one of ``max_attempts``).
CANDIDATES = 16
BOX_EDGES = np.array([[a, a | bit] for bit in (1, 2, 4) for a in range(8) if not a & bit])


class AnchorFrame:
    """A relative position's frame: a prim's world rotation, based at its origin or at a corner of its box."""

    def __init__(self, binding: Binding, anchor: Anchor) -> None:
        self.anchor = anchor
        self.prim = binding.prim((*anchor.at, "relative_to"), anchor.prim, "relative_to")
        if anchor.corner is not None and prim_box(self.prim, UsdGeom.XformCache(binding.time), binding.time) is None:
            raise binding.error((*anchor.at, "corner"), f"{anchor.prim} has no extent to take a corner of")

    def read(self) -> Read:
        return Read(self.prim.GetPath(), "shape" if self.anchor.corner is not None else "pose")

    def positions(
        self, ctx: FrameContext, rng: np.random.Generator, step: int, offsets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """World positions of ``offsets`` (anchor frame) and, with a corner, the corner index of each."""
        world = ctx.world([self.prim])
        _, rotation, translation = decompose(world)
        corner = self.anchor.corner
        if corner is None:
            return translation[0] + offsets @ rotation[0], None
        box = prim_box(self.prim, ctx.xforms(), ctx.time)
        if box is None:  # its geometry went away this frame: fall back to the origin
            return translation[0] + offsets @ rotation[0], None
        center = box.mean(axis=0)
        corners = homogeneous(center + (box - center) * np.asarray(self.anchor.bbox_scale), world[0])
        if isinstance(corner, str):
            heights = ctx.basis.height(corners)
            by_height = np.lexsort((np.arange(8), np.round(heights, 9)))
            pool = {"bottom": by_height[:4], "top": by_height[4:], "any": np.arange(8)}[corner]
            picks = pool[rng.integers(len(pool), size=len(offsets))]
        else:
            picks = corner.sample(rng, len(offsets), step).astype(np.int64)
        return corners[picks] + offsets @ rotation[0], picks


class Positions:
    """Draws world positions for a :class:`PositionSpec` (absolute, or in an anchor's frame)."""

    def __init__(self, binding: Binding, spec: PositionSpec) -> None:
        self.spec = spec
        self.anchor = AnchorFrame(binding, spec.anchor) if spec.anchor is not None else None

    def reads(self) -> list[Read]:
        return [self.anchor.read()] if self.anchor is not None else []

    def sample(
        self, ctx: FrameContext, rng: np.random.Generator, step: int, count: int
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``count`` world positions and what to record beside them (the corner of each, when used)."""
        offsets = self.spec.value.sample(rng, count, step).astype(np.float64)
        if self.anchor is None:
            return offsets, {}
        positions, corners = self.anchor.positions(ctx, rng, step, offsets)
        return positions, ({"corner": corners} if corners is not None else {})


class Orientation:
    """Draws world orientations for a :class:`RotationSpec`."""

    def __init__(self, binding: Binding, spec: RotationSpec) -> None:
        self.spec = spec
        self.relative = (
            binding.prim((*spec.at, "relative_to"), spec.relative_to, "relative_to") if spec.relative_to else None
        )

    def reads(self) -> list[Read]:
        return [Read(self.relative.GetPath(), "pose")] if self.relative is not None else []

    def frame(self, ctx: FrameContext) -> np.ndarray | None:
        """The world rotation draws are composed with (``relative_to``'s), read once per frame."""
        if self.relative is None:
            return None
        return decompose(ctx.world([self.relative]))[1][0]

    def sample(
        self, ctx: FrameContext, rng: np.random.Generator, step: int, count: int, frame: np.ndarray | None
    ) -> np.ndarray:
        """``count`` world rotations; ``frame`` is :meth:`frame`'s result."""
        spec = self.spec
        if spec.mode == "so3":
            rotation = uniform_rotations(rng, count)
        else:
            assert spec.angles is not None
            angles = spec.angles.sample(rng, count, step)
            rotation = axis_rotation(ctx.basis.up, angles) if spec.mode == "yaw" else euler_xyz(angles)
        return rotation @ frame if frame is not None else rotation


def footprint(corners: np.ndarray, ctx: FrameContext) -> np.ndarray:
    """Ground-plane points under a box: its corners, edge midpoints and center (21 points)."""
    flat = ctx.basis.plane(corners)
    middles = flat[BOX_EDGES].mean(axis=1)
    return np.concatenate([flat, middles, flat.mean(axis=0, keepdims=True)])


def lift(flat: np.ndarray, height: float, ctx: FrameContext) -> np.ndarray:
    """World points above ground-plane points ``flat`` at ``height``."""
    return flat @ ctx.basis.horizontal + height * ctx.basis.up


def settle(
    ctx: FrameContext, group: PrimGroup, world: np.ndarray, boxes: Sequence[np.ndarray | None]
) -> tuple[np.ndarray, list[str]]:
    """Lower (or raise) each prim so its box rests on the highest geometry under its footprint, below its top.

    The prims settle in order, each onto the stage (without these prims) and the boxes of those settled
    before it. Returns the drop of each prim (NaN where nothing is below) and notes.
    """
    stage_triangles = ctx.geometry.triangles(ctx.xforms(), exclude=group.paths)
    settled: list[np.ndarray] = []
    drops = np.full(len(group), np.nan)
    notes = []
    for i, box in enumerate(boxes):
        if box is None:
            continue
        corners = homogeneous(box, world[i])
        heights = ctx.basis.height(corners)
        origins = lift(footprint(corners, ctx), float(heights.max()), ctx)
        triangles = np.concatenate([stage_triangles, *settled]) if settled else stage_triangles
        rest = float(cast_down(origins, triangles, ctx.basis).max())
        if not np.isfinite(rest):
            notes.append(f"{group.names[i]}: nothing below to settle on")
            settled.append(corners[BOX_TRIANGLES])
            continue
        drops[i] = float(heights.min()) - rest
        world[i, 3, :3] -= drops[i] * ctx.basis.up
        settled.append(homogeneous(box, world[i])[BOX_TRIANGLES])
    return drops, notes


PlacementSpecT = TypeVar("PlacementSpecT", PoseSpec, ScatterSpec)


class Placer(Randomizer[PlacementSpecT]):
    """A randomizer that places prims (its selection, or a spawn's prims through :meth:`place`)."""

    def __init__(self, spec: PlacementSpecT, binding: Binding, prims: PrimGroup | None, boxes: bool) -> None:
        self.spec = spec
        self.prims = binding.select(spec, spec.select) if prims is None else prims
        self.orientation = Orientation(binding, spec.rotation) if spec.rotation else None
        xforms = UsdGeom.XformCache(binding.time)
        self.boxes = [prim_box(p, xforms, binding.time) for p in self.prims.prims] if boxes else []

    def reads(self) -> list[Read]:
        return [*parent_reads(self.prims), *(self.orientation.reads() if self.orientation else [])]

    def writes(self) -> list[Sdf.Path]:
        return list(self.prims.paths)

    def apply(self, ctx: FrameContext, rng: np.random.Generator, step: int) -> Applied:
        return self.place(ctx, rng, step, self.prims, self.boxes)

    @abstractmethod
    def place(
        self,
        ctx: FrameContext,
        rng: np.random.Generator,
        step: int,
        prims: PrimGroup,
        boxes: Sequence[np.ndarray | None],
    ) -> Applied:
        """Draw and write where ``prims`` go (``boxes``: their own boxes, from :func:`prim_box`)."""


class PoseRandomizer(Placer[PoseSpec]):
    """``type: pose`` (and a spawn's ``placement: {type: pose}``)."""

    def __init__(self, spec: PoseSpec, binding: Binding, prims: PrimGroup | None = None) -> None:
        super().__init__(spec, binding, prims, boxes=spec.settle)
        self.positions = Positions(binding, spec.position) if spec.position else None

    def reads(self) -> list[Read]:
        return [*super().reads(), *(self.positions.reads() if self.positions else [])]

    def place(
        self,
        ctx: FrameContext,
        rng: np.random.Generator,
        step: int,
        prims: PrimGroup,
        boxes: Sequence[np.ndarray | None],
    ) -> Applied:
        """Draw and write the poses of ``prims`` (``boxes``: their own boxes, needed by ``settle``)."""
        spec, count = self.spec, len(prims)
        scale, rotation, translation = decompose(ctx.world(prims.prims))
        values: dict[str, np.ndarray] = {}
        if self.positions is not None:
            translation, values = self.positions.sample(ctx, rng, step, count)
        if self.orientation is not None:
            rotation = self.orientation.sample(ctx, rng, step, count, self.orientation.frame(ctx))
        factor = np.ones((count, 3))
        if spec.scale is not None:
            factor = np.broadcast_to(spec.scale.sample(rng, count, step).reshape(count, -1), (count, 3)).copy()
            scale = scale * factor
        world = compose(scale, rotation, translation)
        notes: list[str] = []
        if spec.settle:
            drops, notes = settle(ctx, prims, world, boxes)
            values["settle_drop"] = drops
        values = {
            "position": world[:, 3, :3].copy(),
            "orientation": matrix_quaternions(rotation),
            "scale_factor": factor,
            **values,
        }
        ctx.author_world(prims, world)
        return Applied(prims.names, values, notes)


def convex_hull(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise hull of 2-D points (monotone chain)."""
    ordered = sorted({(round(float(x), 12), round(float(y), 12)) for x, y in points})
    if len(ordered) < 3:
        return np.array(ordered, np.float64)

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for point in ordered:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], point) <= 0:
            lower.pop()
        lower.append(point)
    for point in reversed(ordered):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], point) <= 0:
            upper.pop()
        upper.append(point)
    return np.array(lower[:-1] + upper[:-1], np.float64)


def polygons_overlap(first: np.ndarray, second: np.ndarray, tolerance: float = 1e-9) -> bool:
    """Whether two convex polygons share interior (separating-axis test; touching edges do not count)."""
    for polygon in (first, second):
        edges = np.roll(polygon, -1, axis=0) - polygon
        normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)
        a, b = first @ normals.T, second @ normals.T
        if np.any(np.minimum(a.max(axis=0), b.max(axis=0)) - np.maximum(a.min(axis=0), b.min(axis=0)) <= tolerance):
            return False
    return True


class Footprints:
    """Footprints placed so far on a surface: convex polygons, their bounding circles and height spans."""

    def __init__(self, capacity: int) -> None:
        self.polygons: list[np.ndarray] = []
        self.centers = np.zeros((capacity, 2))
        self.radii = np.zeros(capacity)
        self.spans = np.zeros((capacity, 2))

    def collides(self, polygon: np.ndarray, span: tuple[float, float]) -> bool:
        count = len(self.polygons)
        if not count:
            return False
        center = polygon.mean(axis=0)
        radius = float(np.sqrt(((polygon - center) ** 2).sum(axis=1).max()))
        gap = self.centers[:count] - center
        reach = self.radii[:count] + radius
        near = (gap[:, 0] ** 2 + gap[:, 1] ** 2 < reach**2) & (self.spans[:count, 0] < span[1])
        near &= self.spans[:count, 1] > span[0]
        return any(polygons_overlap(polygon, self.polygons[j]) for j in np.flatnonzero(near))

    def add(self, polygon: np.ndarray, span: tuple[float, float]) -> None:
        count = len(self.polygons)
        center = polygon.mean(axis=0)
        self.polygons.append(polygon)
        self.centers[count] = center
        self.radii[count] = np.sqrt(((polygon - center) ** 2).sum(axis=1).max())
        self.spans[count] = span


class ScatterRandomizer(Placer[ScatterSpec]):
    """``type: scatter`` (and a spawn's ``placement: {type: scatter}``)."""

    def __init__(self, spec: ScatterSpec, binding: Binding, prims: PrimGroup | None = None) -> None:
        super().__init__(spec, binding, prims, boxes=True)
        self.surface = binding.prim((*spec.at, "surface"), spec.surface, "surface")
        triangles = StageGeometry(binding.stage, binding.time).triangles(
            UsdGeom.XformCache(binding.time), roots=[self.surface.GetPath()], exclude=self.writes()
        )
        if not upward(triangles, binding.basis, spec.max_slope).any():
            raise binding.error(
                (*spec.at, "surface"),
                f"surface {spec.surface} has no upward faces (none within {spec.max_slope:g} degrees of the up axis)",
            )

    def reads(self) -> list[Read]:
        return [*super().reads(), Read(self.surface.GetPath(), "shape")]

    def place(
        self,
        ctx: FrameContext,
        rng: np.random.Generator,
        step: int,
        prims: PrimGroup,
        boxes: Sequence[np.ndarray | None],
    ) -> Applied:
        """Put ``prims`` on the surface; those that find no room are hidden."""
        spec, basis = self.spec, ctx.basis
        triangles = ctx.geometry.triangles(ctx.xforms(), roots=[self.surface.GetPath()], exclude=prims.paths)
        top = triangles[upward(triangles, basis, spec.max_slope)]
        ceiling = float(basis.height(triangles).max()) + 1.0 if len(triangles) else 0.0
        if not len(top):
            return Applied([], {}, [f"surface {spec.surface} has no upward faces this frame; nothing placed"])
        weights = areas(top)
        weights = weights / weights.sum()
        scale, rotation, translation = decompose(ctx.world(prims.prims))
        surface = _Surface(triangles, top, weights, ceiling)
        frame = self.orientation.frame(ctx) if self.orientation else None
        order = _largest_first(boxes, scale, rotation, basis)
        best: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        for _ in range(spec.retries + 1):
            layout = self._layout(ctx, rng, step, surface, order, boxes, scale, rotation, translation, frame)
            if best is None or layout[0].sum() > best[0].sum():
                best = layout
            if best[0].all():
                break
        assert best is not None
        placed, rotation, translation = best
        world = compose(scale, rotation, translation)
        notes: list[str] = []
        drops = np.full(len(prims), np.nan)
        chosen = prims.subset(placed)
        if spec.settle and len(chosen):
            kept = world[placed]
            drops[placed], notes = settle(ctx, chosen, kept, [b for b, ok in zip(boxes, placed, strict=True) if ok])
            world[placed] = kept
        if not placed.all():
            missing = prims.subset(~placed).names
            notes.append(
                f"placed {int(placed.sum())} of {len(prims)} prims on {spec.surface}; "
                f"hidden for lack of room: {', '.join(missing)}"
            )
        if len(chosen):
            ctx.author_world(chosen, world[placed])
        if not placed.all():
            with ctx.layer.batch():
                for path in prims.subset(~placed).paths:
                    ctx.layer.set_attribute(path, "visibility", _TOKEN, UsdGeom.Tokens.invisible)
            ctx.refresh()
        values: dict[str, np.ndarray] = {
            "placed": placed,
            "position": world[:, 3, :3].copy(),
            "orientation": matrix_quaternions(rotation),
        }
        if spec.settle:
            values["settle_drop"] = drops
        return Applied(prims.names, values, notes)

    def _layout(
        self,
        ctx: FrameContext,
        rng: np.random.Generator,
        step: int,
        surface: _Surface,
        order: list[int],
        boxes: Sequence[np.ndarray | None],
        scale: np.ndarray,
        rotation: np.ndarray,
        translation: np.ndarray,
        frame: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One pass placing the prims in ``order``: (placed mask, rotations, translations)."""
        spec, basis = self.spec, ctx.basis
        rotation, translation = rotation.copy(), translation.copy()
        placed = np.zeros(len(boxes), bool)
        taken = Footprints(len(boxes))
        for i in order:
            box = boxes[i]
            assert box is not None
            left = spec.max_attempts
            while left > 0 and not placed[i]:
                count = min(CANDIDATES, left)
                left -= count
                if self.orientation is not None:
                    turns = self.orientation.sample(ctx, rng, step, count, frame)
                else:
                    turns = np.broadcast_to(rotation[i], (count, 3, 3))
                points = sample_points(rng, surface.top, surface.weights, count)
                offsets = np.einsum("kj,njl->nkl", box, scale[i][:, None] * turns)
                heights = basis.height(offsets)
                origins = points - heights.min(axis=1)[:, None] * basis.up
                flat = basis.plane(offsets + origins[:, None])
                fits = self._rests_on_surface(ctx, surface, points, flat)
                for j in np.flatnonzero(fits):
                    polygon = convex_hull(flat[j])
                    bottom = float(basis.height(points[j]))
                    span = (bottom, bottom + float(np.ptp(heights[j])))
                    if spec.collisions and taken.collides(polygon, span):
                        continue
                    taken.add(polygon, span)
                    rotation[i], translation[i], placed[i] = turns[j], origins[j], True
                    break
        return placed, rotation, translation

    @staticmethod
    def _rests_on_surface(ctx: FrameContext, surface: _Surface, points: np.ndarray, flat: np.ndarray) -> np.ndarray:
        """Which candidates (resting points ``(k, 3)``, box corners seen from above ``(k, 8, 2)``) lie wholly
        over the surface with nothing of it sticking up: the surface's top under the point and under every
        corner exists (nothing hangs over an edge) and is no higher than the point."""
        basis = ctx.basis
        probes = np.concatenate([basis.plane(points)[:, None], flat], axis=1)
        tops = cast_down(lift(probes.reshape(-1, 2), surface.ceiling, ctx), surface.triangles, basis)
        tops = tops.reshape(len(points), -1)
        level = basis.height(points)[:, None] + REST_TOLERANCE
        return np.asarray(np.isfinite(tops).all(axis=1) & (tops <= level).all(axis=1))


@dataclass(frozen=True)
class _Surface:
    """A scatter surface this frame: all its triangles, the upward ones with their area weights, a height
    above all of it."""

    triangles: np.ndarray
    top: np.ndarray
    weights: np.ndarray
    ceiling: float


def _largest_first(
    boxes: Sequence[np.ndarray | None], scale: np.ndarray, rotation: np.ndarray, basis: Basis
) -> list[int]:
    """Indices of the prims with a box, larger footprints first (ties keep selection order)."""
    sizes = {}
    for i, box in enumerate(boxes):
        if box is not None:
            flat = basis.plane(box @ (scale[i][:, None] * rotation[i]))
            sizes[i] = float(np.prod(np.ptp(flat, axis=0)))
    return sorted(sizes, key=lambda i: -sizes[i])


_TOKEN = Sdf.ValueTypeNames.Token
