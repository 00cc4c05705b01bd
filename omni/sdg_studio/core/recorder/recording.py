"""Set up a recording outside Kit: stage, output folder, writer, pre-record check, job.

The caller chooses the render backend (core imports none):

>>> from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
>>> recording = prepare_recording("scene.usda", config, RecordingBackend(EmbeddedBackend, SUPPORTED_ANNOTATORS))
>>> recording.job.run()

Nothing is created on disk before the config, the scenario (bound to the stage), the output policy, the
backend's limits and the pre-record check pass. The output folder is then claimed under its lock
(:mod:`.folder_lock`), held until the job ends, so no other run writes into it meanwhile.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pxr import Usd, UsdGeom

from omni.sdg_studio.core.atomic import sweep_temp_files
from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.config_document import ConfigDocument
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.randomize.source import ScenarioSource
from omni.sdg_studio.core.recorder.backend_session import BackendCaptureSession, FrameTimeline
from omni.sdg_studio.core.recorder.config import DEFAULT_RESOLUTION, S3_BACKEND, RecorderConfig
from omni.sdg_studio.core.recorder.folder_lock import FolderLock
from omni.sdg_studio.core.recorder.frame_records import RECORDS_NAME, FrameRecordsFile
from omni.sdg_studio.core.recorder.job import RecorderJob
from omni.sdg_studio.core.recorder.loading import parse_recorder_config
from omni.sdg_studio.core.recorder.manifest import Manifest
from omni.sdg_studio.core.recorder.output_policy import choose_output_folder, claim_output_folder
from omni.sdg_studio.core.recorder.pending_files import PendingFrameFiles
from omni.sdg_studio.core.recorder.precheck import PrecheckReport, precheck
from omni.sdg_studio.core.recorder.randomization import (
    RANDOMIZATION_VERSION,
    RecordingRandomization,
    bind_randomization,
)
from omni.sdg_studio.core.recorder.shards import ShardRecord, ShardSpec, shard_frames
from omni.sdg_studio.core.render_backend import AUTO_CAMERA, RenderBackend, RenderProduct
from omni.sdg_studio.core.semantics.rules_file import load_class_table
from omni.sdg_studio.core.stage_io import check_load_problems, open_stage
from omni.sdg_studio.core.writers.base import Writer
from omni.sdg_studio.core.writers.registry import get_writer

logger = logging.getLogger(__name__)


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
    renders (``None``: any), so the pre-record check can name what it cannot produce; ``check_resolution``
    raises for a size it cannot render, so that is refused before anything is created."""

    create: Callable[[Usd.Stage], RenderBackend]
    annotators: Collection[str] | None = None
    check_resolution: Callable[[tuple[int, int]], object] | None = None

    def check(self, products: Sequence[RenderProduct]) -> None:
        """Raise :class:`RecordingSetupError` for the first render product the backend cannot render."""
        if self.check_resolution is None:
            return
        for product in products:
            try:
                self.check_resolution(product.resolution)
            except SdgStudioError as exc:
                raise RecordingSetupError(f"render product {product.camera}: {exc}") from None


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
    remade_records: list[int] = field(default_factory=list)  # done frames whose randomization record was lost
    #: The output folder's lock, released when the job ends.
    lock: FolderLock | None = None


def stage_cameras(stage: Usd.Stage) -> list[str]:
    """Every camera on the stage, in stage order."""
    return [str(p.GetPath()) for p in stage.Traverse() if p.IsA(UsdGeom.Camera)]


def resolved_render_products(stage: Usd.Stage, config: RecorderConfig) -> list[RenderProduct]:
    """The config's render products, else every camera of the stage, else the auto camera (with a notice).

    A stage camera gets ``config.resolution``; left at its default, the height follows the camera's
    aperture aspect ratio (a square camera gives a square image).
    """
    if config.render_products:
        return list(config.render_products)
    cameras = stage_cameras(stage)
    if not cameras:
        logger.warning("the stage has no camera: recording from camera '%s', framing the whole stage", AUTO_CAMERA)
        return [RenderProduct(AUTO_CAMERA, *config.resolution)]
    if config.resolution != DEFAULT_RESOLUTION:
        return [RenderProduct(path, *config.resolution) for path in cameras]
    return [RenderProduct(path, *_aperture_resolution(stage, path, config.resolution[0])) for path in cameras]


def _aperture_resolution(stage: Usd.Stage, camera: str, width: int) -> tuple[int, int]:
    """``width`` and the height that keeps the camera's aperture aspect (the default resolution if unusable)."""
    prim = UsdGeom.Camera(stage.GetPrimAtPath(camera))
    aspect = float(prim.GetVerticalApertureAttr().Get()) / float(prim.GetHorizontalApertureAttr().Get() or "nan")
    return (width, max(1, round(width * aspect))) if math.isfinite(aspect) and aspect > 0 else DEFAULT_RESOLUTION


def manifest_config(manifest: Manifest) -> RecorderConfig:
    """The config a manifest recorded (the config as run; its scenario named by the file it was read from)."""
    config = parse_recorder_config(ConfigDocument(data=manifest.config, path=manifest.path)).config
    info = manifest.randomization
    if config.randomization is not None and info is not None and info.scenario:
        config.randomization = replace(config.randomization, path=Path(info.scenario))
    return config


#: Fields a resumed recording must share with the recording it continues.
RESUME_FIELDS = ("render_products", "writer_name", "randomization", "camera_jitter", "control_timeline", "classes")


def _shown(value: object) -> str:
    return value.describe() if isinstance(value, ScenarioSource) else repr(value)


