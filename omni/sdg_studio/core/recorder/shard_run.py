"""Record one shard into a folder of its own, as a worker of a batch system does (a Ray task, a job array task).

The folder is the shard's: a finished recording of the same shard (same frames, stage and seed) found there
is kept, anything else there (an attempt that died part way) is replaced by a clean recording. Restarting
clean rather than resuming keeps a retried shard exactly what one uninterrupted run of it writes, whatever
the writer (a resumed KITTI run, for one, cannot take back the class indices it gave); a shard is the unit
of lost work, so more, smaller shards lose less.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.config import OutputConfig, OutputPolicy, RecorderConfig
from omni.sdg_studio.core.recorder.job import FrameProgress, JobState
from omni.sdg_studio.core.recorder.manifest import Manifest, ManifestError
from omni.sdg_studio.core.recorder.output_policy import prepare_output_folder
from omni.sdg_studio.core.recorder.recording import RecordingBackend, prepare_recording
from omni.sdg_studio.core.recorder.shards import ShardSpec, shard_frames


class ShardFailed(SdgStudioError):
    """A shard's recording ended without finishing; the message says why."""


def finished_shard(folder: Path, stage: Path, config: RecorderConfig, spec: ShardSpec) -> Manifest | None:
    """The manifest of a finished recording of shard ``spec`` of ``config`` in ``folder``, if there is one."""
    try:
        manifest = Manifest.load(folder)
    except ManifestError:
        return None
    shard = manifest.shard
    same = (
        shard is not None
        and shard.spec == spec
        and shard.frames == shard_frames(spec, config.frames)
        and manifest.seed == config.seed
        and manifest.stage == str(stage.resolve())
    )
    if not same or manifest.state != JobState.FINISHED.value or manifest.verify():
        return None
    return manifest


def record_shard(
    stage: Path,
    config: RecorderConfig,
    spec: ShardSpec,
    folder: Path,
    backend: RecordingBackend,
    *,
    strict: bool = False,
    on_progress: Callable[[FrameProgress], None] | None = None,
) -> Manifest:
    """Record shard ``spec`` of ``config`` (whose seed must be set) into ``folder``; return its manifest."""
    if config.seed is None:
        raise ShardFailed(f"shard {spec}: the shards of one recording need one seed; set it before recording")
    kept = finished_shard(folder, stage, config, spec)
    if kept is not None:
        return kept
    prepare_output_folder(folder, OutputPolicy.OVERWRITE)  # what an attempt that died left
    config = config.copy()
    config.output = OutputConfig("", str(folder), config.output.policy)
    recording = prepare_recording(stage, config, backend, strict=strict, shard=spec)
    if on_progress is not None:
        recording.job.subscribe_progress(on_progress)
    state = recording.job.run()
    if state is not JobState.FINISHED:
        raise ShardFailed(f"shard {spec} in {folder}: {state.value}: {recording.job.message}")
    return recording.manifest
