"""Recorded datasets read back as frames of annotator data: the common interface and format detection.

Each reader turns files into the same ``{annotator: get_data() result}`` frames the live preview
gets, so one tile renderer serves both. Readers: BasicWriter (ours and Isaac Sim's, single and
multiple render products), KITTI and COCO (:mod:`dataset_basic`, :mod:`dataset_kitti`,
:mod:`dataset_coco`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.frame_records import RECORDS_NAME
from omni.sdg_studio.core.recorder.output_policy import MANIFEST_NAME
from omni.sdg_studio.core.visualize.tiles import Unreadable

#: Files a dataset folder may hold besides annotator files (hidden temporary files are skipped too).
BOOKKEEPING_FILES = frozenset({"metadata.txt", MANIFEST_NAME, RECORDS_NAME})


class DatasetError(SdgStudioError):
    """A folder that cannot be read as a dataset, or a camera / frame it does not have."""


@dataclass(frozen=True)
class FrameLabels:
    """The labels one frame holds, for the summary: from boxes (one per box) or a segmentation map."""

    source: str
    labels: list[str]


@dataclass
class Dataset(ABC):
    """A dataset on disk: cameras (render products), their frames, and each frame's annotator data."""

    root: Path
    kind: str
    unknown_files: list[Path] = field(default_factory=list)
    #: camera -> frame token -> what the format keeps of that frame, both in recording order.
    index: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def cameras(self) -> list[str]:
        """Camera (render product) names; ``""`` for a single-camera flat folder."""
        return list(self.index)

    def frames(self, camera: str) -> list[str]:
        """Frame tokens of ``camera`` in recording order (as they appear in file names)."""
        return list(self.index.get(camera, {}))

    @abstractmethod
    def files(self, camera: str, frame: str) -> dict[str, list[Path]]:
        """The files of one frame, by annotator."""

    @abstractmethod
    def load(self, camera: str, frame: str) -> dict[str, Any]:
        """One frame as ``{annotator: value}``; unreadable annotators as :class:`Unreadable`."""

    @abstractmethod
    def frame_labels(self, camera: str, frame: str) -> FrameLabels | None:
        """The labels in one frame (None when the frame has no label annotator)."""

    def object_labels(self, camera: str, frame: str) -> list[dict[str, str]]:
        """The labels (``{taxonomy: "a,b"}``) of one frame's objects, read from label files only (no images)."""
        found = self.frame_labels(camera, frame)
        return [{"class": label} for label in found.labels] if found is not None else []

    def annotators(self, camera: str) -> list[str]:
        """Every annotator found for ``camera`` in any frame."""
        names: dict[str, None] = {}
        for frame in self.frames(camera):
            names.update(dict.fromkeys(self.files(camera, frame)))
        return list(names)

    def camera(self, name: str | None) -> str:
        """Resolve a ``--camera`` argument: exact name, else a unique suffix match; None = the only camera."""
        cameras = self.cameras
        if name is None:
            if len(cameras) == 1:
                return cameras[0]
            raise DatasetError(f"{self.root}: {len(cameras)} cameras, pick one with --camera: {', '.join(cameras)}")
        if name in cameras:
            return name
        matches = [c for c in cameras if c.endswith("/" + name.strip("/")) or c.rsplit("/", 1)[-1] == name]
        if len(matches) == 1:
            return matches[0]
        raise DatasetError(f"{self.root}: no camera {name!r}; cameras: {', '.join(map(camera_title, cameras))}")

    def frame(self, camera: str, number: int | None) -> str:
        """Resolve ``--frame N``: the frame numbered N in file names, else the N-th frame; None = the first."""
        frames = self.frames(camera)
        if not frames:
            raise DatasetError(f"{self.root}: camera {camera_title(camera)} has no frames")
        if number is None:
            return frames[0]
        for token in frames:
            digits = token.rsplit("_", 1)[-1]
            if digits.isdigit() and int(digits) == number:
                return token
        if 0 <= number < len(frames) and not all(t.rsplit("_", 1)[-1].isdigit() for t in frames):
            return frames[number]
        raise DatasetError(
            f"{self.root}: camera {camera_title(camera)} has no frame {number} (frames {frames[0]} .. {frames[-1]})"
        )


def camera_title(name: str) -> str:
    return name or "(single camera)"


def read_guarded(path: Path, reader: Callable[[Path], Any]) -> Any:
    """``reader(path)``, or :class:`Unreadable` naming the file and what is wrong with it."""
    try:
        return reader(path)
    except FileNotFoundError:
        return Unreadable(f"{path}: missing")
    except json.JSONDecodeError as exc:
        return Unreadable(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    except (OSError, ValueError, EOFError, SyntaxError) as exc:
        reason = str(exc) or type(exc).__name__
        return Unreadable(f"{path}: unreadable ({reason})")


def read_image(path: Path) -> np.ndarray:
    """Pixels of an image file as stored: (H, W) for gray / 16-bit ids, (H, W, C) otherwise."""
    with Image.open(path) as image:
        image.load()
        if image.mode in ("P", "PA", "LA", "CMYK", "YCbCr", "1"):
            image = image.convert("RGBA")
        array = np.asarray(image)
    if image.mode == "I;16B":
        array = array.astype(np.uint16)
    return array


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_npy(path: Path) -> np.ndarray:
    return np.load(path, allow_pickle=False)