def check_resumable(previous: RecorderConfig, config: RecorderConfig, where: Path) -> None:
    """Raise unless ``config`` continues ``previous`` (same cameras, writer, parameters, scenario content,
    jitter, timeline)."""
    for name in RESUME_FIELDS:
        before, now = getattr(previous, name), getattr(config, name)
        if before != now:
            raise RecordingSetupError(
                f"cannot resume {where}: {name} differs from the recording there "
                f"({_shown(before)} then, {_shown(now)} now)"
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


def check_frames_cover(previous: Manifest, frames: int) -> None:
    """Raise if a recording resumed for ``frames`` frames (0 = until stopped) already holds frames beyond them:
    resuming never deletes finished frames."""
    last = max(previous.frames, default=-1)
    if frames and last >= frames:
        raise RecordingSetupError(
            f"cannot resume {previous.output_dir} for {frames} frames: it already holds frames up to {last}; "
            f"resume for {last + 1} frames or more (0 records until stopped), or record into another folder"
        )


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
    """The seed of the recording ``config`` resumes; raise if it was of another stage or seed, or drawn
    by another version of the randomization."""
    info = previous.randomization
    if info is None:
        raise RecordingSetupError(
            f"cannot resume {previous.output_dir}: it was recorded before the randomization engine drew the "
            "camera jitter (from (seed, frame) then, (seed, randomizer, frame) now), so the frames still to "
            "record would not match the ones there; record it again into a new folder"
        )
    if info.version != RANDOMIZATION_VERSION:
        raise RecordingSetupError(
            f"cannot resume {previous.output_dir}: its frames were randomized by version {info.version} of the "
            f"randomization, this SDG Studio draws version {RANDOMIZATION_VERSION}; record it again"
        )
    if previous.stage != str(stage_path.resolve()):
        raise RecordingSetupError(f"cannot resume {previous.output_dir}: it was recorded from {previous.stage}")
    if config.seed is not None and config.seed != previous.seed:
        raise RecordingSetupError(f"cannot resume {previous.output_dir}: it was recorded with seed {previous.seed}")
    return previous.seed


def capture_session(
    stage: Usd.Stage,
    config: RecorderConfig,
    backend: RecordingBackend,
    writer: Writer,
    randomization: RecordingRandomization | None,
) -> BackendCaptureSession:
    """The session that renders ``config``'s render products with ``backend``, randomized per frame."""
    return BackendCaptureSession(
        backend.create(stage),
        writer,
        config.render_products,
        timeline=FrameTimeline.of_stage(stage) if config.control_timeline else None,
        randomization=randomization,
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
    """Check everything, create the output folder and return a :class:`Recording` whose job is idle.

    With ``shard`` it records only that shard's frames of ``config.frames`` (see :mod:`.shards`). ``strict``
    makes pre-record issues errors, and a scenario's warnings (a select matching nothing, prims that did
    not fit) and a stage that did not load fully too."""
    check_host(config)
    stage_path = Path(stage_path)
    previous = Manifest.load(config.output.path) if resume else None
    if previous is not None and previous.shard is not None and shard is None:
        shard = previous.shard.spec  # resuming a shard continues that shard
    frames = shard_frames(shard, config.frames) if shard is not None else range(config.frames)
    stage = open_stage(stage_path)
    check_load_problems(stage, strict=strict)
    config = replace(config, render_products=resolved_render_products(stage, config))
    backend.check(config.render_products)
    if previous is not None:
        output_dir, seed = previous.output_dir, resumed_seed(previous, stage_path, config)
        config = replace(config, seed=seed)
    else:
        output_dir = choose_output_folder(config.output.path, config.output.policy)
        config, seed = config.seeded()

    classes = load_class_table(config.classes) if config.classes else None
    request = WriterRequest(config.writer_name, output_dir, config.effective_writer_params(), seed, resume, classes)
    writer = writer_factory(request)
    report = precheck(stage, config.render_products, writer.annotators, backend.annotators)
    report.require(strict)
    config = replace(config, render_products=report.render_products)
    engine = bind_randomization(stage, config, seed, strict=strict)
    if previous is not None:
        check_resumable(manifest_config(previous), config, output_dir)

    # Everything is checked: from here on the output folder is claimed and written.
    if previous is None:
        lock = claim_output_folder(config.output.path, config.output.policy)
    else:
        lock = FolderLock.acquire(output_dir)
    try:
        if lock.folder != output_dir:  # another run took the chosen folder a moment ago
            output_dir = lock.folder
            writer = writer_factory(replace(request, output_dir=output_dir))
        record = ShardRecord.of_writer(shard, frames, writer) if shard is not None else None
        if previous is None:
            manifest, missing = Manifest.start(output_dir, str(stage_path.resolve()), config, seed, record), []
        else:
            check_same_shard(previous, record)
            if record is None:
                check_frames_cover(previous, config.frames)
            sweep_temp_files(output_dir)  # a killed run's half-written files; safe under the lock
            manifest, missing = previous, previous.verify()
            PendingFrameFiles(manifest).sweep()  # complete files of frames it never listed
            manifest.frames_requested, manifest.shard = config.frames, record
        randomization = (
            None if engine is None else RecordingRandomization(engine, FrameRecordsFile(output_dir / RECORDS_NAME))
        )
        session = capture_session(stage, config, backend, writer, randomization)
        remade = (
            [] if randomization is None or previous is None else randomization.resume(manifest.frames, session.time)
        )
        job = RecorderJob(session, frames.stop, manifest, manifest_interval=manifest_interval, first_frame=frames.start)
    except BaseException:
        lock.release()
        raise
    job.subscribe_state(lambda state: lock.release() if state.ended else None)
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
        remade_records=remade,
        lock=lock,
    )
