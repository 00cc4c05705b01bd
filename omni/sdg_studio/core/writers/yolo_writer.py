"""A YOLO writer: the dataset layout Ultralytics trains on, straight from the annotators.

Layout: ``images/{train,val}/<stem>.<ext>``, ``labels/{train,val}/<stem>.txt`` and ``data.yaml``
(``train`` / ``val`` folders relative to the file, ``names`` index -> class). The stem is the
zero-padded frame number, prefixed ``<render product>_`` when there are several. A label line is
``class cx cy w h`` (box center and size divided by the image size) or, with ``segmentation``,
``class x1 y1 x2 y2 ...`` (the object's mask outline, simplified by ``polygon_tolerance`` pixels,
disconnected parts joined into one polygon). Targets come from :func:`frame_targets`, so boxes are
the masks' pixel-edge bounds. Class index = rank of the class id in the class table (the rules
file's ``classes``; other labels are added in order of first appearance), so ``names`` keeps its
indices when classes are added. Frame ``i`` goes to ``val`` when a hash of ``i`` falls below
``val_fraction``: the split is the same in every run and on resume.

``data.yaml`` is rewritten (atomically) before the first label that uses a new class is written, so at
any moment it names every class index on disk; on resume it is read back first.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml

from omni.sdg_studio.core.atomic import atomic_write_text
from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.targets import TargetClasses, frame_targets, mask_polygon
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
from omni.sdg_studio.core.writers.encode import image_bytes
from omni.sdg_studio.core.writers.file_writer import FileWriter, FrameDataError
from omni.sdg_studio.core.writers.params import WriterParamError
from omni.sdg_studio.core.writers.sharding import ClassRemap, FilePlacer, RecordedShard, is_identity, shard_file

ImageFormat = Literal["png", "jpg"]
DATA_YAML = "data.yaml"
SPLITS = ("train", "val")


def val_frame(index: int, fraction: float) -> bool:
    """Whether frame ``index`` belongs to the validation split (a hash of the index, so stable across runs)."""
    digest = hashlib.blake2b(str(index).encode("ascii"), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64 < fraction


def box_line(index: int, box: np.ndarray, width: int, height: int) -> str:
    """``class cx cy w h``, normalized by the image size."""
    x1, y1, x2, y2 = (float(v) for v in box)
    center = f"{(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f}"
    return f"{index} {center} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


def polygon_line(index: int, polygon: np.ndarray, width: int, height: int) -> str:
    """``class x1 y1 x2 y2 ...``, vertices normalized by the image size."""
    coords = " ".join(f"{float(x) / width:.6f} {float(y) / height:.6f}" for x, y in polygon)
    return f"{index} {coords}"


class YoloWriter(FileWriter):
    """Ultralytics YOLO detection / segmentation dataset: images, label text files and data.yaml.

    Args:
        segmentation: Write polygons (YOLO segmentation labels) instead of boxes.
        val_fraction: Share of frames written to the val split (chosen by a hash of the frame number).
        semantic_types: Semantic types whose labels name classes (first one present wins; default class).
        image_output_format: File format of the images.
        polygon_tolerance: Largest distance in pixels a polygon may depart from the mask outline.
        min_pixels: Objects with fewer visible pixels get no label line.
        frame_padding: Digits of the zero-padded frame number in file names.
    """

    name = "YoloWriter"
    version = "0.0.1"

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None = None,
        segmentation: bool = False,
        val_fraction: float = 0.1,
        semantic_types: list[str] | None = None,
        image_output_format: ImageFormat = "png",
        polygon_tolerance: float = 1.0,
        min_pixels: int = 1,
        frame_padding: int = 6,
        *,
        seed: int = 0,
        classes: ClassTable | None = None,
        resume: bool = False,
        workers: int | None = None,
        max_frames_in_flight: int = 4,
    ) -> None:
        super().__init__(
            output_dir,
            seed=seed,
            classes=classes,
            resume=resume,
            workers=workers,
            max_frames_in_flight=max_frames_in_flight,
        )
        if not 0.0 <= val_fraction <= 1.0:
            raise WriterParamError(self.name, "val_fraction", f"must be between 0 and 1, got {val_fraction!r}")
        if image_output_format not in ImageFormat.__args__:  # type: ignore[attr-defined]
            raise WriterParamError(self.name, "image_output_format", f"must be png or jpg, got {image_output_format!r}")
        if polygon_tolerance < 0:
            raise WriterParamError(self.name, "polygon_tolerance", "must be >= 0")
        if isinstance(frame_padding, bool) or not isinstance(frame_padding, int) or frame_padding < 0:
            raise WriterParamError(self.name, "frame_padding", f"must be an integer >= 0, got {frame_padding!r}")
        if semantic_types is not None and not semantic_types:
            raise WriterParamError(self.name, "semantic_types", "must name at least one semantic type")
        self.segmentation = segmentation
        self.val_fraction = float(val_fraction)
        self.image_output_format = image_output_format
        self.polygon_tolerance = float(polygon_tolerance)
        self.min_pixels = max(1, int(min_pixels))
        self.frame_padding = frame_padding
        self.target_classes = TargetClasses(self.classes, tuple(semantic_types or ("class",)), grow=True)
        self._requests = tuple(
            AnnotatorRequest(name, semantic_types=self.target_classes.semantic_types)
            for name in ("rgb", "instance_segmentation")
        )
        self._named: list[str] | None = None  # the names data.yaml lists now
        self._started = False

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        return self._requests

    @property
    def data_yaml(self) -> Path:
        return self.output_path(DATA_YAML)

    def class_names(self) -> list[str]:
        """Class names by YOLO index (the class table sorted by id)."""
        return [c.name for c in sorted(self.classes.classes, key=lambda c: c.id)]

    # -- per frame ----------------------------------------------------------------------------------
    def write_frame(self, batch: FrameBatch) -> None:
        if not self._started:
            self._start()
        for frame in batch.products.values():
            self.target_classes.add_labels_of(frame["instance_segmentation"])
        self._write_data_yaml()  # before any label that may use a new class index
        ranks = {c.id: rank for rank, c in enumerate(sorted(self.classes.classes, key=lambda c: c.id))}
        split = "val" if val_frame(batch.index, self.val_fraction) else "train"
        fmt = self.image_output_format
        for rp_name, frame in batch.products.items():
            stem = f"{batch.index:0{self.frame_padding}d}"
            if len(batch.products) > 1:
                stem = f"{rp_name.replace('/', '_')}_{stem}"
            rgb = np.ascontiguousarray(frame["rgb"][..., :3])
            self.schedule_file(f"images/{split}/{stem}.{fmt}", lambda rgb=rgb: image_bytes(rgb, fmt))
            self.schedule_file(f"labels/{split}/{stem}.txt", lambda frame=frame: self._labels(frame, ranks))

    def _labels(self, frame: Mapping[str, Any], ranks: Mapping[int, int]) -> bytes:
        """The label file of one image (a worker job)."""
        kinds = ("boxes", "masks") if self.segmentation else ("boxes",)
        targets = frame_targets(frame, self.target_classes, kinds, min_pixels=self.min_pixels)
        width, height = targets.size
        lines = []
        for k, class_id in enumerate(targets.labels.tolist()):
            if self.segmentation and targets.masks is not None:
                polygon = mask_polygon(targets.masks[k], self.polygon_tolerance)
                lines.append(polygon_line(ranks[class_id], polygon, width, height))
            else:
                lines.append(box_line(ranks[class_id], targets.boxes[k], width, height))
        return "".join(f"{line}\n" for line in lines).encode("ascii")

    # -- dataset-level file ----------------------------------------------------------------------------
    def _start(self) -> None:
        """On resume, take back the class order of the earlier run from its data.yaml."""
        self._started = True
        if self.resume and self.data_yaml.is_file():
            try:
                data = yaml.safe_load(self.data_yaml.read_text(encoding="utf-8"))
                names = data["names"]
                ordered = [names[i] for i in sorted(names)] if isinstance(names, dict) else list(names)
            except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
                raise FrameDataError(f"{self.data_yaml}: cannot resume from it ({exc})") from exc
            for name in ordered:
                self.classes.get(str(name))
            if self.class_names()[: len(ordered)] != [str(n) for n in ordered]:
                raise FrameDataError(f"{self.data_yaml}: its class order differs from the class table's; not resumable")

    def _write_data_yaml(self) -> None:
        """Rewrite data.yaml when the class list changed (before any label using a new class is written)."""
        names = self.class_names()
        if names == self._named:
            return
        for split in SPLITS:
            self.output_path(f"images/{split}").mkdir(parents=True, exist_ok=True)
        document = {"train": "images/train", "val": "images/val", "nc": len(names), "names": dict(enumerate(names))}
        header = (
            "# Ultralytics YOLO dataset written by SDG Studio's YoloWriter; the dataset root is this file's folder.\n"
            f"# Train: yolo {'segment' if self.segmentation else 'detect'} train data={DATA_YAML}\n"
        )
        text = header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        atomic_write_text(self.data_yaml, text, durable=True)
        self._named = names

    def finish_files(self) -> list[Path]:
        if not self._started:
            self._start()
        self._named = None  # always write it at the end: the run's final class list
        self._write_data_yaml()
        return [self.data_yaml]

    # -- merging shards (docs/scale_out.md) ------------------------------------------------------------
    def merged_file(self, shard: RecordedShard, relpath: str, remap: ClassRemap) -> bytes | None:
        """A label file with the shard's class indices made the merged ones (the rank of the merged id)."""
        if not relpath.startswith("labels/") or is_identity(remap):
            return None
        merged_rank = {c.id: rank for rank, c in enumerate(sorted(self.classes.classes, key=lambda c: c.id))}
        ranks = {rank: merged_rank[remap[class_id]] for rank, class_id in enumerate(sorted(shard.classes))}
        lines = []
        for line in shard_file(shard, relpath).read_text(encoding="ascii").splitlines():
            index, _, rest = line.partition(" ")
            lines.append(f"{ranks[int(index)]} {rest}")
        return "".join(f"{line}\n" for line in lines).encode("ascii")

    def merge_end_files(
        self, shards: Sequence[RecordedShard], remaps: Sequence[ClassRemap], place: FilePlacer
    ) -> list[Path]:
        """``data.yaml`` naming the merged classes."""
        self._started = True
        return self.finish_files()
