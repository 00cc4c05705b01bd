"""Record with Replicator inside Kit, in the order Isaac Sim's Synthetic Data Recorder uses.

Sequence (``isaacsim.replicator.synthetic_recorder/synthetic_recorder.py``): writer from
``rep.WriterRegistry``, capture-on-play saved and turned off, storage backend initialized, writer
initialized with it, one render product per row (``force_new=True``), ``writer.attach``, then one
``rep.orchestrator.step_async`` per frame; at the end ``wait_until_complete_async``, ``writer.detach``,
``destroy`` of every render product and capture-on-play restored. With *control timeline* the timeline is
played while recording, paused on pause and stopped at the end. The :class:`RecorderJob` drives it
through :meth:`RecorderJob.run_async`, exactly as it drives the embedded backend.

Replicator's writers do not report their files, so frames are marked done once
``wait_until_complete_async`` has flushed them, with no file list; ``--resume`` is not offered here
(Replicator's BasicWriter always numbers from 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import carb.settings
import omni.kit.app
import omni.replicator.core as rep
import omni.timeline

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.backend_session import FrameRandomizer
from omni.sdg_studio.core.recorder.camera_jitter import CameraJitterRandomizer
from omni.sdg_studio.core.recorder.config import DISK_BACKEND, RecorderConfig
from omni.sdg_studio.core.recorder.isaac_format import backend_params

CAPTURE_ON_PLAY_SETTING = "/omni/replicator/captureOnPlay"


class ReplicatorSetupError(SdgStudioError):
    """Replicator refused the writer, backend or render products; the message says which."""


def replicator_backend_params(config: RecorderConfig, output_dir: Path) -> dict[str, Any]:
    """``backend.initialize`` kwargs: the recorder's derived params with the resolved output folder."""
    params = backend_params(config)
    if config.storage == DISK_BACKEND:
        params["output_dir"] = str(output_dir)
    return params


class ReplicatorCaptureSession:
    """An :class:`AsyncCaptureSession` on ``omni.replicator.core`` for one recording."""

    def __init__(self, config: RecorderConfig, output_dir: Path, randomizers: Sequence[FrameRandomizer] = ()) -> None:
        self.config = config
        self.output_dir = output_dir
        self.randomizers = list(randomizers)
        self._writer: rep.Writer | None = None
        self._render_products: list[rep.RenderProduct] = []
        self._capture_on_play: bool | None = None
        self._captured: list[int] = []
        self._flushed: dict[int, list[Path]] = {}

    @classmethod
    def for_stage(cls, config: RecorderConfig, output_dir: Path, stage: Any) -> ReplicatorCaptureSession:
        """A session with the config's camera jitter applied to ``stage`` (a ``Usd.Stage``; pxr ships no type
        information pyright can read) — the model's session factory."""
        randomizers: list[FrameRandomizer] = []
        if config.camera_jitter.enabled and config.seed is not None:
            cameras = [p.camera for p in config.render_products]
            randomizers.append(CameraJitterRandomizer(stage, cameras, config.camera_jitter, config.seed))
        return cls(config, output_dir, randomizers)

    # -- the AsyncCaptureSession protocol --------------------------------------------------------------
    async def open_async(self) -> None:
        config = self.config
        try:
            writer = rep.WriterRegistry.get(config.writer_name)
        except Exception as exc:
            raise ReplicatorSetupError(f"could not create writer {config.writer_name}: {exc}") from exc
        self._capture_on_play = bool(carb.settings.get_settings().get(CAPTURE_ON_PLAY_SETTING))
        if self._capture_on_play:
            rep.orchestrator.set_capture_on_play(False)
        try:
            backend = rep.backends.get(config.storage)
            backend.initialize(**replicator_backend_params(config, self.output_dir))
            writer.initialize(backend=backend, **config.effective_writer_params())
        except Exception as exc:
            raise ReplicatorSetupError(f"could not initialize {config.writer_name} on {config.storage}: {exc}") from exc
        self._writer = writer
        for product in config.render_products:
            self._render_products.append(
                rep.create.render_product(product.camera, product.resolution, force_new=True, name=product.name)
            )
        writer.attach(self._render_products)
        self._play_if_controlled()

    async def capture_async(self, index: int) -> list[Path]:
        for randomizer in self.randomizers:
            randomizer.apply(index)
        self._play_if_controlled()
        await rep.orchestrator.step_async(rt_subframes=self.config.rt_subframes, delta_time=None, pause_timeline=False)
        self._captured.append(index)
        return []

    def completed(self) -> dict[int, list[Path]]:
        done, self._flushed = self._flushed, {}
        return done

    def pause(self) -> None:
        if self.config.rt_subframes > 0:
            rep.orchestrator.pause()
        timeline = omni.timeline.get_timeline_interface()
        if self.config.control_timeline and timeline.is_playing():
            timeline.pause()
            timeline.commit()

    def resume(self) -> None:
        self._play_if_controlled()

    async def idle_async(self) -> None:
        await omni.kit.app.get_app().next_update_async()

    async def close_async(self, ok: bool) -> list[Path]:
        try:
            timeline = omni.timeline.get_timeline_interface()
            if self.config.control_timeline and timeline.is_playing():
                timeline.stop()
                timeline.commit()
            await rep.orchestrator.wait_until_complete_async()
            self._flushed.update({index: [] for index in self._captured})
            self._captured = []
        finally:
            self._teardown()
        return []

    # -- internals ------------------------------------------------------------------------------------
    def _play_if_controlled(self) -> None:
        timeline = omni.timeline.get_timeline_interface()
        if self.config.control_timeline and not timeline.is_playing():
            timeline.play()
            timeline.commit()

    def _teardown(self) -> None:
        """Detach the writer, destroy the render products, restore capture-on-play and the stage."""
        if self._writer is not None:
            self._writer.detach()
            self._writer = None
        for product in self._render_products:
            product.destroy()
        self._render_products.clear()
        if self._capture_on_play is not None:
            rep.orchestrator.set_capture_on_play(self._capture_on_play)
            self._capture_on_play = None
        for randomizer in self.randomizers:
            randomizer.restore()
