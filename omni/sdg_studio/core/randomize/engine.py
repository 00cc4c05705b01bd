"""The randomization engine: a scenario bound to a stage, applied frame by frame.

>>> engine = RandomizationEngine(stage, load_scenario("scenario.yaml"), seed=7)
>>> record = engine.apply(12)   # the stage now shows frame 12's variation
>>> engine.restore()            # and the scene again

Frame *i*'s values are a pure function of (seed, randomizer index, frame): each randomizer draws from
``numpy.random.default_rng([seed, index, frame])`` (with ``every: N``, the frame rounded down to a
multiple of N), never from a stream carried across frames, so any frame comes out the same in any
order, on any machine with the same numpy. Edits go into one anonymous layer under the session layer
(:class:`FrameLayer`); each frame starts from the scene, so applying frame *j* after frame *i* leaves
exactly what applying *j* alone leaves. Randomizers run in file order, except that one placing prims
relative to another prim runs after the randomizers that move that prim (a cycle is an error).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable

import numpy as np
from pxr import Sdf, Usd

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.randomize.appearance import ColorRandomizer, MaterialRandomizer, VisibilityRandomizer
from omni.sdg_studio.core.randomize.camera import CameraRandomizer
from omni.sdg_studio.core.randomize.context import Binding, FrameContext, Randomizer
from omni.sdg_studio.core.randomize.frame_layer import FrameLayer
from omni.sdg_studio.core.randomize.geometry import StageGeometry
from omni.sdg_studio.core.randomize.lights import LightRandomizer
from omni.sdg_studio.core.randomize.placement import PoseRandomizer, ScatterRandomizer
from omni.sdg_studio.core.randomize.record import FrameRecord, RandomizerRecord
from omni.sdg_studio.core.randomize.scenario import RandomizerSpec, Scenario
from omni.sdg_studio.core.randomize.selection import StagePrims
from omni.sdg_studio.core.randomize.spawn import SpawnRandomizer
from omni.sdg_studio.core.randomize.transforms import Basis

logger = logging.getLogger(__name__)

BUILDERS: dict[str, Callable[..., Randomizer]] = {
    "pose": PoseRandomizer,
    "scatter": ScatterRandomizer,
    "spawn": SpawnRandomizer,
    "color": ColorRandomizer,
    "material": MaterialRandomizer,
    "light": LightRandomizer,
    "camera": CameraRandomizer,
    "visibility": VisibilityRandomizer,
}


class RandomizeError(SdgStudioError):
    """A frame could not be randomized as asked (with ``strict``: a scatter that did not fit, ...)."""


def frame_rng(seed: int, index: int, frame: int) -> np.random.Generator:
    """The generator randomizer ``index`` draws frame ``frame``'s values from."""
    return np.random.default_rng([seed, index, frame])


