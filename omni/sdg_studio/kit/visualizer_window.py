"""The "SDG Studio Annotator Visualizer" window: a thin omni.ui view of the extension's :class:`VisualizerModel`.

Everything it shows is decided by the host-neutral model (selection, throttle, waiting state, grid), which the
extension owns so that closing the window keeps the chosen camera, annotators and options. This module builds
widgets, forwards their edits, attaches annotators through :class:`AnnotatorSource` while the window shows
(detached, and its render product destroyed, when it hides, closes or the stage closes) and uploads the
composed grid with ``ui.ByteImageProvider.set_data_array``. Annotator data is fetched on Kit's main thread;
colorizing it and composing the grid run on a worker thread (one frame at a time), and a grid is uploaded
only when it changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np
import omni.kit.app
import omni.timeline
import omni.ui as ui
import omni.usd
from omni.kit.menu.utils import MenuHelperWindow

from omni.sdg_studio.core.task_keeper import TaskKeeper
from omni.sdg_studio.core.visualize.cameras import stage_cameras
from omni.sdg_studio.core.visualize.colorize import DepthMode, DepthRange
from omni.sdg_studio.core.visualize.model import VisualizerModel
from omni.sdg_studio.kit.events import observe, observe_stage
from omni.sdg_studio.kit.visualizer_source import AnnotatorSource

ACTIVE_VIEWPORT = "Active viewport"
REFRESH = "Refresh"
ROW_HEIGHT = 22
LABEL_WIDTH = 90
MIN_IMAGE_SIDE = 16


class VisualizerWindow(MenuHelperWindow):
    """Camera and annotator pickers, display options, a status line and the tile grid."""

    def __init__(self, title: str, model: VisualizerModel, tasks: TaskKeeper) -> None:
        super().__init__(title, width=960, height=720)
        self.model = model
        self.tasks = tasks
        self.source = AnnotatorSource()
        self._provider = ui.ByteImageProvider()
        self._loop = asyncio.get_event_loop()
        self._alive = True
        self._working = False
        self._generation = 0  # bumped when the stage closes: a frame fetched before is dropped
        self._uploaded: np.ndarray | None = None
        self._input_problem = ""
        depth = model.options.depth  # the model outlives earlier windows: show what it holds
        self._near, self._far, self._depth_mode = depth.near, depth.far, depth.mode
        self._build()
        self._unsubscribe_model = self.model.subscribe(self._model_changed)
        self._subscriptions = [
            observe(omni.kit.app.GLOBAL_EVENT_UPDATE, self._on_update, "omni.sdg_studio.visualizer.update"),
            observe_stage(
                omni.usd.StageEventType.CLOSING, self._on_stage_closing, "omni.sdg_studio.visualizer.stage_closing"
            ),
            observe_stage(omni.usd.StageEventType.OPENED, self.scan_cameras, "omni.sdg_studio.visualizer.stage_opened"),
        ]
        self.scan_cameras()

    # -- widgets ------------------------------------------------------------------------------
    def _build(self) -> None:
        with self.frame, ui.VStack(spacing=4):
            self._camera_frame = ui.Frame(build_fn=self._build_camera_row, height=ROW_HEIGHT)
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                ui.Label("Resolution", width=LABEL_WIDTH)
                width_field = ui.IntField(width=60, tooltip="Width of the preview render product")
                width_field.model.set_value(self.model.resolution[0])
                height_field = ui.IntField(width=60, tooltip="Height of the preview render product")
                height_field.model.set_value(self.model.resolution[1])
                width_field.model.add_value_changed_fn(lambda m: self._set_resolution(m.as_int, None))
                height_field.model.add_value_changed_fn(lambda m: self._set_resolution(None, m.as_int))
                ui.Spacer(width=12)
                ui.Label("Refresh (Hz)", width=LABEL_WIDTH, tooltip="Most refreshes per second while playing")
                rate = ui.FloatField(width=50)
                rate.model.set_value(self.model.refresh_hz)
                rate.model.add_value_changed_fn(lambda m: self._apply(self.model.set_refresh_hz, m.as_float))
                ui.Label("Pause", width=40)
                pause = ui.CheckBox(width=10, height=0)
                pause.model.set_value(self.model.paused)
                pause.model.add_value_changed_fn(lambda m: self.model.set_paused(m.as_bool))
                ui.Spacer(width=12)
                ui.Button(REFRESH, width=80, clicked_fn=self.model.request_refresh, tooltip="Render and show now")
            with ui.CollapsableFrame("Annotators", height=0, collapsed=False), ui.VStack(spacing=2):
                names = self.model.available
                for start in range(0, len(names), 4):
                    with ui.HStack(height=ROW_HEIGHT, spacing=4):
                        for name in names[start : start + 4]:
                            box = ui.CheckBox(width=10, height=0, tooltip=name)
                            box.model.set_value(name in self.model.selected)
                            box.model.add_value_changed_fn(lambda m, n=name: self.model.set_annotator(n, m.as_bool))
                            ui.Label(name, width=200)
            with ui.CollapsableFrame("Display", height=0, collapsed=True), ui.VStack(spacing=2):
                with ui.HStack(height=ROW_HEIGHT, spacing=4):
                    ui.Label("Depth", width=LABEL_WIDTH)
                    modes = [mode.value for mode in DepthMode]
                    depth = ui.ComboBox(modes.index(self._depth_mode.value), *modes, width=80)
                    depth.model.add_item_changed_fn(
                        lambda m, _: self._set_depth(mode=DepthMode(modes[m.get_item_value_model().as_int]))
                    )
                    ui.Label("near", width=34)
                    near = ui.FloatField(width=60, tooltip="Nearest depth shown (fixed / log)")
                    near.model.set_value(self._near or 0.0)
                    near.model.add_value_changed_fn(lambda m: self._set_depth(near=m.as_float))
                    ui.Label("far", width=28)
                    far = ui.FloatField(width=60, tooltip="Farthest depth shown (fixed / log)")
                    far.model.set_value(self._far or 0.0)
                    far.model.add_value_changed_fn(lambda m: self._set_depth(far=m.as_float))
                with ui.HStack(height=ROW_HEIGHT, spacing=4):
                    ui.Label("Blend over RGB", width=LABEL_WIDTH)
                    blend = ui.CheckBox(width=10, height=0, tooltip="Segmentation tiles drawn over the RGB frame")
                    blend.model.set_value(self.model.options.segmentation_over_rgb)
                    blend.model.add_value_changed_fn(lambda m: self._apply_options(segmentation_over_rgb=m.as_bool))
                    ui.Label("opacity", width=50)
                    alpha = ui.FloatField(width=50)
                    alpha.model.set_value(self.model.options.overlay_alpha)
                    alpha.model.add_value_changed_fn(lambda m: self._apply_options(overlay_alpha=m.as_float))
            self._status = ui.Label(self.model.status, height=20, word_wrap=True)
            self._image_frame = ui.Frame()
            with self._image_frame:
                ui.ImageWithProvider(
                    self._provider,
                    fill_policy=ui.IwpFillPolicy.IWP_PRESERVE_ASPECT_FIT,
                    alignment=ui.Alignment.CENTER_TOP,
                )
            self._image_frame.set_computed_content_size_changed_fn(self._show_image)

    def _build_camera_row(self) -> None:
        with ui.HStack(height=ROW_HEIGHT, spacing=4):
            ui.Label("Camera", width=LABEL_WIDTH)
            choices = [ACTIVE_VIEWPORT, *self.model.cameras]
            current = choices.index(self.model.camera) if self.model.camera in choices else 0
            combo = ui.ComboBox(current, *choices)
            combo.model.add_item_changed_fn(lambda m, _: self._select_camera(choices[m.get_item_value_model().as_int]))
            ui.Button("Rescan", width=70, clicked_fn=self.scan_cameras, tooltip="List the stage's cameras again")

    # -- edits from widgets -----------------------------------------------------------------------
    def _try(self, action: Callable[[], None]) -> None:
        """Run an edit; a value the model refuses is shown on the status line instead."""
        try:
            action()
            self._input_problem = ""
        except ValueError as exc:
            self._input_problem = str(exc)
        self._show_status()
        self._show_image()  # an option or selection change redraws the grid (the model recomposes only if needed)

    def _apply(self, setter: Callable[[float], None], value: float) -> None:
        self._try(lambda: setter(value))

    def _apply_options(self, **changes: object) -> None:
        self._try(lambda: self.model.set_options(**changes))

    def _set_resolution(self, width: int | None, height: int | None) -> None:
        current_width, current_height = self.model.resolution
        self._try(lambda: self.model.set_resolution(width or current_width, height or current_height))

    def _set_depth(self, mode: DepthMode | None = None, near: float | None = None, far: float | None = None) -> None:
        self._depth_mode = mode or self._depth_mode
        self._near = near if near is not None else self._near
        self._far = far if far is not None else self._far
        if self._depth_mode is DepthMode.AUTO:
            self._try(lambda: self.model.set_depth_range(DepthRange()))
        else:
            self._try(
                lambda: self.model.set_depth_range(DepthRange(self._depth_mode, self._near or None, self._far or None))
            )

    def _select_camera(self, choice: str) -> None:
        self._try(lambda: self.model.select_camera(None if choice == ACTIVE_VIEWPORT else choice))

    def scan_cameras(self) -> None:
        """List the cameras of the open stage in the camera picker."""
        stage = omni.usd.get_context().get_stage()
        self.model.set_cameras(stage_cameras(stage) if stage is not None else [])
        self._camera_frame.rebuild()

    # -- events -------------------------------------------------------------------------------
    def _on_update(self) -> None:
        if not self.visible or self._working:
            return
        if not self.model.due(playing=omni.timeline.get_timeline_interface().is_playing()):
            return
        if not self.source.sync(self.model.attachment, self.model.options.taxonomy or "class"):
            self._show_status()
            return
        frame = self.source.fetch()  # Replicator's get_data, on the main thread
        self._working = True
        self.tasks.start(self._process(frame), "visualizer refresh")

    async def _process(self, frame: dict[str, Any]) -> None:
        """Colorize the frame into tiles and compose the grid off the main thread, then upload it."""
        generation = self._generation
        try:
            await self._loop.run_in_executor(None, self.model.submit, frame)
            if generation != self._generation:  # the stage closed meanwhile: not this frame
                self.model.clear()
                return
            await self._compose_and_upload()
        finally:
            self._working = False

    def _visibility_changed_fn(self, visible: bool) -> None:
        # MenuHelperWindow routes visibility through this method to the menu's listener; extend, don't replace.
        super()._visibility_changed_fn(visible)
        if visible:
            self.model.request_refresh()
        else:
            self.source.release()

    def _on_stage_closing(self) -> None:
        self._generation += 1
        self.source.release()
        self.model.clear()
        self.model.set_cameras([])
        self._camera_frame.rebuild()

    # -- display ------------------------------------------------------------------------------
    def _model_changed(self) -> None:
        """Any thread (``submit`` runs on a worker): show the model on Kit's loop."""
        self._loop.call_soon_threadsafe(self._show_status)

    def _show_status(self) -> None:
        if not self._alive:
            return
        problems = [p for p in (self._input_problem, self.source.problem) if p]
        self._status.text = " | ".join([self.model.status, *problems])

    def _image_size(self) -> tuple[int, int]:
        return int(self._image_frame.computed_width), int(self._image_frame.computed_height)

    def _show_image(self) -> None:
        """The image area was resized (or an option changed): compose again unless a frame is being processed."""
        if not self._working and self._alive:
            self._working = True
            self.tasks.start(self._recompose(), "visualizer layout")

    async def _recompose(self) -> None:
        try:
            await self._compose_and_upload()
        finally:
            self._working = False

    async def _compose_and_upload(self) -> None:
        width, height = self._image_size()
        if width < MIN_IMAGE_SIDE or height < MIN_IMAGE_SIDE:
            return
        image = await self._loop.run_in_executor(None, self.model.image, width, height)
        if self._alive and image is not self._uploaded:  # the model returns its cached grid when nothing changed
            self._provider.set_data_array(image, [image.shape[1], image.shape[0]])
            self._uploaded = image

    def destroy(self) -> None:
        """Stop listening, detach the annotators, destroy the render product; the model lives on."""
        self._alive = False
        self._subscriptions = []
        self._unsubscribe_model()
        self.source.release()
        super().destroy()
