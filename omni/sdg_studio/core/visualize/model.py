"""The Annotator Visualizer's state, host-neutral: selection, refresh throttle, last frame, tiles, layout.

Kit's window and the CLI preview are bindings around :class:`VisualizerModel`: they tell it which
cameras exist, ask :meth:`VisualizerModel.due` whether to fetch data, hand it the frame
(:meth:`VisualizerModel.submit`) and show :meth:`VisualizerModel.image`. The model decides which
annotators must be attached (helpers included) so the binding only reattaches when
:attr:`VisualizerModel.attachment` changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import numpy as np

from omni.sdg_studio.core.annotators import ANNOTATORS
from omni.sdg_studio.core.visualize.colorize import DepthRange
from omni.sdg_studio.core.visualize.layout import compose, fit_layout
from omni.sdg_studio.core.visualize.tiles import Tile, TileStatus, ViewOptions, default_order, render_tiles, viewable

#: Annotators offered when nothing else is known (Replicator's names, all with a tile).
DEFAULT_ANNOTATORS: tuple[str, ...] = tuple(name for name in default_order(ANNOTATORS) if viewable(name))
MAX_REFRESH_HZ = 60.0
#: After this many all-empty frames the status line suggests what may be wrong.
STALL_FRAMES = 120


class VisualizerState(str, Enum):
    """Where the preview stands."""

    IDLE = "idle"  # nothing selected or nothing received yet
    WAITING = "waiting"  # frames arrive but are still empty (first renders)
    LIVE = "live"
    PAUSED = "paused"


@dataclass(frozen=True)
class Attachment:
    """What the binding must have attached: a camera (None = the active viewport), resolution, annotators."""

    camera: str | None
    resolution: tuple[int, int]
    annotators: tuple[str, ...]


class VisualizerModel:
    """Selection, throttle and last frame of the visualizer; notifies subscribers on every change."""

    def __init__(
        self,
        *,
        annotators: Sequence[str] = DEFAULT_ANNOTATORS,
        selected: Iterable[str] = ("rgb", "distance_to_image_plane", "semantic_segmentation", "bounding_box_2d_tight"),
        options: ViewOptions | None = None,
        refresh_hz: float = 4.0,
        resolution: tuple[int, int] = (512, 512),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.available: list[str] = list(annotators)
        unknown = [name for name in selected if name not in self.available]
        if unknown:
            raise ValueError(f"unknown annotators {unknown}; available: {', '.join(self.available)}")
        self.selected: list[str] = default_order(selected)
        self.options = options or ViewOptions()
        self.cameras: list[str] = []
        self.camera: str | None = None
        self.resolution = resolution
        self.paused = False
        self.state = VisualizerState.IDLE
        self.tiles: list[Tile] = []
        self.last_frame: Mapping[str, Any] | None = None
        self.frames_received = 0
        self.empty_frames = 0
        self._clock = clock
        self._refresh_hz = 0.0
        self._last_refresh: float | None = None
        self._refresh_requested = True
        self._listeners: list[Callable[[], None]] = []
        self._image_cache: tuple[tuple[int, int], np.ndarray] | None = None
        self.set_refresh_hz(refresh_hz)

    # -- notifications ------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every change; returns the function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _changed(self, *, tiles: bool = False) -> None:
        if tiles:
            self._image_cache = None
        for listener in list(self._listeners):
            listener()

    # -- selection ----------------------------------------------------------------------------
    @property
    def attachment(self) -> Attachment:
        """Annotators to attach: the selected ones plus what their tiles draw on or project with."""
        needed = list(self.selected)
        boxes = {"bounding_box_2d_tight", "bounding_box_2d_loose", "bounding_box_3d", "pointcloud"}
        if (self.options.boxes_over_rgb and boxes & set(needed)) or self.options.segmentation_over_rgb:
            needed.append("rgb")
        if {"bounding_box_3d", "pointcloud"} & set(needed):
            needed.append("camera_params")
        if "occlusion" in needed and not {"instance_id_segmentation", "instance_segmentation"} & set(needed):
            needed.append("instance_segmentation")
        return Attachment(self.camera, self.resolution, tuple(dict.fromkeys(needed)))

    def set_cameras(self, cameras: Sequence[str]) -> None:
        """The cameras the stage offers; a selected camera that disappeared falls back to the viewport."""
        self.cameras = list(cameras)
        if self.camera is not None and self.camera not in self.cameras:
            self.camera = None
            self._reset()
        self._changed()

    def select_camera(self, camera: str | None) -> None:
        """Preview ``camera`` (a prim path) or, with None, the active viewport."""
        if camera is not None and camera not in self.cameras:
            raise ValueError(f"{camera} is not a camera of this stage; cameras: {', '.join(self.cameras) or 'none'}")
        if camera != self.camera:
            self.camera = camera
            self._reset()
            self._changed(tiles=True)

    def set_annotator(self, name: str, shown: bool) -> None:
        """Show or hide the tile of ``name``."""
        if name not in self.available:
            raise ValueError(f"unknown annotator {name!r}; available: {', '.join(self.available)}")
        if shown == (name in self.selected):
            return
        names = [*self.selected, name] if shown else [n for n in self.selected if n != name]
        self.selected = default_order(names)
        self.tiles = [t for t in self.tiles if t.name in self.selected]
        self._refresh_requested = True
        self._changed(tiles=True)

    def set_resolution(self, width: int, height: int) -> None:
        if not (16 <= width <= 8192 and 16 <= height <= 8192):
            raise ValueError(f"preview resolution {width}x{height} must be within 16..8192 per side")
        if (width, height) != self.resolution:
            self.resolution = (width, height)
            self._reset()
            self._changed(tiles=True)

    def set_options(self, **changes: Any) -> None:
        """Change view options (``depth``, ``overlay_alpha``, ``segmentation_over_rgb``, ...) and redraw."""
        self.options = replace(self.options, **changes)
        if self.last_frame is not None:
            self._render(self.last_frame)
        self._changed(tiles=True)

    def set_depth_range(self, depth: DepthRange) -> None:
        self.set_options(depth=depth)

    # -- refresh throttle ---------------------------------------------------------------------
    @property
    def refresh_hz(self) -> float:
        return self._refresh_hz

    def set_refresh_hz(self, hz: float) -> None:
        """Refresh at most ``hz`` times a second while playing; 0 refreshes only on request."""
        if not 0.0 <= hz <= MAX_REFRESH_HZ:
            raise ValueError(f"refresh rate {hz} must be within 0..{MAX_REFRESH_HZ:g} Hz")
        self._refresh_hz = float(hz)
        self._changed()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.state = (
            VisualizerState.PAUSED if paused else (VisualizerState.LIVE if self.tiles else VisualizerState.IDLE)
        )
        self._changed()

    def request_refresh(self) -> None:
        """The next :meth:`due` answers True (the Refresh button), paused or not."""
        self._refresh_requested = True

    def due(self, playing: bool = True) -> bool:
        """Whether the binding should fetch a frame now: on request, or throttled while ``playing``."""
        if not self.selected:
            return False
        if self._refresh_requested:
            return True
        if self.paused or not playing or self._refresh_hz == 0.0:
            return False
        return self._last_refresh is None or self._clock() - self._last_refresh >= 1.0 / self._refresh_hz

    # -- frames -------------------------------------------------------------------------------
    def submit(self, frame: Mapping[str, Any]) -> list[Tile]:
        """Take one frame (``{annotator: get_data()}``), render the selected tiles, update the state."""
        self._last_refresh = self._clock()
        requested, self._refresh_requested = self._refresh_requested, False
        self.frames_received += 1
        if self._render(frame):
            self.empty_frames += 1
            self.state = VisualizerState.WAITING
            # a Refresh keeps asking on the next updates until data arrives (first renders are empty)
            self._refresh_requested = requested and self.empty_frames < STALL_FRAMES
        else:
            self.empty_frames = 0
            self.last_frame = frame
            self.state = VisualizerState.PAUSED if self.paused else VisualizerState.LIVE
        self._changed(tiles=True)
        return self.tiles

    def _render(self, frame: Mapping[str, Any]) -> bool:
        """Render the selected tiles; True when every one of them is still empty (waiting)."""
        fresh = render_tiles(frame, self.selected, self.options)
        previous = {t.name: t for t in self.tiles}
        # keep showing the last good image of a tile whose data is momentarily empty
        self.tiles = [_keep_last_image(t, previous.get(t.name)) for t in fresh]
        return all(t.status is TileStatus.WAITING for t in fresh)

    def _reset(self) -> None:
        self.tiles = []
        self.last_frame = None
        self.state = VisualizerState.PAUSED if self.paused else VisualizerState.IDLE
        self.empty_frames = 0
        self._refresh_requested = True

    def clear(self) -> None:
        """Forget frames and tiles (the stage closed, the render product went away)."""
        self._reset()
        self._changed(tiles=True)

    # -- display ------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """One line for the window's status bar."""
        if not self.selected:
            return "no annotators selected"
        source = self.camera or "active viewport"
        if self.state is VisualizerState.WAITING:
            if self.empty_frames >= STALL_FRAMES:
                return (
                    f"{source}: still no data after {self.empty_frames} frames; press Play or Refresh "
                    "(the render product only renders while the app updates)"
                )
            return f"{source}: waiting for the first rendered frame ({self.empty_frames})"
        if self.state is VisualizerState.IDLE:
            return f"{source}: press Play or Refresh to render"
        errors = sum(t.status is TileStatus.ERROR for t in self.tiles)
        rate = f"{self._refresh_hz:g} Hz" if self._refresh_hz else "on Refresh"
        paused = "paused; " if self.paused else ""
        problems = f"; {errors} tile(s) with problems" if errors else ""
        return f"{source}: {paused}{len(self.tiles)} tiles, {rate}{problems}"

    def placeholder_tiles(self) -> list[Tile]:
        """Tiles to draw before any frame: one "waiting" tile per selected annotator."""
        note = "waiting for the first rendered frame" if self.state is VisualizerState.WAITING else "no frame yet"
        return [Tile(name, None, TileStatus.WAITING, note) for name in self.selected]

    def image(self, width: int, height: int) -> np.ndarray:
        """The grid laid out to fill ``width`` x ``height`` (columns / rows swapped for tall spaces)."""
        size = (max(64, width), max(64, height))
        if self._image_cache is not None and self._image_cache[0] == size:
            return self._image_cache[1]
        tiles = self.tiles or self.placeholder_tiles()
        image = compose(tiles, fit_layout(tiles, *size))
        self._image_cache = (size, image)
        return image


def _keep_last_image(tile: Tile, previous: Tile | None) -> Tile:
    if tile.status is TileStatus.WAITING and previous is not None and previous.image is not None:
        return previous
    return tile
