"""What a recorded dataset holds: frames per camera, files per annotator, classes, frames without labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from omni.sdg_studio.core.visualize.dataset import Dataset
from omni.sdg_studio.core.visualize.normalize import is_reserved

#: Label sources whose labels are one per box (counted per box); others count frames.
_PER_BOX_SOURCES = frozenset(
    {"bounding_box_2d_tight", "bounding_box_2d_loose", "bounding_box_3d", "object_detection", "annotations"}
)


@dataclass
class CameraSummary:
    """Frames and files of one camera (render product)."""

    camera: str
    frames: int
    files_per_annotator: dict[str, int]
    first_frame: str = ""
    last_frame: str = ""


@dataclass
class DatasetSummary:
    """The whole dataset at a glance."""

    root: Path
    kind: str
    cameras: list[CameraSummary]
    #: label source (annotator) -> label -> boxes (box sources) or frames (segmentation labels)
    class_histograms: dict[str, Counter[str]] = field(default_factory=dict)
    #: (camera, frame) of frames whose label annotator holds no real class
    frames_without_labels: list[tuple[str, str]] = field(default_factory=list)
    unknown_files: list[Path] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return sum(c.frames for c in self.cameras)

    @staticmethod
    def counts_boxes(source: str) -> bool:
        """True when ``source``'s histogram counts boxes, False when it counts frames."""
        return source in _PER_BOX_SOURCES


def summarize(dataset: Dataset, on_frame: Callable[[], None] | None = None) -> DatasetSummary:
    """Read every frame's file list and labels (not its images) and count."""
    cameras: list[CameraSummary] = []
    histograms: dict[str, Counter[str]] = {}
    empty: list[tuple[str, str]] = []
    for camera in dataset.cameras:
        frames = dataset.frames(camera)
        per_annotator: Counter[str] = Counter()
        for frame in frames:
            for annotator, paths in dataset.files(camera, frame).items():
                per_annotator[annotator] += len(paths)
            labels = dataset.frame_labels(camera, frame)
            if labels is not None:
                real = [label for label in labels.labels if not is_reserved(label)]
                counter = histograms.setdefault(labels.source, Counter())
                counter.update(real if labels.source in _PER_BOX_SOURCES else set(real))
                if not real:
                    empty.append((camera, frame))
            if on_frame is not None:
                on_frame()
        cameras.append(
            CameraSummary(
                camera, len(frames), dict(per_annotator), frames[0] if frames else "", frames[-1] if frames else ""
            )
        )
    return DatasetSummary(dataset.root, dataset.kind, cameras, histograms, empty, list(dataset.unknown_files))
