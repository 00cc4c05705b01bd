"""Record with Replicator inside Kit, in the order Isaac Sim's Synthetic Data Recorder uses.

Sequence (``isaacsim.replicator.synthetic_recorder/synthetic_recorder.py``, identical on v5.1.0 and v6.0.1 except
for how the writer learns where to write, which :mod:`.writer_output` decides): writer from
``rep.WriterRegistry``, capture-on-play saved and turned off, writer initialized (with a storage backend on 6.0,
``output_dir`` on 5.1), one render product per row (``force_new=True``), ``writer.attach``, then one
``rep.orchestrator.step_async`` per frame; at the end ``wait_until_complete_async``, ``writer.detach``, ``destroy``
of every render product and capture-on-play restored. With *control timeline* the timeline is played while
recording, paused on pause and stopped at the end. Like Isaac's recorder, a run stopped early with RTSubframes
calls ``rep.orchestrator.stop()`` first (``start_stop_async``), and a closing stage tears everything down at once
(``_on_stage_closing_event`` -> ``clear_recorder``) instead of waiting for the frame in flight. The
:class:`RecorderJob` drives it through :meth:`RecorderJob.run_async`, exactly as it drives the embedded backend.

Before each step the recording's randomization (scenario and camera jitter, the same engine as on the
embedded backend) authors the frame's values on Kit's stage, in an anonymous sublayer of the session layer,
as Isaac Sim's own examples randomize with USD calls and then step (IS@5.1+6.0:source/standalone_examples/
replicator/amr_navigation.py ``_randomize_dolly_pose`` ... ``Set`` then ``await rep.orchestrator.step_async``;
IS:source/standalone_examples/replicator/scene_based_sdg/scene_based_sdg.py); Kit itself edits stages through
an anonymous layer inserted first in the session layer's ``subLayerPaths`` (IS:source/extensions/
isaacsim.replicator.episode_recorder/isaacsim/replicator/episode_recorder/replayer.py
``_push_replay_edit_target``). The engine reads the stage at its default time.

Replicator's writers do not report their files, so frames are marked done once ``wait_until_complete_async``
has flushed them, with no file list (their randomization records are written then); ``--resume`` is not
offered here (Replicator's BasicWriter always numbers from 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import carb.settings
import omni.kit.app
import omni.replicator.core as rep
import omni.timeline

from omni.sdg_studio.backends.replicator.writer_output import (
    IsaacSimLine,
    ReplicatorSetupError,
    accepted_keywords,
    writer_output,
)
from omni.sdg_studio.core.recorder.config import RecorderConfig
from omni.sdg_studio.core.recorder.randomization import RecordingRandomization

CAPTURE_ON_PLAY_SETTING = "/omni/replicator/captureOnPlay"


class ReplicatorCaptureSession:
    """An :class:`AsyncCaptureSession` on ``omni.replicator.core`` for one recording."""

    def __init__(
        self,
        config: RecorderConfig,
        output_dir: Path,
        line: IsaacSimLine,
        randomization: RecordingRandomization | None = None,
    ) -> None:
        self.config = config
        self.output_dir = output_dir
        self.line = line
        self.randomization = randomization
        self._writer: rep.Writer | None = None
        self._render_products: list[rep.RenderProduct] = []
        self._capture_on_play: bool | None = None
        self._captured: list[int] = []
        self._capture_count = 0
        self._flushed: dict[int, list[Path]] = {}
        self.aborted = False

    # -- the AsyncCaptureSession protocol --------------------------------------------------------------
    async def open_async(self) -> None:
        config = self.config
        try:
            writer_class = rep.WriterRegistry.get_writers().get(config.writer_name)
            writer = rep.WriterRegistry.get(config.writer_name)
        except Exception as exc:
            raise ReplicatorSetupError(f"could not create writer {config.writer_name}: {exc}") from exc
        output = writer_output(self.line, config.writer_name, accepted_keywords(writer_class), config, self.output_dir)
        self._capture_on_play = bool(carb.settings.get_settings().get(CAPTURE_ON_PLAY_SETTING))
        if self._capture_on_play:
            rep.orchestrator.set_capture_on_play(False)
        try:
            kwargs: dict[str, Any] = dict(output.writer_kwargs)
            if output.backend is not None:
                backend = rep.backends.get(output.backend)
                backend.initialize(**output.backend_params)
                kwargs["backend"] = backend
            writer.initialize(**kwargs, **config.effective_writer_params())
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
        if self.aborted:
            raise ReplicatorSetupError("the stage closed during the recording")
        if self.randomization is not None:
            self.randomization.apply(index)
        self._play_if_controlled()
        await rep.orchestrator.step_async(rt_subframes=self.config.rt_subframes, delta_time=None, pause_timeline=False)
        self._capture_count += 1
        if not self.aborted:
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
        if self.aborted:
            return []  # torn down when the stage closed; there is nothing left to flush
        end_files: list[Path] = []
        try:
            if self.config.rt_subframes > 0 and (not ok or not self._reached_frame_count()):
                rep.orchestrator.stop()  # stopped early (or paused): as Isaac's Stop, so the wait below ends
            timeline = omni.timeline.get_timeline_interface()
            if self.config.control_timeline and timeline.is_playing():
                timeline.stop()
                timeline.commit()
            await rep.orchestrator.wait_until_complete_async()
            if self.randomization is not None:
                self.randomization.frames_done(self._captured)
                end_files = self.randomization.finish()
            self._flushed.update({index: [] for index in self._captured})
            self._captured = []
        finally:
            self._teardown()
        return end_files

    def abort(self) -> None:
        """Tear down now: the stage is closing (Isaac's recorder clears on ``StageEventType.CLOSING`` without
        waiting for the frame in flight). Frames not yet flushed are not reported as done."""
        if self.aborted:
            return
        self.aborted = True
        self._captured = []
        if self.config.rt_subframes > 0:
            rep.orchestrator.stop()
        self._teardown()

    # -- internals ------------------------------------------------------------------------------------
    def _reached_frame_count(self) -> bool:
        return self.config.frames > 0 and self._capture_count >= self.config.frames

    def _play_if_controlled(self) -> None:
        timeline = omni.timeline.get_timeline_interface()
        if self.config.control_timeline and not timeline.is_playing():
            timeline.play()
            timeline.commit()

    def _teardown(self) -> None:
        """Detach the writer, destroy the render products, restore capture-on-play and the stage (idempotent)."""
        if self._writer is not None:
            self._writer.detach()
            self._writer = None
        for product in self._render_products:
            product.destroy()
        self._render_products.clear()
        if self._capture_on_play is not None:
            rep.orchestrator.set_capture_on_play(self._capture_on_play)
            self._capture_on_play = None
        if self.randomization is not None:
            self.randomization.restore()
            self.randomization = None
