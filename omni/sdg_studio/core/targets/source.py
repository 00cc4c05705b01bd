"""Where a stream's frames come from: frame index -> annotator outputs of every camera.

A :class:`FrameSource` applies the scenario of frame ``index`` (a :class:`FrameRandomizer`: ``apply(index)``,
``restore()``, e.g. a ``RandomizationEngine``) and renders every camera, so a frame is a pure function of
the scenario's seed and the index. :class:`BackendFrameSource` does it on a host-neutral
:class:`RenderBackend` (the embedded renderer); the Replicator source
(``backends/replicator/online_source.py``) does it inside Kit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from omni.sdg_studio.core.render_backend import Frame, RenderBackend


class FrameRandomizer(Protocol):
    """Changes the stage for frame ``index`` (a pure function of its seed and the index); :meth:`restore`
    undoes everything. A ``RandomizationEngine`` is one (its ``apply`` also returns what it drew)."""

    def apply(self, index: int, /) -> Any: ...

    def restore(self) -> None: ...


class FrameSource(Protocol):
    """Renders frame ``index`` of every camera, in :attr:`cameras` order."""

    cameras: tuple[str, ...]

    def render(self, index: int) -> list[Frame]: ...

    def close(self) -> None: ...


class BackendFrameSource:
    """A :class:`FrameSource` on a :class:`RenderBackend`: every frame renders at the stage's default time."""

    def __init__(
        self,
        backend: RenderBackend,
        cameras: Sequence[str],
        resolution: tuple[int, int],
        annotators: Sequence[str],
        *,
        scenario: FrameRandomizer | None = None,
        semantic_types: Sequence[str] = ("class",),
    ) -> None:
        self.backend = backend
        self.cameras = tuple(cameras)
        self.resolution = resolution
        self.annotators = tuple(annotators)
        self.scenario = scenario
        self.semantic_types = tuple(semantic_types)

    def render(self, index: int) -> list[Frame]:
        if self.scenario is not None:
            self.scenario.apply(index)
        return [
            self.backend.render(camera, self.resolution, self.annotators, semantic_types=self.semantic_types)
            for camera in self.cameras
        ]

    def close(self) -> None:
        """Undo the scenario's stage edits."""
        if self.scenario is not None:
            self.scenario.restore()
