"""The contract between the recorder and the writers.

A writer declares which annotators it needs; the recorder renders them for every render
product of a step and hands the writer one :class:`FrameBatch` per step, like Replicator's
``Writer.write(data)`` is called once per captured frame for all render products.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from omni.sdg_studio.core.render_backend import Frame, RenderProduct


@dataclass(frozen=True)
class AnnotatorRequest:
    """One annotator a writer needs, with the init params Replicator would attach it with."""

    name: str
    colorize: bool = False
    semantic_types: tuple[str, ...] = ("class",)
    #: ``includeUnlabelled`` init param of ``pointcloud``: also return points of unlabelled prims.
    include_unlabelled: bool = False


@dataclass
class FrameBatch:
    """Everything rendered for one step: annotator outputs per render product name."""

    index: int
    products: dict[str, Frame] = field(default_factory=dict)
    render_products: dict[str, RenderProduct] = field(default_factory=dict)


class Writer(Protocol):
    """Writes frames to ``output_dir``; every file lands complete (temporary name, then rename).

    Writers that queue work on threads (``FileWriter``) also offer ``completed_frames()`` (frames
    whose files are all on disk), ``flush()`` (wait for queued frames) and ``close()`` (stop after a
    failure); the recorder uses them when present.
    """

    name: str
    output_dir: Path

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        """Annotators this writer needs from the backend."""
        ...

    def write(self, batch: FrameBatch) -> list[Path]:
        """Write (or queue) one step; return the final paths of its files."""
        ...

    def finish(self) -> list[Path]:
        """Flush pending work and write end-of-run files (e.g. COCO annotations); return them."""
        ...
