"""RecorderModel: everything the Synthetic Data Recorder window shows and does, without Kit.

The Kit window (``omni/sdg_studio/kit/recorder_window.py``) only binds widgets to this model; the
pytest suite drives it directly. Recording runs a :class:`RecorderJob` on an asynchronous capture
session made by ``session_factory`` (Replicator inside Kit, the embedded backend elsewhere).

The Randomization section: a scenario loaded from / saved to a file (or inline in a loaded config),
"Preview frame N" (that frame applied to the open stage through the randomization's session sublayer,
cleared on :meth:`RecorderModel.clear_preview`: stage close, window close, stop, start, another
scenario) and Record, which applies the scenario with the camera jitter before every frame.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pxr import Usd, UsdGeom

from omni.sdg_studio.core.atomic import atomic_write_text
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.fields import ConfigWarning
from omni.sdg_studio.core.randomize.engine import RandomizationEngine
from omni.sdg_studio.core.randomize.record import FrameRecord
from omni.sdg_studio.core.randomize.source import ScenarioSource, load_scenario_source
from omni.sdg_studio.core.recorder.backend_session import render_product_names
from omni.sdg_studio.core.recorder.config import (
    BASIC_WRITER,
    BASIC_WRITER_FLAGS,
    DEFAULT_RESOLUTION,
    DISK_BACKEND,
    OutputPolicy,
    RecorderConfig,
)
from omni.sdg_studio.core.recorder.folder_lock import FolderLock
from omni.sdg_studio.core.recorder.frame_records import RECORDS_NAME, FrameRecordsFile
from omni.sdg_studio.core.recorder.isaac_format import isaac_default_config, save_isaac_config
from omni.sdg_studio.core.recorder.job import FrameProgress, JobState, RecorderJob
from omni.sdg_studio.core.recorder.loading import load_recorder_config
from omni.sdg_studio.core.recorder.manifest import Manifest
from omni.sdg_studio.core.recorder.output_policy import claim_output_folder
from omni.sdg_studio.core.recorder.precheck import PrecheckIssue, precheck
from omni.sdg_studio.core.recorder.randomization import RecordingRandomization, bind_randomization
from omni.sdg_studio.core.recorder.session import AsyncCaptureSession
from omni.sdg_studio.core.recorder.writer_annotators import writer_annotators
from omni.sdg_studio.core.render_backend import RenderProduct

#: Builds the capture session for a run: (config with a seed, resolved output folder, stage, the randomization
#: to apply before every frame or None) -> session.
SessionFactory = Callable[[RecorderConfig, Path, Usd.Stage, RecordingRandomization | None], AsyncCaptureSession]
BUILTIN_WRITERS = ("BasicWriter", "KittiWriter", "CocoWriter")

logger = logging.getLogger(__name__)


class ParamSpec(Protocol):
    """A writer parameter as the writer registry describes it (name, kind, default, help, parsing)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def default(self) -> Any: ...

    @property
    def help(self) -> str: ...

    @property
    def compat(self) -> bool:
        """Accepted only for Replicator configs (e.g. ``s3_bucket``): not shown."""
        ...

    def parse(self, text: str, writer: str) -> Any: ...


@dataclass(frozen=True)
class ButtonStates:
    """Text and enabled state of the Start/Stop and Pause/Resume buttons (as Isaac Sim's recorder shows them)."""

    start_stop: str
    pause_resume: str
    pause_enabled: bool


def format_progress(progress: FrameProgress | None) -> str:
    """``12/100 frames  3.4 fps  ETA 0:26`` (or ``12 frames`` when recording until stopped)."""
    if progress is None:
        return ""
    count = f"{progress.done}/{progress.total} frames" if progress.total else f"{progress.done} frames"
    eta = "" if progress.eta is None else f"  ETA {int(progress.eta) // 60}:{int(progress.eta) % 60:02d}"
    return f"{count}  {progress.fps:.1f} fps{eta}"


