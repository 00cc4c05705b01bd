"""The recorder's randomization: one engine applies the config's scenario and camera jitter before every frame.

The scenario comes from ``--scenario`` or the config's ``sdg_studio.randomization``. The camera jitter
(``sdg_studio.camera_jitter: {position, rotation}``) is a shorthand for one more ``camera`` randomizer
with ``jitter`` on the recorded cameras, appended after the scenario's, so it draws frame *i* from
``(seed, its index, i)`` like any randomizer. :class:`RecordingRandomization` applies a frame before it
is rendered and writes its record beside the manifest once the frame's files are on disk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from pxr import Usd

from omni.sdg_studio.core.randomize.engine import RandomizationEngine
from omni.sdg_studio.core.randomize.record import FrameRecord
from omni.sdg_studio.core.randomize.scenario import CameraSpec, JitterSpec, Scenario, Selection, Selector
from omni.sdg_studio.core.recorder.config import CameraJitter, RecorderConfig
from omni.sdg_studio.core.recorder.frame_records import FrameRecordsFile
from omni.sdg_studio.core.render_backend import AUTO_CAMERA
from omni.sdg_studio.core.semantics.rules import Match

#: How a recording draws its frames; a manifest without it was recorded before the engine drew the camera
#: jitter (from ``(seed, frame)`` then, ``(seed, randomizer index, frame)`` now) and cannot be resumed.
RANDOMIZATION_VERSION = 1
JITTER_FIELD = "camera_jitter"


def camera_jitter_scenario(jitter: CameraJitter, cameras: Sequence[str]) -> Scenario:
    """A scenario doing what ``jitter`` does to ``cameras`` (prim paths): one ``camera`` randomizer with
    ``jitter: {position, rotation}`` (index 0); empty when the jitter is off."""
    if not jitter.enabled or not cameras:
        return Scenario()
    paths = list(dict.fromkeys(cameras))
    selectors = tuple(Selector(matches=(Match.build("path", "regex", re.escape(p), False),)) for p in paths)
    select = Selection(selectors=selectors, text=", ".join(paths), at=(JITTER_FIELD,))
    camera = CameraSpec(
        index=0,
        at=(JITTER_FIELD,),
        select=select,
        jitter=JitterSpec(position=jitter.position, rotation=jitter.rotation),
    )
    return Scenario(randomizers=(camera,))


def recording_scenario(config: RecorderConfig) -> Scenario:
    """The config's scenario followed by its camera jitter on the config's cameras (if any)."""
    scenario = config.randomization.scenario if config.randomization is not None else Scenario()
    cameras = [p.camera for p in config.render_products if p.camera != AUTO_CAMERA]  # the auto camera is no prim
    jitter = camera_jitter_scenario(config.camera_jitter, cameras)
    if not jitter.randomizers:
        return scenario
    spec = replace(jitter.randomizers[0], index=len(scenario.randomizers))
    return replace(scenario, randomizers=(*scenario.randomizers, spec))


def bind_randomization(
    stage: Usd.Stage, config: RecorderConfig, seed: int, *, strict: bool = False
) -> RandomizationEngine | None:
    """The engine of ``config``'s randomization on ``stage`` (None when nothing varies).

    Binding checks every prim, material, asset and surface the scenario names: a :class:`ConfigError`
    naming file, line and randomizer; with ``strict`` a select matching nothing is one too. Nothing is
    authored yet."""
    if not config.randomized:
        return None
    return RandomizationEngine(stage, recording_scenario(config), seed=seed, strict=strict)


class RecordingRandomization:
    """Applies each frame's randomization and keeps its record until the frame's files are on disk.

    ``records`` (None: no record file, e.g. S3 output) receives a frame's record when :meth:`frames_done`
    reports it; :meth:`finish` puts the file in frame order and returns it (an end-of-run file).
    """

    def __init__(self, engine: RandomizationEngine, records: FrameRecordsFile | None = None) -> None:
        self.engine = engine
        self.records = records
        self._pending: dict[int, FrameRecord] = {}

    def apply(self, index: int, time: float | None = None) -> FrameRecord:
        """Show frame ``index``'s variation on the stage (read at ``time``; None = the default time)."""
        record = self.engine.apply(index, time)
        if self.records is not None:
            self._pending[index] = record
        return record

    def frames_done(self, indices: Iterable[int]) -> None:
        """Write the records of frames whose files are all on disk (before the manifest lists them)."""
        if self.records is None:
            return
        for index in sorted(indices):
            record = self._pending.pop(index, None)
            if record is not None:
                self.records.append(record)

    def resume(self, done: Collection[int], time_of: Callable[[int], float | None]) -> list[int]:
        """Keep the records of the ``done`` frames only (those a killed run lost are remade); return the
        frames whose record was remade."""
        if self.records is None:
            return []
        try:
            return self.records.keep(done, lambda index: self.engine.apply(index, time_of(index)))
        finally:
            self.engine.restore()

    def finish(self) -> list[Path]:
        """Put the record file in frame order; the file, if one was written."""
        if self.records is None:
            return []
        self.records.finish()
        return [self.records.path] if self.records.path.is_file() else []

    def restore(self) -> None:
        """Remove every trace of the randomization from the stage."""
        self._pending.clear()
        self.engine.restore()
