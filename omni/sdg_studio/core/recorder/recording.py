"""Set up a recording outside Kit: stage, output folder, writer, pre-record check, job.

The caller chooses the render backend (core imports none):

>>> from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
>>> recording = prepare_recording("scene.usda", config, RecordingBackend(EmbeddedBackend, SUPPORTED_ANNOTATORS))
>>> recording.job.run()

Nothing is created on disk before the config, the output policy and the pre-record check pass.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pxr import Usd, UsdGeom

from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.config_document import ConfigDocument
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.backend_session import BackendCaptureSession, FrameTimeline
from omni.sdg_studio.core.recorder.camera_jitter import CameraJitterRandomizer
from omni.sdg_studio.core.recorder.config import S3_BACKEND, RecorderConfig
from omni.sdg_studio.core.recorder.job import RecorderJob
from omni.sdg_studio.core.recorder.loading import parse_recorder_config
from omni.sdg_studio.core.recorder.manifest import Manifest
from omni.sdg_studio.core.recorder.output_policy import choose_output_folder, prepare_output_folder
from omni.sdg_studio.core.recorder.precheck import PrecheckReport, precheck
from omni.sdg_studio.core.recorder.shards import ShardRecord, ShardSpec, shard_frames
from omni.sdg_studio.core.render_backend import RenderBackend, RenderProduct
from omni.sdg_studio.core.semantics.rules_file import load_class_table
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.writers.base import Writer
from omni.sdg_studio.core.writers.registry import get_writer


class RecordingSetupError(SdgStudioError):
    """The recording cannot be set up as asked (backend, resume mismatch, ...)."""


@dataclass(frozen=True)
class WriterRequest:
    """What a writer factory gets: the writer's registry name, folder, parameters and run options."""

    name: str
    output_dir: Path
    params: dict[str, Any]
    seed: int
    resume: bool
    classes: ClassTable | None = None


WriterFactory = Callable[[WriterRequest], Writer]


@dataclass(frozen=True)
class RecordingBackend:
    """The render backend a recording runs on: ``create(stage)`` makes it; ``annotators`` are those it
    renders (``None``: any), so the pre-record check can name what it cannot produce."""

    create: Callable[[Usd.Stage], RenderBackend]
    annotators: Collection[str] | None = None


@dataclass
class Recording:
    """A recording ready to run: ``job.run()`` records, ``report`` holds the pre-record issues."""

    stage_path: Path
    stage: Usd.Stage
    config: RecorderConfig
    output_dir: Path
    manifest: Manifest
    report: PrecheckReport
    writer: Writer
    session: BackendCaptureSession
    job: RecorderJob
    resumed_frames: int = 0
    missing_frames: list[int] = field(default_factory=list)


def stage_cameras(stage: Usd.Stage) -> list[str]:
    """Every camera on the stage, in stage order."""
    return [str(p.GetPath()) for p in stage.Traverse() if p.IsA(UsdGeom.Camera)]


def resolved_render_products(stage: Usd.Stage, config: RecorderConfig) -> list[RenderProduct]:
    """The config's render products, or every camera of the stage at ``config.resolution``."""
    if config.render_products:
        return list(config.render_products)
    cameras = stage_cameras(stage)
    if not cameras:
        raise RecordingSetupError("the config names no camera and the stage has none; add a camera")
    return [RenderProduct(path, *config.resolution) for path in cameras]


def manifest_config(manifest: Manifest) -> RecorderConfig:
    """The config a manifest recorded (the config as run)."""
    return parse_recorder_config(ConfigDocument(data=manifest.config, path=manifest.path)).config


#: Fields a resumed recording must share with the recording it continues.
RESUME_FIELDS = ("render_products", "writer_name", "camera_jitter", "control_timeline", "classes")


def check_resumable(previous: RecorderConfig, config: RecorderConfig, where: Path) -> None:
    """Raise unless ``config`` continues ``previous`` (same cameras, writer, parameters, jitter, timeline)."""
    for name in RESUME_FIELDS:
        before, now = getattr(previous, name), getattr(config, name)
        if before != now:
            raise RecordingSetupError(
                f"cannot resume {where}: {name} differs from the recording there ({before!r} then, {now!r} now)"
            )
    if previous.effective_writer_params() != config.effective_writer_params():
        before, now = previous.effective_writer_params(), config.effective_writer_params()
        changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
        raise RecordingSetupError(f"cannot resume {where}: writer parameters differ ({', '.join(changed)})")


def check_same_shard(previous: Manifest, record: ShardRecord | None) -> None:
    """Raise unless the recording being resumed is the same shard (or, like this one, no shard)."""
    before = f"shard {previous.shard.spec}" if previous.shard else "not a shard"
    now = f"shard {record.spec}" if record else "not a shard"
    if before != now or (previous.shard and record and previous.shard.frames != record.frames):
        raise RecordingSetupError(f"cannot resume {previous.output_dir}: it is {before}, this recording is {now}")


