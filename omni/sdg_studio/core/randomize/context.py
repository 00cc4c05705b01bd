"""What a randomizer sees while it runs: the stage as edited so far this frame, caches and the layer."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, Vt

from omni.sdg_studio.core.config_document import ConfigError, FieldPath
from omni.sdg_studio.core.randomize.frame_layer import FrameLayer
from omni.sdg_studio.core.randomize.geometry import StageGeometry
from omni.sdg_studio.core.randomize.scenario import RandomizerSpec, Scenario, Selection
from omni.sdg_studio.core.randomize.selection import StagePrims, select
from omni.sdg_studio.core.randomize.transforms import Basis

logger = logging.getLogger(__name__)

ReadKind = Literal["pose", "shape"]


@dataclass(frozen=True)
class Read:
    """A prim a randomizer reads: its ``pose`` (world transform) or its ``shape`` (box / geometry, which
    also depends on its descendants)."""

    path: Sdf.Path
    kind: ReadKind

    def affected_by(self, written: Sdf.Path) -> bool:
        """Whether moving ``written`` changes what this read sees."""
        return self.path.HasPrefix(written) or (self.kind == "shape" and written.HasPrefix(self.path))


@dataclass(frozen=True)
class PrimGroup:
    """Prims a randomizer edits, with their paths, path strings and parents looked up once (at binding)."""

    prims: list[Usd.Prim]
    paths: list[Sdf.Path]
    names: list[str]
    parents: list[Sdf.Path]

    @classmethod
    def of(cls, prims: Sequence[Usd.Prim]) -> PrimGroup:
        paths = [p.GetPath() for p in prims]
        return cls(list(prims), paths, [str(p) for p in paths], [p.GetParentPath() for p in paths])

    def __len__(self) -> int:
        return len(self.prims)

    def subset(self, keep: Sequence[bool] | np.ndarray) -> PrimGroup:
        """The prims where ``keep`` is true."""
        rows = [i for i, ok in enumerate(keep) if ok]
        return PrimGroup(*([part[i] for i in rows] for part in (self.prims, self.paths, self.names, self.parents)))


@dataclass
class Binding:
    """What randomizers are bound with: the stage, the scenario (for located errors) and its prims."""

    stage: Usd.Stage
    scenario: Scenario
    candidates: StagePrims
    basis: Basis
    time: Usd.TimeCode
    strict: bool = False
    warnings: list[str] = field(default_factory=list)

    def error(self, at: FieldPath, message: str) -> ConfigError:
        return self.scenario.error(at, message)

    def warn(self, at: FieldPath, message: str) -> None:
        """Record and log a warning located at ``at``; with ``strict`` it is an error."""
        if self.strict:
            raise self.error(at, message)
        text = f"{self.scenario.where(at)}: {message}"
        self.warnings.append(text)
        logger.warning(text)

    def prim(self, at: FieldPath, path: str, role: str) -> Usd.Prim:
        """The prim at ``path``; an error naming ``role`` when the stage has none."""
        prim = self.stage.GetPrimAtPath(path)
        if not prim or not prim.IsActive():
            raise self.error(at, f"{role} {path} is not a prim of the stage")
        return prim

    def select(self, spec: RandomizerSpec, selection: Selection | None) -> PrimGroup:
        """The prims ``selection`` picks; none is a warning naming the randomizer (an error with ``strict``)."""
        if selection is None:
            return PrimGroup.of([])
        prims = select(self.candidates, selection)
        if not prims:
            self.warn(selection.at, f"the {spec.type} randomizer's select {selection.text} matches no prim")
        return PrimGroup.of(prims)


@dataclass
class FrameContext:
    """The stage during one frame; :meth:`refresh` after writes so the caches see them."""

    stage: Usd.Stage
    basis: Basis
    time: Usd.TimeCode
    layer: FrameLayer
    geometry: StageGeometry
    frame: int
    _xforms: UsdGeom.XformCache | None = field(default=None, repr=False)

    def refresh(self) -> None:
        self._xforms = None

    def xforms(self) -> UsdGeom.XformCache:
        if self._xforms is None:
            self._xforms = UsdGeom.XformCache(self.time)
        return self._xforms

    def world(self, prims: Sequence[Usd.Prim]) -> np.ndarray:
        """``(n, 4, 4)`` world transforms."""
        world = self.xforms().GetLocalToWorldTransform
        return np.array(Vt.Matrix4dArray([world(p) for p in prims]), np.float64).reshape(-1, 4, 4)

    def local(self, prims: Sequence[Usd.Prim]) -> np.ndarray:
        """``(n, 4, 4)`` local transforms (relative to each parent)."""
        local = self.xforms().GetLocalTransformation
        return np.array(Vt.Matrix4dArray([local(p)[0] for p in prims]), np.float64).reshape(-1, 4, 4)

    def author_world(self, group: PrimGroup, world: np.ndarray) -> None:
        """Write transforms that put the ``group``'s prims at ``world`` (each relative to its parent)."""
        distinct = list(dict.fromkeys(group.parents))
        inverses = np.linalg.inv(self.world([self.stage.GetPrimAtPath(p) for p in distinct]))
        if len(distinct) == 1:
            local = world @ inverses[0]
        else:
            row = {path: i for i, path in enumerate(distinct)}
            local = world @ inverses[[row[p] for p in group.parents]]
        self.author_local(group.paths, local)

    def author_local(self, paths: Sequence[Sdf.Path], local: np.ndarray) -> None:
        """Write ``local`` transforms of the prims at ``paths`` (one change block)."""
        matrices = Vt.Matrix4dArray.FromNumpy(np.ascontiguousarray(local))
        with self.layer.batch():
            self.layer.set_transforms(paths, matrices, self._scene_local)
        self.refresh()

    def _scene_local(self, path: Sdf.Path) -> Gf.Matrix4d | None:
        """The local transform the scene gives a prim not yet written by the layer (``None`` when it is animated
        or resets the transform stack: such a prim's transform is cleared between frames instead)."""
        prim = self.stage.GetPrimAtPath(path)
        if UsdGeom.Xformable(prim).TransformMightBeTimeVarying():
            return None
        matrix, resets = self.xforms().GetLocalTransformation(prim)
        return None if resets else Gf.Matrix4d(matrix)


@dataclass
class Applied:
    """What one randomizer did in a frame: the prims it edited, the values it drew, notes."""

    prims: list[str]
    values: dict[str, Any]
    notes: list[str] = field(default_factory=list)


SpecT = TypeVar("SpecT", bound=RandomizerSpec)


class Randomizer(ABC, Generic[SpecT]):
    """A randomizer bound to a stage: its prims are resolved, its references checked."""

    spec: SpecT

    def reads(self) -> list[Read]:
        """Prims whose pose or shape this randomizer reads (it runs after whatever moves them)."""
        return []

    def writes(self) -> list[Sdf.Path]:
        """Prims whose pose or geometry this randomizer changes."""
        return []

    def spawn_roots(self) -> list[Sdf.Path]:
        """Prims this randomizer creates and replaces every frame."""
        return []

    @abstractmethod
    def apply(self, ctx: FrameContext, rng: np.random.Generator, step: int) -> Applied:
        """Draw this frame's values with ``rng`` and write them through ``ctx.layer``."""


def parent_reads(group: PrimGroup) -> list[Read]:
    """The parents of the ``group``'s prims: their placement is relative to them."""
    return [Read(path, "pose") for path in sorted(set(group.parents)) if path != Sdf.Path.absoluteRootPath]