def run_order(scenario: Scenario, randomizers: list[Randomizer]) -> list[int]:
    """Positions of ``randomizers`` in the order they run: file order, except that a randomizer reading a
    prim runs after those moving it. Raises a located error for a randomizer that reads what it moves
    and for a cycle."""
    count = len(randomizers)
    after: list[set[int]] = [set() for _ in range(count)]  # after[a]: randomizers a must follow
    why: dict[tuple[int, int], str] = {}
    writes = [r.writes() for r in randomizers]
    for a, reader in enumerate(randomizers):
        for read in reader.reads():
            for b in range(count):
                hit = next((w for w in writes[b] if read.affected_by(w)), None)
                if hit is None:
                    continue
                if a == b:
                    raise scenario.error(
                        reader.spec.at,
                        f"randomizers[{reader.spec.index}] ({reader.spec.type}) places prims relative to "
                        f"{read.path}, which it moves itself",
                    )
                after[a].add(b)
                why.setdefault(
                    (a, b),
                    f"randomizers[{randomizers[a].spec.index}] reads {read.path}, "
                    f"which randomizers[{randomizers[b].spec.index}] moves",
                )
    waiting = [len(deps) for deps in after]
    followers: list[list[int]] = [[] for _ in range(count)]
    for a, deps in enumerate(after):
        for b in deps:
            followers[b].append(a)
    ready = [i for i in range(count) if waiting[i] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        current = heapq.heappop(ready)
        order.append(current)
        for follower in followers[current]:
            waiting[follower] -= 1
            if waiting[follower] == 0:
                heapq.heappush(ready, follower)
    if len(order) < count:
        cycle = _cycle(after, {i for i in range(count) if i not in order})
        steps = "; ".join(why[(cycle[k], cycle[k + 1])] for k in range(len(cycle) - 1))
        raise scenario.error(randomizers[cycle[0]].spec.at, f"relative placements form a cycle: {steps}")
    return order


def _cycle(after: list[set[int]], stuck: set[int]) -> list[int]:
    """A cycle among ``stuck`` nodes of the ``after`` graph, as a closed list of nodes."""
    start = min(stuck)
    path, seen = [start], {start: 0}
    while True:
        current = path[-1]
        nxt = min(b for b in after[current] if b in stuck)
        if nxt in seen:
            return [*path[seen[nxt] :], nxt]
        seen[nxt] = len(path)
        path.append(nxt)


class RandomizationEngine:
    """A scenario bound to ``stage``: :meth:`apply` shows a frame's variation, :meth:`restore` the scene.

    ``seed`` overrides the scenario's (default 0). ``strict`` turns warnings (a select matching nothing,
    prims that did not fit, nothing below to settle on) into errors. Binding checks every referenced prim,
    material, asset and surface and raises a :class:`ConfigError` naming file, line and randomizer.
    """

    def __init__(
        self,
        stage: Usd.Stage,
        scenario: Scenario,
        *,
        seed: int | None = None,
        strict: bool = False,
        time: Usd.TimeCode | float | None = None,
    ) -> None:
        self.stage = stage
        self.scenario = scenario
        self.seed = seed if seed is not None else scenario.seed if scenario.seed is not None else 0
        if self.seed < 0:
            raise RandomizeError(f"seed {self.seed}: a seed is a whole number >= 0")
        self.strict = strict
        self.time = Usd.TimeCode.Default() if time is None else Usd.TimeCode(time)
        self.basis = Basis.of_stage(stage)
        binding = Binding(stage, scenario, StagePrims(stage), self.basis, self.time, strict)
        self.randomizers = [BUILDERS[spec.type](spec, binding) for spec in scenario.randomizers]
        self.warnings = binding.warnings
        self.order = run_order(scenario, self.randomizers)
        self.layer = FrameLayer(stage)
        self.geometry = StageGeometry(stage, self.time)

    def apply(self, frame: int, time: Usd.TimeCode | float | None = None) -> FrameRecord:
        """Show frame ``frame``'s variation on the stage and return what was drawn.

        ``time`` is the time code the stage is read at (default: the engine's). On any error the stage
        is restored to the scene before the error propagates: it is never left half-edited.
        """
        if frame < 0:
            raise RandomizeError(f"frame {frame}: frames are numbered from 0")
        code = self.time if time is None else Usd.TimeCode(time)
        try:
            return self._apply(frame, code)
        except BaseException:
            self.restore()
            raise

    def _apply(self, frame: int, time: Usd.TimeCode) -> FrameRecord:
        self.layer.begin_frame()
        for randomizer in self.randomizers:
            for root in randomizer.spawn_roots():
                self.geometry.forget(root)
        if time != self.geometry.time:  # cached triangles are those of one time
            self.geometry = StageGeometry(self.stage, time)
        ctx = FrameContext(self.stage, self.basis, time, self.layer, self.geometry, frame)
        records = []
        for position in self.order:
            randomizer = self.randomizers[position]
            spec = randomizer.spec
            drawn_for = frame - frame % spec.every
            ctx.refresh()
            applied = randomizer.apply(ctx, frame_rng(self.seed, spec.index, drawn_for), frame // spec.every)
            for note in applied.notes:
                self._note(spec, frame, note)
            records.append(
                RandomizerRecord(
                    spec.index, spec.type, drawn_for, tuple(applied.prims), applied.values, tuple(applied.notes)
                )
            )
        self.layer.end_frame()
        return FrameRecord(self.seed, frame, tuple(records))

    def _note(self, spec: RandomizerSpec, frame: int, note: str) -> None:
        text = f"{self.scenario.where(spec.at)}: {spec.type}, frame {frame}: {note}"
        if self.strict:
            raise RandomizeError(text)
        logger.warning(text)

    def restore(self) -> None:
        """Remove every trace of the randomization: the stage shows the scene again."""
        self.layer.restore()

    @property
    def frame_layer(self) -> Sdf.Layer | None:
        """The anonymous layer holding the current frame's edits (``None`` before :meth:`apply`)."""
        return self.layer.layer