def default_writer_factory(request: WriterRequest) -> Writer:
    """A writer from the writer registry (BasicWriter, KittiWriter, CocoWriter and any registered one)."""
    return get_writer(request.name).create(
        request.params,
        output_dir=request.output_dir,
        seed=request.seed,
        resume=request.resume,
        classes=request.classes,
    )


def check_host(config: RecorderConfig) -> None:
    """Refuse what only Replicator inside Isaac Sim can do (its render backend, S3 output)."""
    if config.backend != "embedded":
        raise RecordingSetupError(
            f"backend '{config.backend}' runs inside Isaac Sim (the Synthetic Data Recorder window); "
            "outside Kit use the embedded backend"
        )
    if config.storage == S3_BACKEND:
        raise RecordingSetupError("S3Backend needs Replicator inside Isaac Sim; the embedded backend writes to disk")


def resumed_seed(previous: Manifest, stage_path: Path, config: RecorderConfig) -> int:
    """The seed of the recording ``config`` resumes; raise if it was of another stage or seed."""
    if previous.stage != str(stage_path.resolve()):
        raise RecordingSetupError(f"cannot resume {previous.output_dir}: it was recorded from {previous.stage}")
    if config.seed is not None and config.seed != previous.seed:
        raise RecordingSetupError(f"cannot resume {previous.output_dir}: it was recorded with seed {previous.seed}")
    return previous.seed


def capture_session(
    stage: Usd.Stage, config: RecorderConfig, seed: int, backend: RecordingBackend, writer: Writer
) -> BackendCaptureSession:
    """The session that renders ``config``'s render products with ``backend`` (jittered from ``seed``)."""
    randomizers = []
    if config.camera_jitter.enabled:
        cameras = [p.camera for p in config.render_products]
        randomizers.append(CameraJitterRandomizer(stage, cameras, config.camera_jitter, seed))
    return BackendCaptureSession(
        backend.create(stage),
        writer,
        config.render_products,
        timeline=FrameTimeline.of_stage(stage) if config.control_timeline else None,
        randomizers=randomizers,
    )


def prepare_recording(
    stage_path: str | Path,
    config: RecorderConfig,
    backend: RecordingBackend,
    *,
    resume: bool = False,
    strict: bool = False,
    writer_factory: WriterFactory = default_writer_factory,
    manifest_interval: float = 1.0,
    shard: ShardSpec | None = None,
) -> Recording:
    """Check everything, create the output folder and return a :class:`Recording` whose job is idle;
    with ``shard`` it records only that shard's frames of ``config.frames`` (see :mod:`.shards`)."""
    check_host(config)
    stage_path = Path(stage_path)
    previous = Manifest.load(config.output.path) if resume else None
    if previous is not None and previous.shard is not None and shard is None:
        shard = previous.shard.spec  # resuming a shard continues that shard
    frames = shard_frames(shard, config.frames) if shard is not None else range(config.frames)
    stage = open_stage(stage_path)
    config = replace(config, render_products=resolved_render_products(stage, config))
    if previous is not None:
        output_dir, seed = previous.output_dir, resumed_seed(previous, stage_path, config)
        config = replace(config, seed=seed)
    else:
        output_dir = choose_output_folder(config.output.path, config.output.policy)
        config, seed = config.seeded()

    classes = load_class_table(config.classes) if config.classes else None
    params = config.effective_writer_params()
    writer = writer_factory(WriterRequest(config.writer_name, output_dir, params, seed, resume, classes))
    record = ShardRecord.of_writer(shard, frames, writer) if shard is not None else None
    report = precheck(stage, config.render_products, writer.annotators, backend.annotators)
    report.require(strict)
    config = replace(config, render_products=report.render_products)
    if previous is None:
        prepare_output_folder(output_dir, config.output.policy)
        manifest, missing = Manifest.start(output_dir, str(stage_path.resolve()), config, seed, record), []
    else:
        check_resumable(manifest_config(previous), config, output_dir)
        check_same_shard(previous, record)
        manifest, missing = previous, previous.verify()
        manifest.frames_requested, manifest.shard = config.frames, record

    session = capture_session(stage, config, seed, backend, writer)
    job = RecorderJob(session, frames.stop, manifest, manifest_interval=manifest_interval, first_frame=frames.start)
    return Recording(
        stage_path=stage_path,
        stage=stage,
        config=config,
        output_dir=output_dir,
        manifest=manifest,
        report=report,
        writer=writer,
        session=session,
        job=job,
        resumed_frames=len(manifest.frames),
        missing_frames=missing,
    )
