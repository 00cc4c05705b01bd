"""The extension's recorder: one :class:`RecorderModel` for its whole life, whatever window is open.

The "SDG Studio Synthetic Data Recorder" window and the "Record N Frames" menu entry share it, so the menu
records with what the window last used, closing the window loses nothing and never stops a recording, and a
closing stage or quitting app stops a recording even when no window is open (Isaac Sim's recorder window
observes ``StageEventType.CLOSING`` and ``GLOBAL_EVENT_POST_QUIT`` itself; here the extension owns them).
Its last configuration is remembered in Kit's ``${data}`` folder, never in the extension folder.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import carb.tokens
import omni.kit.app
import omni.replicator.core as rep
import omni.usd

from omni.sdg_studio.backends.replicator.recorder_session import ReplicatorCaptureSession
from omni.sdg_studio.backends.replicator.writer_output import IsaacSimLine
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.config import RecorderConfig
from omni.sdg_studio.core.recorder.model import BUILTIN_WRITERS, RecorderModel
from omni.sdg_studio.core.recorder.randomization import RecordingRandomization
from omni.sdg_studio.core.task_keeper import TaskKeeper
from omni.sdg_studio.core.user_state import user_state_dir
from omni.sdg_studio.core.writers.params import WriterParam, declared_params
from omni.sdg_studio.core.writers.registry import WRITERS, python_writer_names
from omni.sdg_studio.kit.events import observe, observe_stage

logger = logging.getLogger(__name__)

#: Keyword arguments of Replicator writers that the recorder fills in itself (output location and storage;
#: PoseWriter's ``use_s3`` / ``s3_endpoint_url`` included: isaacsim.replicator.writers pose_writer.py).
RECORDER_OWNED = frozenset(
    {"backend", "output_dir", "s3_bucket", "s3_region", "s3_endpoint", "use_s3", "s3_endpoint_url"}
)
LAST_CONFIG_FILE = "last_config.json"


def kit_data_dir() -> str | None:
    """Kit's per-application data folder (the ``${data}`` token), or None when it does not resolve."""
    resolved = carb.tokens.get_tokens_interface().resolve("${data}")
    return resolved if resolved and "${" not in resolved else None


def replicator_writer_names() -> list[str]:
    """Python writers registered with Replicator; node writers of other extensions (ROS 2 publishers, RTX
    debug draw, ...) are left out (``get_writers()`` maps their names to ``NodeWriter``, not a ``Writer``)."""
    return python_writer_names(rep.WriterRegistry.get_writers(), rep.Writer)


class RecorderHost:
    """The recorder model, the Replicator session it runs, and what stops that session."""

    def __init__(self, line: IsaacSimLine, tasks: TaskKeeper) -> None:
        self.line = line
        self.tasks = tasks
        self.session: ReplicatorCaptureSession | None = None
        self._specs: dict[tuple[str, type], tuple[WriterParam, ...]] = {}
        self.model = RecorderModel(
            self._open_session,
            lambda: omni.usd.get_context().get_stage(),
            last_config_path=user_state_dir(kit_data_dir()) / LAST_CONFIG_FILE,
            writer_names=replicator_writer_names,
            param_specs=self.param_specs,
        )
        self._subscriptions = [
            observe_stage(omni.usd.StageEventType.CLOSING, self.abort, "omni.sdg_studio.recorder.stage_closing"),
            observe(omni.kit.app.GLOBAL_EVENT_POST_QUIT, self.close, "omni.sdg_studio.recorder.post_quit"),
        ]

    def _open_session(
        self, config: RecorderConfig, output_dir: Path, stage: Any, randomization: RecordingRandomization | None
    ) -> ReplicatorCaptureSession:
        """The Replicator session of one run (``stage`` is Kit's ``Usd.Stage``, which the randomization is bound
        to; pxr ships no type information pyright can read)."""
        self.session = ReplicatorCaptureSession(config, output_dir, self.line, randomization)
        return self.session

    def param_specs(self, writer_name: str) -> tuple[WriterParam, ...]:
        """Typed parameters: SDG Studio's description of the built-in writers (Replicator's keywords), else
        those a registered writer declares on ``__init__``. Only a successful read is cached (per class, so a
        re-registered writer is read again); a failing one is retried the next time it is chosen."""
        if writer_name in BUILTIN_WRITERS:
            return WRITERS.get(writer_name).params
        writer_class = rep.WriterRegistry.get_writers().get(writer_name)
        if not isinstance(writer_class, type):
            return ()  # not registered (yet): its JSON parameters file still works
        key = (writer_name, writer_class)
        if key not in self._specs:
            try:
                self._specs[key] = declared_params(writer_class, writer_name, RECORDER_OWNED)
            except Exception as exc:  # a writer whose signature cannot be read: no typed fields this time
                logger.warning("[SDG Studio] cannot read the parameters of %s: %s", writer_name, exc)
                return ()
        return self._specs[key]

    # -- running -----------------------------------------------------------------------------------
    def start(self, confirmed: bool) -> asyncio.Future[Any]:
        """Start recording as a kept task (its future); a refused start becomes the model's message."""
        return self.tasks.start(self._start_async(confirmed), "recording")

    async def _start_async(self, confirmed: bool) -> None:
        try:
            await self.model.start_async(confirmed=confirmed)
        except SdgStudioError as exc:
            self.model.message = str(exc)
            logger.warning("[SDG Studio] %s", exc)

    def record_last_config(self) -> None:
        """The "Record N Frames" action: record with the last configuration (no window needed)."""
        if self.model.running:
            logger.warning("[SDG Studio] Record N Frames: a recording is already running")
            return
        self.tasks.start(self._record_last_config_async(), "Record N Frames")

    async def _record_last_config_async(self) -> None:
        try:
            state = await self.model.record_last_config_async()
        except SdgStudioError as exc:
            logger.warning("[SDG Studio] Record N Frames: %s", exc)
            return
        logger.info("[SDG Studio] Record N Frames: %s; %s", state.value, self.model.message)

    def abort(self) -> None:
        """The stage is closing: take a preview off it and stop at once, the frame in flight not awaited (Isaac's
        ``clear_recorder``)."""
        self.model.clear_preview()
        if self.model.running:
            self.model.stop()
            if self.session is not None:
                self.session.abort()

    def close(self) -> None:
        """Stop a recording and remember the configuration (app quit, extension shutdown)."""
        self.abort()
        self.model.save_last_config()

    def destroy(self) -> None:
        self._subscriptions = []
        self.close()
