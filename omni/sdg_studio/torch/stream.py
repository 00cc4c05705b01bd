"""``SyntheticStream``: an endless (or bounded) stream of rendered, labeled frames for PyTorch training.

>>> stream = SyntheticStream("warehouse_labeled.usda", resolution=(512, 512), frames=1000)
>>> loader = DataLoader(stream, batch_size=8, num_workers=8, collate_fn=detection_collate)

Frame ``i`` is a pure function of ``(seed, i)``: the scenario is applied for frame ``i`` and every camera
is rendered. A scenario file (``scenario="warehouse.yaml"``) is bound by each process to its own stage
with the randomization engine, so the stream shows the frames ``sdg-studio record --scenario`` records
for the same seed. With a ``DataLoader`` of ``W`` workers, worker ``k`` renders frames ``k, k + W, k + 2W, ...``
(no duplicates, no gaps). Each worker opens its own stage and renderer once, on its first frame; the
dataset object itself holds only the stage path and settings, so nothing heavy is pickled. A frame
yields one sample per camera, ``image_id = frame * len(cameras) + camera index``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pxr import Usd, UsdGeom
from torch.utils.data import IterableDataset, get_worker_info

from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.randomize.engine import RandomizationEngine
from omni.sdg_studio.core.randomize.scenario import Scenario as ScenarioSpec
from omni.sdg_studio.core.randomize.scenario_file import load_scenario
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.targets import TargetClasses, check_targets, frame_targets, target_annotators
from omni.sdg_studio.core.targets.source import BackendFrameSource, FrameRandomizer, FrameSource
from omni.sdg_studio.core.visualize.cameras import stage_cameras
from omni.sdg_studio.torch.convert import Sample, to_tensors

#: Builds a scenario for one process's stage: ``factory(stage, seed) -> FrameRandomizer``.
ScenarioFactory = Callable[[Usd.Stage, int], FrameRandomizer]
Scenario = ScenarioSpec | FrameRandomizer | ScenarioFactory | str | os.PathLike | None
#: A class table, a rules file (its ``classes``), or class names in id order (1, 2, ...).
Classes = TargetClasses | ClassTable | str | os.PathLike | Sequence[str] | None
BACKENDS = ("embedded", "replicator")
#: Kit's own viewport cameras (session layer), not scene cameras.
_KIT_CAMERA_PREFIX = "/OmniverseKit_"


class StreamError(SdgStudioError, ValueError):
    """The stream cannot be set up as asked; the message names the argument at fault."""


def resolve_classes(
    classes: Classes, semantic_types: Sequence[str], stage: Usd.Stage | None = None
) -> TargetClasses:
    """``classes`` as a :class:`TargetClasses`; ``None`` = every label on ``stage``, sorted (ids 1, 2, ...)."""
    if classes is None:
        if stage is None:
            raise StreamError("classes: give a class table, a rules file or class names")
        return TargetClasses.of_stage(stage, semantic_types)
    if isinstance(classes, TargetClasses):
        return classes
    if isinstance(classes, ClassTable):
        return TargetClasses(classes, tuple(semantic_types))
    if isinstance(classes, (str, os.PathLike)):
        return TargetClasses.of_rules(classes, semantic_types)
    names = list(classes)
    if not names or not all(isinstance(n, str) for n in names):
        raise StreamError(f"classes: expected a rules file, a ClassTable or a list of class names, got {classes!r}")
    return TargetClasses.of_names(names, semantic_types)


@dataclass
class _ProcessState:
    """What one process (the main one or a DataLoader worker) renders with; never pickled."""

    pid: int
    stage: Usd.Stage
    source: FrameSource


class SyntheticStream(IterableDataset):
    """Rendered frames as torchvision detection samples ``(image [3, H, W] float in [0, 1], target)``.

    Args:
        stage: A USD file path (each worker opens its own), or an open ``Usd.Stage`` (main process only:
            ``num_workers=0``). With ``backend="replicator"``: Kit's stage, a path to open in Kit, or None
            for the stage open in Kit.
        scenario: None; a scenario file path (YAML / JSON, docs/randomization.md) or a parsed ``Scenario``,
            which each process binds to its own stage with the randomization engine; a ``FrameRandomizer``
            (``apply(index)``, ``restore()``) bound to ``stage`` (main process only); or a factory
            ``(stage, seed) -> FrameRandomizer`` called once per process.
        cameras: Camera prim paths; None or ``"auto"`` = every camera of the stage.
        resolution: ``(width, height)`` of every image.
        targets: ``boxes`` (always), ``masks``, ``depth``, ``semantic``, ``normals``, ``occlusion``.
        seed: The randomization seed (it wins over a scenario file's ``seed``; None = the file's, else 0),
            passed to a scenario factory; frame ``i`` depends on ``(seed, i)`` only.
        frames: Number of frames (each gives one sample per camera); None = endless.
        backend: ``embedded`` (usd-core + ray caster, any machine) or ``replicator`` (inside Isaac Sim).
        classes: The class table (see :func:`resolve_classes`); None = the stage's labels, sorted.
        semantic_types: Taxonomies whose labels name classes (first present wins).
        min_pixels: Objects with fewer visible pixels are left out.
        engine: Ray engine of the embedded backend (``auto``, ``embree``, ``numpy``).
        threads: Render threads per process; None = all cores in the main process, cores / workers in a worker.
        rt_subframes: Replicator's ``rt_subframes`` per step (replicator backend only).
    """

    def __init__(
        self,
        stage: str | os.PathLike[str] | Usd.Stage | None,
        scenario: Scenario = None,
        cameras: Sequence[str] | str | None = None,
        resolution: tuple[int, int] = (512, 512),
        targets: Collection[str] = ("boxes", "masks"),
        seed: int | None = None,
        frames: int | None = None,
        backend: str = "embedded",
        *,
        classes: Classes = None,
        semantic_types: Sequence[str] = ("class",),
        min_pixels: int = 1,
        engine: str = "auto",
        threads: int | None = None,
        rt_subframes: int = 4,
    ) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise StreamError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
        if not (
            isinstance(resolution, (tuple, list))
            and len(resolution) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in resolution)
        ):
            raise StreamError(f"resolution {resolution!r}: expected (width, height), two positive integers")
        if frames is not None and (isinstance(frames, bool) or not isinstance(frames, int) or frames < 0):
            raise StreamError(f"frames {frames!r}: expected None (endless) or an integer >= 0")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise StreamError(f"seed {seed!r}: expected None or an integer >= 0")
        if isinstance(scenario, (str, os.PathLike)) and not Path(scenario).is_file():
            raise StreamError(f"scenario {os.fspath(scenario)}: no such file")
        usable = scenario is None or isinstance(scenario, (str, os.PathLike, ScenarioSpec)) or _is_scenario(scenario)
        if not (usable or callable(scenario)):
            raise StreamError(f"scenario {scenario!r}: expected a file path, an object with apply/restore or a factory")
        self.backend = backend
        self.resolution = (int(resolution[0]), int(resolution[1]))
        try:
            self.targets = check_targets(targets)
        except SdgStudioError as exc:
            raise StreamError(f"targets: {exc}") from None
        self.annotators = target_annotators(self.targets)
        self.seed = seed
        self.frames = frames
        self.scenario = scenario
        self.semantic_types = tuple(semantic_types)
        self.min_pixels = min_pixels
        self.engine = engine
        self.threads = threads
        self.rt_subframes = rt_subframes
        self.stage_path: str | None = None
        self._given_stage: Usd.Stage | None = None
        if isinstance(stage, Usd.Stage):
            self._given_stage = stage
        elif stage is not None:
            self.stage_path = os.fspath(stage)
        elif backend == "embedded":
            raise StreamError("stage: give a USD file path or an open Usd.Stage")
        if _is_scenario(scenario) and backend == "embedded" and self._given_stage is None:
            raise StreamError(
                "scenario: a scenario object edits the stage it was made for; pass that open Usd.Stage as "
                "stage, or a factory (stage, seed) -> scenario that each process calls with its own stage"
            )
        probe = self._open_stage()  # only to check cameras and read labels; each process opens its own
        self.cameras = self._resolve_cameras(probe, cameras)
        self.classes = resolve_classes(classes, self.semantic_types, probe)
        if isinstance(scenario, (str, os.PathLike, ScenarioSpec)):
            self._engine(probe)  # a bad file or a prim the stage lacks: one error naming file and line, now
        self._state: _ProcessState | None = None

    # -- torch.utils.data ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Sample]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        state = self._process_state(in_worker=info is not None, workers=workers)
        index = worker
        while self.frames is None or index < self.frames:
            yield from self._samples(state, index)
            index += workers

    def __len__(self) -> int:
        """Samples in all (frames x cameras); an endless stream has no length."""
        if self.frames is None:
            raise TypeError("an endless SyntheticStream (frames=None) has no length")
        return self.frames * len(self.cameras)

    def __getstate__(self) -> dict[str, Any]:
        if self._given_stage is not None:
            raise StreamError(
                "an open Usd.Stage cannot be sent to DataLoader worker processes: give the stage's file path "
                "(each worker opens its own) or use num_workers=0"
            )
        state = dict(self.__dict__)
        state["_state"] = None
        return state

    # -- direct use -----------------------------------------------------------------------------------
    def frame(self, index: int) -> list[Sample]:
        """The samples of frame ``index`` (one per camera), rendered in this process."""
        if index < 0 or (self.frames is not None and index >= self.frames):
            raise IndexError(f"frame {index} is outside the stream's {self.frames} frames")
        return list(self._samples(self._process_state(in_worker=get_worker_info() is not None, workers=1), index))

    def close(self) -> None:
        """Undo the scenario's edits and release this process's renderer."""
        if self._state is not None:
            self._state.source.close()
            self._state = None

    # -- internals -------------------------------------------------------------------------------------
    def _samples(self, state: _ProcessState, index: int) -> Iterator[Sample]:
        count = len(self.cameras)
        for position, frame in enumerate(state.source.render(index)):
            targets = frame_targets(frame, self.classes, self.targets, min_pixels=self.min_pixels)
            yield to_tensors(targets, index * count + position)

    def _open_stage(self) -> Usd.Stage:
        if self.backend == "replicator":
            from omni.sdg_studio.backends.replicator.online_source import kit_stage

            return kit_stage(self._given_stage if self._given_stage is not None else self.stage_path)
        if self._given_stage is not None:
            return self._given_stage
        assert self.stage_path is not None
        return open_stage(self.stage_path)

    def _resolve_cameras(self, stage: Usd.Stage, cameras: Sequence[str] | str | None) -> tuple[str, ...]:
        if cameras is None or cameras == "auto":
            found = [c for c in stage_cameras(stage) if not c.startswith(_KIT_CAMERA_PREFIX)]
            if not found:
                raise StreamError(f"{self.stage_path or 'stage'}: has no camera; add one or name cameras=[...]")
            return tuple(found)
        if isinstance(cameras, str):
            cameras = [cameras]
        for path in cameras:
            prim = stage.GetPrimAtPath(path) if path.startswith("/") else None
            if prim is None or not prim.IsValid() or not prim.IsA(UsdGeom.Camera):
                raise StreamError(f"cameras: {path!r} is not a camera prim of {self.stage_path or 'the stage'}")
        return tuple(cameras)

    def _process_state(self, *, in_worker: bool, workers: int) -> _ProcessState:
        if self._state is not None and self._state.pid == os.getpid():
            return self._state
        if in_worker and self._given_stage is not None:
            raise StreamError(
                "an open Usd.Stage cannot be used by DataLoader workers: give the stage's file path or num_workers=0"
            )
        if in_worker and self.backend == "replicator":
            raise StreamError("backend 'replicator' renders in Isaac Sim's process: use num_workers=0")
        stage = self._open_stage()
        scenario = self._scenario_for(stage, in_worker)
        if self.backend == "replicator":
            from omni.sdg_studio.backends.replicator.online_source import ReplicatorFrameSource

            source: FrameSource = ReplicatorFrameSource(
                self.cameras,
                self.resolution,
                self.annotators,
                scenario=scenario,
                rt_subframes=self.rt_subframes,
            )
        else:
            from omni.sdg_studio.backends.embedded import EmbeddedBackend

            threads = self.threads
            if threads is None and in_worker:
                threads = max(1, (os.cpu_count() or 1) // max(1, workers))
            backend = EmbeddedBackend(stage, engine=self.engine, threads=threads)
            source = BackendFrameSource(
                backend,
                self.cameras,
                self.resolution,
                self.annotators,
                scenario=scenario,
                semantic_types=self.semantic_types,
            )
        self._state = _ProcessState(os.getpid(), stage, source)
        return self._state

    def _engine(self, stage: Usd.Stage) -> RandomizationEngine:
        """The scenario file or ``Scenario`` bound to ``stage`` (nothing is authored until a frame is applied)."""
        scenario = self.scenario
        spec = load_scenario(os.fspath(scenario)) if isinstance(scenario, (str, os.PathLike)) else scenario
        assert isinstance(spec, ScenarioSpec)
        return RandomizationEngine(stage, spec, seed=self.seed)

    def _scenario_for(self, stage: Usd.Stage, in_worker: bool) -> FrameRandomizer | None:
        scenario = self.scenario
        if scenario is None:
            return None
        if isinstance(scenario, (str, os.PathLike, ScenarioSpec)):
            return self._engine(stage)
        if _is_scenario(scenario):
            if in_worker:
                raise StreamError(
                    "a scenario object is bound to the main process's stage: pass a factory "
                    "(stage, seed) -> scenario to use DataLoader workers, or num_workers=0"
                )
            return scenario  # type: ignore[return-value]
        built = scenario(stage, self.seed if self.seed is not None else 0)  # type: ignore[operator]
        if not _is_scenario(built):
            raise StreamError(f"scenario factory {scenario!r} returned {built!r}, not an object with apply/restore")
        return built


def _is_scenario(value: object) -> bool:
    return callable(getattr(value, "apply", None)) and callable(getattr(value, "restore", None))
