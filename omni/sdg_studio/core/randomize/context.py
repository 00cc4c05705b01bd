"""What a randomizer sees while it runs: the stage as edited so far this frame, caches and the layer."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import numpy as np
from pxr import Sdf, Usd, UsdGeom, Vt

from omni.sdg_studio.core.config_document import ConfigError, FieldPath
from omni.sdg_studio.core.randomize.frame_layer import FrameLayer
from omni.sdg_studio.core.randomize.geometry import StageGeometry, gf_array
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

    def select(self, spec: RandomizerSpec, selection: Selection | None) -> list[Usd.Prim]:
        """The prims ``selection`` picks; none is a warning naming the randomizer (an error with ``strict``)."""
        if selection is None:
            return []
        prims = select(self.candidates, selection)
        if not prims:
            self.warn(selection.at, f"randomizers[{spec.index}] ({spec.type}): select {selection.text} matches no prim")
        return prims


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
        xforms = self.xforms()
        out = np.empty((len(prims), 4, 4))
        for i, prim in enumerate(prims):
            out[i] = gf_array(xforms.GetLocalToWorldTransform(prim))
        return out

    def local(self, prims: Sequence[Usd.Prim]) -> np.ndarray:
        """``(n, 4, 4)`` local transforms (relative to each parent)."""
        xforms = self.xforms()
        out = np.empty((len(prims), 4, 4))
        for i, prim in enumerate(prims):
            out[i] = gf_array(xforms.GetLocalTransformation(prim)[0])
        return out

    def author_world(self, prims: Sequence[Usd.Prim], world: np.ndarray) -> None:
        """Write transforms that put ``prims`` at ``world`` (each relative to its parent, one change block)."""
        xforms = self.xforms()
        parents: dict[Sdf.Path, np.ndarray] = {}
        inverse = np.empty_like(world)
        for i, prim in enumerate(prims):
            parent = prim.GetPath().GetParentPath()
            found = parents.get(parent)
            if found is None:
                found = parents[parent] = np.linalg.inv(gf_array(xforms.GetLocalToWorldTransform(prim.GetParent())))
            inverse[i] = found
        self.author_local(prims, world @ inverse)

    def author_local(self, prims: Sequence[Usd.Prim], local: np.ndarray) -> None:
        """Write ``local`` transforms of ``prims`` (one change block)."""
        matrices = Vt.Matrix4dArray.FromNumpy(np.ascontiguousarray(local))
        with self.layer.batch():
            self.layer.set_transforms([p.GetPath() for p in prims], matrices)
        self.refresh()


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


def parent_reads(prims: Sequence[Usd.Prim]) -> list[Read]:
    """The parents of ``prims``: their placement is relative to them."""
    parents = {p.GetPath().GetParentPath() for p in prims}
    return [Read(path, "pose") for path in sorted(parents) if path != Sdf.Path.absoluteRootPath]
