"""Recordings of the sample scene for the safety tests: in this process, or as a script a test can signal.

Frames render with the embedded backend's numpy rasterizer (its results depend on nothing but the
frame: see ``test_safety_resume.py`` for the Embree engine). As a script (``python safety_recordings.py
OUT FRAMES [--resume]``) it records like ``sdg-studio record`` does, under the command's own Ctrl+C /
SIGTERM handling, and exits 130 when stopped by a signal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.core.recorder.config import CameraJitter, RecorderConfig
from omni.sdg_studio.core.recorder.job import FrameProgress, JobState
from omni.sdg_studio.core.recorder.recording import Recording, RecordingBackend, prepare_recording
from omni.sdg_studio.core.writers.basic_writer import ANNOTATOR_FLAGS

SCENE = Path(__file__).resolve().parents[1] / "data" / "scenes" / "warehouse.usda"
RASTER = RecordingBackend(lambda stage: EmbeddedBackend(stage, engine="numpy"), SUPPORTED_ANNOTATORS)
#: Every BasicWriter annotator the embedded backend renders.
ALL_BASIC = tuple(flag for flag in ANNOTATOR_FLAGS if flag in SUPPORTED_ANNOTATORS)
#: The recorder preset's BasicWriter annotators (config/recorder/default.json).
DEFAULT_BASIC = ("rgb", "bounding_box_2d_tight", "semantic_segmentation", "distance_to_image_plane", "camera_params")


def make_config(
    out: Path,
    frames: int,
    *,
    writer: str = "BasicWriter",
    annotators: tuple[str, ...] = DEFAULT_BASIC,
    resolution: tuple[int, int] = (32, 24),
    seed: int = 3,
) -> RecorderConfig:
    """Every camera of the sample scene, jittered per frame, ``frames`` frames into ``out``."""
    config = RecorderConfig(
        frames=frames, resolution=resolution, seed=seed, writer_name=writer, camera_jitter=CameraJitter(0.15, 2.0)
    )
    if writer == "BasicWriter":
        config.basic_writer_params = {**config.basic_writer_params, "rgb": False, **dict.fromkeys(annotators, True)}
    config.output.folder = str(out)
    return config


def record(
    config: RecorderConfig,
    *,
    resume: bool = False,
    stop_after: int | None = None,
    backend: RecordingBackend = RASTER,
) -> Recording:
    """Record ``config`` in this process; ``stop_after`` frames of this run, then stop as Ctrl+C does."""
    recording = prepare_recording(SCENE, config, backend, resume=resume, manifest_interval=0.0)
    if stop_after is not None:
        captured = []

        def stop_when_enough(progress: FrameProgress) -> None:
            captured.append(progress.index)
            if len(captured) >= stop_after:
                recording.job.stop()

        recording.job.subscribe_progress(stop_when_enough)
    state = recording.job.run()
    assert state in (JobState.FINISHED, JobState.STOPPED), recording.job.message
    return recording


def _without_times(name: str, data: bytes) -> Any:
    """What must be identical in a file whose only run-dependent parts are wall-clock times."""
    document = json.loads(data)
    if name == "sdg_manifest.json":  # the frame lists are the recording; created/updated/runs are times
        return {key: document[key] for key in ("state", "seed", "frames_requested", "frames", "end_files")}
    document["info"].pop("date_created")  # COCO: when the file and each image were written
    for image in document["images"]:
        image.pop("date_captured")
    return document


def dataset(folder: Path) -> dict[str, Any]:
    """Every file under ``folder`` (hidden ones too) -> its bytes; the manifest and COCO's JSON without times."""
    found: dict[str, Any] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        timed = name == "sdg_manifest.json" or path.name.startswith("coco_annotations_")
        found[name] = _without_times(path.name, data) if timed else data
    return found


def differences(expected: Mapping[str, Any], got: Mapping[str, Any]) -> list[str]:
    """Files missing, extra or different (empty when the two datasets are the same)."""
    missing = [f"missing {name}" for name in expected if name not in got]
    extra = [f"extra {name}" for name in got if name not in expected]
    changed = [f"differs {name}" for name in expected if name in got and expected[name] != got[name]]
    return missing + extra + changed


def run_command(args: list[str], cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """``sdg-studio ARGS`` in this process, from ``cwd``; returns (exit code, stderr)."""
    from omni.sdg_studio.cli import main

    monkeypatch.chdir(cwd)
    code = main(args)
    return code, capsys.readouterr().err


def main(argv: list[str]) -> int:
    """Record like ``sdg-studio record`` (its signal handling), exit 130 when a signal stopped it."""
    from omni.sdg_studio.commands.record import EXIT_STOPPED, run_with_progress, stop_on_interrupt

    out, frames, resume = Path(argv[0]), int(argv[1]), "--resume" in argv
    recording = prepare_recording(SCENE, make_config(out, frames), RASTER, resume=resume, manifest_interval=0.0)
    try:
        with stop_on_interrupt(recording.job) as interrupted:
            state = run_with_progress(recording)
    except KeyboardInterrupt:  # a second Ctrl+C aborts at once
        return EXIT_STOPPED
    if state is JobState.FAILED:
        return 1
    return EXIT_STOPPED if interrupted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