class RecorderModel:
    """Render-product table, writer and its parameters, output, control, run state, config files."""

    def __init__(
        self,
        session_factory: SessionFactory,
        stage_provider: Callable[[], Usd.Stage | None],
        *,
        last_config_path: Path | None = None,
        writer_names: Callable[[], Sequence[str]] = lambda: BUILTIN_WRITERS,
        param_specs: Callable[[str], Sequence[ParamSpec]] = lambda name: (),
    ) -> None:
        self.session_factory = session_factory
        self.stage_provider = stage_provider
        self.last_config_path = last_config_path
        self._writer_names = writer_names
        self._param_specs = param_specs
        self.config = isaac_default_config()
        self.warnings: list[ConfigWarning] = []
        self.job: RecorderJob | None = None
        self.progress: FrameProgress | None = None
        self.output_dir: Path | None = None
        self.message = ""
        self.pending_issues: list[PrecheckIssue] = []
        self._params_by_writer: dict[str, dict[str, Any]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._preview: RandomizationEngine | None = None
        self.preview_frame = 0
        if last_config_path is not None and last_config_path.is_file():
            try:
                self.load_config(last_config_path)
            except SdgStudioError as exc:  # a damaged last config must not keep the window from opening
                logger.warning("last recorder config not loaded: %s", exc)

    # -- change notification ----------------------------------------------------------------------
    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` after every change; returns the unsubscribe function."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    # -- render products --------------------------------------------------------------------------
    @property
    def render_products(self) -> list[RenderProduct]:
        return list(self.config.render_products)

    def render_product_names(self) -> list[str]:
        """The names the writer will use (``Replicator``, ``Replicator_01``... for unnamed rows)."""
        return render_product_names(self.config.render_products)

    def add_render_product(self, camera: str, width: int = 0, height: int = 0, name: str = "") -> None:
        """Append a row (duplicates allowed, e.g. one camera at two resolutions)."""
        w, h = (width, height) if width and height else DEFAULT_RESOLUTION
        self.config.render_products.append(RenderProduct(camera, w, h, name or None))
        self._changed()

    def add_cameras(self, selected_paths: Sequence[str], viewport_camera: str | None) -> list[str]:
        """Add a row per selected Camera prim, else one for the viewport camera (Isaac's "Add New ..." button)."""
        stage = self.stage_provider()
        cameras = [
            path for path in selected_paths if stage is not None and stage.GetPrimAtPath(path).IsA(UsdGeom.Camera)
        ]
        if not cameras and viewport_camera:
            cameras = [viewport_camera]
        for path in cameras:
            self.config.render_products.append(RenderProduct(path, *DEFAULT_RESOLUTION))
        self._changed()
        return cameras

    def update_render_product(
        self,
        index: int,
        *,
        camera: str | None = None,
        width: int | None = None,
        height: int | None = None,
        name: str | None = None,
    ) -> None:
        """Change fields of row ``index``; sizes below 1 are refused (:class:`InvalidValue`)."""
        old = self.config.render_products[index]
        self.config.render_products[index] = RenderProduct(
            camera if camera is not None else old.camera,
            width if width is not None else old.width,
            height if height is not None else old.height,
            (name or None) if name is not None else old.name,
        )
        self._changed()

    def remove_render_product(self, index: int) -> None:
        del self.config.render_products[index]
        self._changed()

    # -- writer -----------------------------------------------------------------------------------
    def writer_names(self) -> list[str]:
        """Writers to choose from: the built-in ones first, then any other registered writer."""
        return list(dict.fromkeys([*BUILTIN_WRITERS, *self._writer_names()]))

    def set_writer(self, name: str) -> None:
        """Choose the writer; each writer keeps its own parameters while another one is chosen."""
        if not name:
            raise SdgStudioError("choose a writer name")
        self._params_by_writer[self.config.writer_name] = dict(self.config.writer_params)
        self.config.writer_name = name
        self.config.writer_params = dict(self._params_by_writer.get(name, {}))
        if name != BASIC_WRITER:
            self.config.custom_writer_name = name
        self._changed()

    @property
    def basic_flags(self) -> dict[str, bool]:
        return dict(self.config.basic_writer_params)

    def set_flag(self, flag: str, value: bool) -> None:
        if flag not in BASIC_WRITER_FLAGS:
            raise SdgStudioError(f"unknown BasicWriter flag '{flag}'")
        self.config.basic_writer_params[flag] = value
        self._changed()

    def select_all(self) -> None:
        """Every BasicWriter flag on."""
        self.config.basic_writer_params = dict.fromkeys(BASIC_WRITER_FLAGS, True)
        self._changed()

    def toggle_all(self) -> None:
        """Invert every BasicWriter flag."""
        self.config.basic_writer_params = {
            f: not self.config.basic_writer_params.get(f, False) for f in BASIC_WRITER_FLAGS
        }
        self._changed()

    def param_specs(self) -> list[ParamSpec]:
        """Typed parameters of the chosen writer (BasicWriter's flags excluded: they have their checkboxes)."""
        specs = [s for s in self._param_specs(self.config.writer_name) if not s.compat]
        if self.config.writer_name == BASIC_WRITER:
            return [s for s in specs if s.name not in BASIC_WRITER_FLAGS]
        return specs

    def param_text(self, name: str) -> str:
        """The value of a parameter as shown in its text field (its default when unset)."""
        if name in self.config.writer_params:
            value = self.config.writer_params[name]
        else:
            value = next((s.default for s in self.param_specs() if s.name == name), None)
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    def set_param(self, name: str, text: str) -> None:
        """Parse and set a writer parameter typed in a field; an empty field returns it to its default."""
        spec = next((s for s in self.param_specs() if s.name == name), None)
        if spec is None:
            raise SdgStudioError(f"{self.config.writer_name} has no parameter '{name}'")
        if text.strip() == "":
            self.config.writer_params.pop(name, None)
        else:
            self.config.writer_params[name] = spec.parse(text, self.config.writer_name)
        self._changed()

    # -- output and control -----------------------------------------------------------------------
    def set_output(
        self, *, working_dir: str | None = None, folder: str | None = None, policy: OutputPolicy | None = None
    ) -> None:
        if working_dir is not None:
            self.config.output.working_dir = working_dir
        if folder is not None:
            self.config.output.folder = folder
        if policy is not None:
            self.config.output.policy = policy
        self._changed()

    def set_control(
        self, *, frames: int | None = None, rt_subframes: int | None = None, control_timeline: bool | None = None
    ) -> None:
        if frames is not None:
            self.config.frames = frames
        if rt_subframes is not None:
            self.config.rt_subframes = rt_subframes
        if control_timeline is not None:
            self.config.control_timeline = control_timeline
        self._changed()

    # -- config files -----------------------------------------------------------------------------
    def load_config(self, path: Path) -> None:
        """Load a recorder JSON or offline-generation config; on error the current config is kept."""
        loaded = load_recorder_config(path)
        self.clear_preview()
        self.config = loaded.config
        self.warnings = loaded.warnings
        self._params_by_writer = {}
        for warning in loaded.warnings:
            logger.warning("%s", warning)
        self._changed()

    def save_config(self, path: Path) -> Path:
        """Save as Isaac Sim recorder JSON (loads in Isaac Sim's own recorder too)."""
        return save_isaac_config(self.config, path)

    def save_last_config(self) -> bool:
        """Remember the config for "Record N Frames" and the next session (``last_config.json``).

        A folder that cannot be written (a read-only install, a full disk) is reported in one line and
        recording goes on: remembering the config is a convenience, never a reason to fail (Isaac Sim's
        recorder likewise only warns, ``synthetic_recorder_window.py`` ``_save_config``)."""
        if self.last_config_path is None:
            return False
        try:
            save_isaac_config(self.config, self.last_config_path)
        except OSError as exc:
            logger.warning("the recorder configuration was not remembered: %s", exc)
            return False
        return True

    # -- randomization ----------------------------------------------------------------------------
    @property
    def scenario(self) -> ScenarioSource | None:
        """The scenario recordings apply (``None``: only the camera jitter, if any)."""
        return self.config.randomization

    def scenario_text(self) -> str:
        """What the Randomization section shows: the scenario's file or ``inline scenario``, and its size."""
        return self.config.randomization.describe() if self.config.randomization is not None else "no scenario"

    def load_scenario(self, path: Path) -> None:
        """Use the scenario file at ``path``; a bad file keeps the current scenario (the error names file and line)."""
        source = load_scenario_source(path)
        self.clear_preview()
        self.config.randomization = source
        self.message = f"scenario {source.describe()}"
        self._changed()

    def save_scenario(self, path: Path) -> Path:
        """Write the scenario (its resolved content) to ``path`` atomically and use that file from now on."""
        source = self.config.randomization
        if source is None:
            raise SdgStudioError("no scenario to save: load a scenario file or a config that has one")
        atomic_write_text(path, source.yaml_text(), durable=True)
        self.config.randomization = ScenarioSource(source.scenario, source.content, path.resolve())
        self.message = f"scenario saved to {path}"
        self._changed()
        return path

    def clear_scenario(self) -> None:
        """Record without a scenario (the camera jitter, if set, still applies)."""
        self.clear_preview()
        self.config.randomization = None
        self._changed()

    def preview_seed(self) -> int:
        """The seed a preview uses: the config's, else the scenario's, else 0 (a recording without either draws
        one, so set a seed to preview exactly what will be recorded)."""
        if self.config.seed is not None:
            return self.config.seed
        source = self.config.randomization
        return source.scenario.seed if source is not None and source.scenario.seed is not None else 0

    @property
    def previewing(self) -> bool:
        return self._preview is not None

    def preview(self, frame: int) -> FrameRecord:
        """Show frame ``frame`` of the scenario (and camera jitter) on the open stage, in a session sublayer."""
        if self.running:
            raise SdgStudioError("stop the recording to preview a frame")
        if frame < 0:
            raise SdgStudioError(f"frame {frame}: frames are numbered from 0")
        stage = self.stage_provider()
        if stage is None:
            raise SdgStudioError("no stage is open")
        self.clear_preview()
        seed = self.preview_seed()
        engine = bind_randomization(stage, self.config, seed)
        if engine is None:
            raise SdgStudioError("nothing to preview: load a scenario (or set a camera jitter)")
        record = engine.apply(frame)  # on an error the stage is restored
        self._preview, self.preview_frame = engine, frame
        self.message = (
            f"previewing frame {frame} (seed {seed}): {len(record.randomizers)} randomizers changed "
            f"{record.prims_changed()} prims"
        )
        self._changed()
        return record

    def clear_preview(self) -> None:
        """Take the preview off the stage (stage closing, window closing, stop, start)."""
        if self._preview is None:
            return
        engine, self._preview = self._preview, None
        engine.restore()
        self._changed()

    # -- recording --------------------------------------------------------------------------------
    @property
    def state(self) -> JobState:
        return self.job.state if self.job is not None else JobState.IDLE

    @property
    def running(self) -> bool:
        return self.state in (JobState.RUNNING, JobState.PAUSED)

    def buttons(self) -> ButtonStates:
        if self.state is JobState.RUNNING:
            return ButtonStates("Stop", "Pause", True)
        if self.state is JobState.PAUSED:
            return ButtonStates("Stop", "Resume", True)
        return ButtonStates("Start", "Pause", False)

    @property
    def progress_fraction(self) -> float:
        if self.progress is None or self.progress.fraction is None:
            return 0.0
        return self.progress.fraction

    @property
    def progress_text(self) -> str:
        return format_progress(self.progress)

    def check(self) -> list[PrecheckIssue]:
        """The pre-record check for the current stage and config."""
        stage = self.stage_provider()
        if stage is None:
            raise SdgStudioError("no stage is open")
        return precheck(stage, self.config.render_products, writer_annotators(self.config)).issues

    async def start_async(self, *, confirmed: bool = False) -> JobState:
        """Start recording. With pre-record issues and not ``confirmed``, stores them in ``pending_issues``
        and returns without starting (the window asks, then calls again with ``confirmed=True``)."""
        if self.running:
            raise SdgStudioError("a recording is already running")
        stage = self.stage_provider()
        if stage is None:
            raise SdgStudioError("no stage is open")
        self.clear_preview()
        report = precheck(stage, self.config.render_products, writer_annotators(self.config))
        self.pending_issues = report.issues
        if report.issues and not confirmed:
            self._changed()
            return JobState.IDLE
        report.require(strict=False)
        self.pending_issues = []
        for issue in report.issues:
            logger.warning("%s", issue)
        config, seed = self.config.seeded()
        config.render_products = report.render_products
        engine = bind_randomization(stage, config, seed)  # a bad scenario stops here: nothing is created
        self.save_last_config()
        self.message = f"preparing the output folder {config.output.path}"
        self._changed()
        # Emptying a large earlier run (policy overwrite) takes long: off the event loop's thread.
        lock = await asyncio.to_thread(self._claim_output, config)
        output_dir = lock.folder if lock is not None else config.output.path
        try:
            manifest, records = None, None
            if config.storage == DISK_BACKEND:
                manifest = Manifest.start(output_dir, stage.GetRootLayer().identifier, config, seed)
                records = FrameRecordsFile(output_dir / RECORDS_NAME)
            randomization = RecordingRandomization(engine, records) if engine is not None else None
            job = RecorderJob(self.session_factory(config, output_dir, stage, randomization), config.frames, manifest)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        self.output_dir = output_dir
        self.progress = None
        self.message = ""
        if lock is not None:  # the folder stays this run's until the job ends
            job.subscribe_state(lambda state: lock.release() if state.ended else None)
        job.subscribe_state(lambda state: self._on_state(job, state))
        job.subscribe_progress(self._on_progress)
        self.job = job
        self._changed()
        return await job.run_async()

    def _claim_output(self, config: RecorderConfig) -> FolderLock | None:
        if config.storage != DISK_BACKEND:
            return None  # S3: the folder is the key prefix; policies need a file system
        return claim_output_folder(config.output.path, config.output.policy)

    def _on_state(self, job: RecorderJob, state: JobState) -> None:
        if state is JobState.FAILED:
            self.message = job.message
        elif state.ended:
            self.message = f"{state.value}: {job.frames_done} frames in {self.output_dir}"
        level = logging.ERROR if state is JobState.FAILED else logging.INFO
        logger.log(level, "recording %s%s", state.value, f": {job.message}" if job.message else "")
        self._changed()

    def _on_progress(self, progress: FrameProgress) -> None:
        self.progress = progress
        self._changed()

    def pause(self) -> None:
        if self.job is not None:
            self.job.pause()

    def resume(self) -> None:
        if self.job is not None:
            self.job.resume()

    def stop(self) -> None:
        """Stop after the frame in flight (and take a preview off the stage)."""
        self.clear_preview()
        if self.job is not None and self.running:
            self.job.stop()

    async def record_last_config_async(self) -> JobState:
        """ "Record N Frames": record with the last saved config, reporting pre-record issues without asking."""
        if self.last_config_path is not None and self.last_config_path.is_file():
            self.load_config(self.last_config_path)
        return await self.start_async(confirmed=True)
