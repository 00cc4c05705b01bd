"""``RecordedDataset``: a recorded folder as a map-style dataset with the stream's targets.

Reads what the visualizer reads (``core/visualize/dataset_*.py``): BasicWriter folders (ours and Isaac
Sim's: masks from ``instance_segmentation`` or ``instance_id_segmentation``, boxes from the box files),
COCO (masks from RLE or polygons) and KITTI (masks from the instance images matched to the label
boxes). Each frame goes through the same ``frame_targets`` as :class:`SyntheticStream`, so a recording
and a stream of the same scene, seed and scenario give the same samples, ``image_id`` included
(``frame * len(cameras) + camera index``).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.colors import stable_color
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.manifest import Manifest, ManifestError
from omni.sdg_studio.core.targets import TargetClasses, check_targets, frame_targets, target_annotators
from omni.sdg_studio.core.targets.classes import RESERVED_LABELS
from omni.sdg_studio.core.visualize.dataset import Dataset as RecordedFolder
from omni.sdg_studio.core.visualize.dataset_coco import CocoDataset
from omni.sdg_studio.core.visualize.open_dataset import open_dataset
from omni.sdg_studio.core.visualize.tiles import ShownImage, Unreadable
from omni.sdg_studio.torch.convert import Sample, to_tensors
from omni.sdg_studio.torch.stream import Classes, resolve_classes

#: Annotators that give objects (besides rgb); ``frame_targets`` takes the first it can use.
_OBJECT_SOURCES = frozenset({"instance_segmentation", "instance_id_segmentation", "bounding_box_2d_tight"})


class RecordedDatasetError(SdgStudioError, ValueError):
    """A recorded frame cannot give the targets asked for; the message names the file."""


class RecordedDataset(Dataset):
    """Samples ``(image [3, H, W] float in [0, 1], target)`` of a recorded folder, frame by frame and camera by camera.

    Args:
        folder: The writer's output folder (BasicWriter, COCO or KITTI layout).
        targets: ``boxes`` (always), ``masks``, ``depth``, ``semantic``, ``normals``, ``occlusion``.
        classes: The class table (as for the stream); None = COCO's categories, else every label the
            folder's label files hold, sorted (ids 1, 2, ...).
        semantic_types: Taxonomies whose labels name classes (first present wins).
        cameras: Render products to read (default: all, in the recording's order).
        min_pixels: Objects with fewer visible pixels are left out.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        targets: Collection[str] = ("boxes", "masks"),
        *,
        classes: Classes = None,
        semantic_types: Sequence[str] = ("class",),
        cameras: Sequence[str] | None = None,
        min_pixels: int = 1,
    ) -> None:
        self.folder = Path(folder)
        self.targets = check_targets(targets)
        self.used = frozenset(target_annotators(self.targets)) | _OBJECT_SOURCES
        self.semantic_types = tuple(semantic_types)
        self.min_pixels = min_pixels
        self.dataset: RecordedFolder = open_dataset(self.folder)
        self.cameras = self._cameras(cameras)
        self.samples: list[tuple[str, str, int]] = []  # (camera, frame token, image id)
        count = len(self.cameras)
        for position, camera in enumerate(self.cameras):
            for order, token in enumerate(self.dataset.frames(camera)):
                number = int(token) if token.isdigit() else order
                self.samples.append((camera, token, number * count + position))
        self.samples.sort(key=lambda sample: sample[2])
        if classes is None:
            self.classes = self._default_classes()
        else:
            self.classes = resolve_classes(classes, self.semantic_types)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Sample:
        camera, token, image_id = self.samples[index]
        return to_tensors(self.targets_of(camera, token), image_id)

    def targets_of(self, camera: str, frame: str) -> Any:
        """The numpy :class:`DetectionTargets` of one recorded frame."""
        loaded = self.dataset.load(camera, frame)
        frame_data: dict[str, Any] = {}
        for name, value in loaded.items():
            if name not in self.used:
                continue
            if isinstance(value, Unreadable):
                raise RecordedDatasetError(value.message)
            if isinstance(value, ShownImage):
                if name != "normals":
                    raise RecordedDatasetError(f"{self.folder}: {name} of frame {frame} holds only a picture")
                value = _normals_from_picture(value.rgba)
            frame_data[name] = value
        try:
            return frame_targets(frame_data, self.classes, self.targets, min_pixels=self.min_pixels)
        except SdgStudioError as exc:
            where = f"{self.folder}" + (f" camera {camera}" if camera else "")
            raise RecordedDatasetError(f"{where} frame {frame}: {exc}") from None

    @property
    def image_ids(self) -> list[int]:
        """``image_id`` of every sample, in index order."""
        return [image_id for *_, image_id in self.samples]

    # -- internals -------------------------------------------------------------------------------------
    def _cameras(self, wanted: Sequence[str] | None) -> tuple[str, ...]:
        found = list(self.dataset.cameras)
        if wanted is not None:
            return tuple(self.dataset.camera(name) for name in wanted)
        try:
            manifest = Manifest.load(self.folder)
        except ManifestError:
            return tuple(found)
        order = [str(product.get("name")) for product in manifest.render_products]
        if len(found) > 1 and set(found) <= set(order):
            return tuple(sorted(found, key=order.index))
        return tuple(found)

    def _default_classes(self) -> TargetClasses:
        if isinstance(self.dataset, CocoDataset):
            categories = self.dataset.categories
            if categories and all(int(i) >= 1 for i in categories):
                listed = [
                    LabelClass(str(c["name"]), int(i), _category_color(c)) for i, c in sorted(categories.items())
                ]
                return TargetClasses(ClassTable(listed), self.semantic_types)
        seen: set[str] = set()
        probe = TargetClasses(ClassTable(), self.semantic_types)
        for camera in self.cameras:
            for token in self.dataset.frames(camera):
                for labels in self.dataset.object_labels(camera, token):
                    text = probe.label_text(labels)
                    if text:
                        seen.update(part.strip() for part in text.split(","))
        return TargetClasses.of_labels(seen - RESERVED_LABELS, self.semantic_types)


def _category_color(category: Any) -> tuple[int, int, int, int]:
    color = category.get("color") if isinstance(category, dict) else None
    if isinstance(color, (list, tuple)) and len(color) >= 3:
        return (int(color[0]), int(color[1]), int(color[2]), 255)
    return stable_color(str(category.get("name", "")))


def _normals_from_picture(rgba: np.ndarray) -> np.ndarray:
    """BasicWriter's colorized normals (each component mapped [-1, 1] -> [0, 255]) back to float (H, W, 4)."""
    normals = np.zeros((*rgba.shape[:2], 4), np.float32)
    normals[..., :3] = rgba[..., :3].astype(np.float32) / 255.0 * 2.0 - 1.0
    return normals
