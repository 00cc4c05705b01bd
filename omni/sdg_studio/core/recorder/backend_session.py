"""A capture session on a host-neutral :class:`RenderBackend` (the embedded renderer): render, then write.

Per frame it applies the recording's randomization (scenario and camera jitter, one engine), renders every
render product at the frame's time and hands the writer one :class:`FrameBatch`, as Replicator's
orchestrator step does. Frames whose files are on disk get their randomization record written before the
job lists them in the manifest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pxr import Usd

from omni.sdg_studio.core.recorder.randomization import RecordingRandomization
from omni.sdg_studio.core.render_backend import Frame, RenderBackend, RenderProduct
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch, Writer


def render_product_names(products: Sequence[RenderProduct]) -> list[str]:
    """Replicator's names: the given ``name``, else ``Replicator``, ``Replicator_01``, ...; made unique."""
    names: list[str] = []
    unnamed = 0
    for product in products:
        if product.name:
            base = product.name
        else:
            base = "Replicator" if unnamed == 0 else f"Replicator_{unnamed:02d}"
            unnamed += 1
        name, number = base, 1
        while name in names:
            name, number = f"{base}_{number:02d}", number + 1
        names.append(name)
    return names


@dataclass(frozen=True)
class FrameTimeline:
    """Time code of each frame: ``start + index * step`` (one timeline frame per captured frame)."""

    start: float
    step: float

    @classmethod
    def of_stage(cls, stage: Usd.Stage) -> FrameTimeline:
        fps = stage.GetFramesPerSecond() or 24.0
        return cls(stage.GetStartTimeCode(), stage.GetTimeCodesPerSecond() / fps)

    def time(self, index: int) -> float:
        return self.start + index * self.step


def annotator_groups(requests: Sequence[AnnotatorRequest]) -> dict[tuple[bool, tuple[str, ...]], list[str]]:
    """Requests grouped by the render options they need (one render call per group)."""
    groups: dict[tuple[bool, tuple[str, ...]], list[str]] = {}
    for request in requests:
        names = groups.setdefault((request.colorize, tuple(request.semantic_types)), [])
        if request.name not in names:
            names.append(request.name)
    return groups


class BackendCaptureSession:
    """Captures frames with ``backend`` and writes them with ``writer``.

    ``timeline`` set = the recorder controls the timeline: frame ``i`` renders at ``timeline.time(i)``;
    unset = every frame renders at the stage's default time (the timeline does not move).
    """

    def __init__(
        self,
        backend: RenderBackend,
        writer: Writer,
        render_products: Sequence[RenderProduct],
        *,
        timeline: FrameTimeline | None = None,
        randomization: RecordingRandomization | None = None,
    ) -> None:
        self.backend = backend
        self.writer = writer
        self.render_products = dict(zip(render_product_names(render_products), render_products, strict=True))
        self.timeline = timeline
        self.randomization = randomization
        self._groups = annotator_groups(writer.annotators)
        self._completed: dict[int, list[Path]] = {}

    def open(self) -> None:
        """Nothing to set up: the backend renders lazily."""

    def render(self, product: RenderProduct, time: float | None) -> Frame:
        """All annotators the writer needs for one render product."""
        frame: dict[str, Any] = {}
        for (colorize, semantic_types), names in self._groups.items():
            frame.update(
                self.backend.render(
                    product.camera,
                    product.resolution,
                    names,
                    time=time,
                    semantic_types=semantic_types,
                    colorize=colorize,
                )
            )
        return frame

    def time(self, index: int) -> float | None:
        """The time code frame ``index`` renders at (None: the stage's default time)."""
        return self.timeline.time(index) if self.timeline is not None else None

    def capture(self, index: int) -> list[Path]:
        time = self.time(index)
        if self.randomization is not None:
            self.randomization.apply(index, time)
        products = {name: self.render(product, time) for name, product in self.render_products.items()}
        files = self.writer.write(FrameBatch(index, products, dict(self.render_products)))
        if not hasattr(self.writer, "completed_frames"):
            self._completed[index] = list(files)
        return files

    def completed(self) -> dict[int, list[Path]]:
        self._drain()
        done, self._completed = self._completed, {}
        return done

    def _drain(self) -> None:
        """Take the frames the writer finished since the last call and write their randomization records."""
        take = getattr(self.writer, "completed_frames", None)
        if take is not None:
            for frame in take():
                self._completed[frame.index] = list(frame.files)
        if self.randomization is not None:
            self.randomization.frames_done(self._completed)

    def pause(self) -> None:
        """Nothing runs between frames here."""

    def resume(self) -> None:
        """Nothing runs between frames here."""

    def close(self, ok: bool) -> list[Path]:
        """Flush the writer (its last frames and their records) and restore the stage; end-of-run files."""
        try:
            if ok:
                files = self.writer.finish()
                self._drain()
                if self.randomization is not None:
                    files = [*files, *self.randomization.finish()]
                return files
            abort = getattr(self.writer, "close", None)
            if abort is not None:
                abort()
            return []
        finally:
            if self.randomization is not None:
                self.randomization.restore()
