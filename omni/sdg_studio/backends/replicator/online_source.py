"""Frames for ``SyntheticStream(backend="replicator")``: Replicator renders them inside Isaac Sim, in memory.

The pattern of Isaac Sim's own in-memory examples (``standalone_examples/replicator/online_generation/
generate_shapenet.py`` up to 5.1.0; ``standalone_examples/api/isaacsim.replicator.examples/
simulation_get_data.py`` in 6.0): one render product per camera (``rep.create.render_product``),
annotators from ``rep.AnnotatorRegistry.get_annotator`` attached to it, then per frame the scenario's
USD edits, ``rep.orchestrator.step(rt_subframes=..., delta_time=0.0, pause_timeline=False)`` and
``get_data()`` of every annotator. Capture-on-play is turned off while the source lives (as the
Synthetic Data Recorder does), so no writer captures extra frames. Not run in Kit here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import carb.settings
import numpy as np
import omni.replicator.core as rep
import omni.usd

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.render_backend import Frame
from omni.sdg_studio.core.targets.source import FrameRandomizer

CAPTURE_ON_PLAY_SETTING = "/omni/replicator/captureOnPlay"
#: Init params per annotator: ids (not colors) for the segmentations, as the embedded backend returns them.
_INIT_PARAMS: dict[str, dict[str, Any]] = {
    "instance_segmentation": {"colorize": False},
    "instance_id_segmentation": {"colorize": False},
    "semantic_segmentation": {"colorize": False},
}


class ReplicatorStreamError(SdgStudioError):
    """Kit has no stage, or Replicator returned data the stream cannot use; the message says which."""


def kit_stage(stage: Any) -> Any:
    """Kit's stage: ``stage`` itself (a ``Usd.Stage``), the file ``stage`` opened in Kit's USD context, or the open
    one (None). Typed ``Any``: pxr ships no type information pyright can read."""
    if stage is not None and not isinstance(stage, (str, os.PathLike)):
        return stage
    context = omni.usd.get_context()
    if stage is not None and not context.open_stage(os.fspath(stage)):
        raise ReplicatorStreamError(f"{os.fspath(stage)}: Kit could not open the stage")
    opened = context.get_stage()
    if opened is None:
        raise ReplicatorStreamError("Kit has no open stage: open one or pass the stage's file path")
    return opened


class ReplicatorFrameSource:
    """A ``FrameSource`` on Replicator: the annotator outputs of every camera, one orchestrator step per frame."""

    def __init__(
        self,
        cameras: Sequence[str],
        resolution: tuple[int, int],
        annotators: Sequence[str],
        *,
        scenario: FrameRandomizer | None = None,
        rt_subframes: int = 4,
    ) -> None:
        self.cameras = tuple(cameras)
        self.resolution = resolution
        self.scenario = scenario
        self.rt_subframes = rt_subframes
        self._capture_on_play = bool(carb.settings.get_settings().get(CAPTURE_ON_PLAY_SETTING))
        if self._capture_on_play:
            rep.orchestrator.set_capture_on_play(False)
        self._products: list[rep.RenderProduct] = []
        self._annotators: list[dict[str, rep.Annotator]] = []
        for camera in self.cameras:
            product = rep.create.render_product(camera, resolution, force_new=True)
            self._products.append(product)
            attached = {}
            for name in annotators:
                annotator = rep.AnnotatorRegistry.get_annotator(name, init_params=_INIT_PARAMS.get(name))
                annotator.attach(product)
                attached[name] = annotator
            self._annotators.append(attached)

    def render(self, index: int) -> list[Frame]:
        """Apply the scenario for frame ``index``, step once, read every annotator of every camera."""
        if self.scenario is not None:
            self.scenario.apply(index)
        rep.orchestrator.step(rt_subframes=self.rt_subframes, delta_time=0.0, pause_timeline=False)
        return [
            {name: self._read(name, annotator, camera) for name, annotator in attached.items()}
            for camera, attached in zip(self.cameras, self._annotators, strict=True)
        ]

    def _read(self, name: str, annotator: rep.Annotator, camera: str) -> Any:
        # do_array_copy: annotators hand out views of buffers the next step overwrites (mobility_gen camera.py)
        value = annotator.get_data(do_array_copy=True)
        data = value.get("data") if isinstance(value, dict) else value
        if data is None or (isinstance(data, np.ndarray) and data.size == 0):
            raise ReplicatorStreamError(f"{camera}: annotator {name} returned no data (the renderer is not ready)")
        if name == "rgb" and isinstance(data, np.ndarray) and data.ndim == 1:
            # some builds return a flat (H*W*4,) buffer (mobility_gen camera.py)
            width, height = self.resolution
            return data.reshape(height, width, -1)
        return value

    def close(self) -> None:
        """Detach the annotators, destroy the render products, restore capture-on-play and the stage."""
        for attached in self._annotators:
            for annotator in attached.values():
                annotator.detach()
        self._annotators.clear()
        for product in self._products:
            product.destroy()
        self._products.clear()
        if self._capture_on_play:
            rep.orchestrator.set_capture_on_play(True)
            self._capture_on_play = False
        if self.scenario is not None:
            self.scenario.restore()
