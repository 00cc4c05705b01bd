"""A COCO writer: Replicator's ``CocoWriter`` layout plus instance masks as RLE.

Per render product ``<rp>/rgb_<cam>_<dataset_id>.<frame>.png`` and a panoptic PNG (each labelled
instance painted with its category color); at the end ``coco_annotations_<dataset_id>.json`` in
``output_dir`` with one annotation per visible labelled instance: ``bbox`` [x, y, w, h] and
``area`` of its visible pixels and ``segmentation`` as compressed RLE, so ``pycocotools`` loads and
evaluates the file. Categories come from the :class:`ClassTable` (the rules file's ``classes``:
same ids, same colors) or from Replicator's ``coco_categories``; labels not listed get the next
id. Each frame also writes a small journal entry (``.sdg_coco_<dataset_id>/``) so an interrupted
run resumes without losing annotations; :meth:`finish` folds the journal into the JSON.
"""

from __future__ import annotations

import json
import os
import random
import string
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from omni.sdg_studio.core.atomic import atomic_write_bytes
from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.colors import FIRST_LABELED_ID, id_index, paint_ids
from omni.sdg_studio.core.path_names import name_problem
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
from omni.sdg_studio.core.writers.colorize import label_text
from omni.sdg_studio.core.writers.encode import ImageFormat, file_time, image_bytes, json_bytes
from omni.sdg_studio.core.writers.file_writer import (
    FileWriter,
    FrameDataError,
    checked_frame_padding,
    checked_image_format,
)
from omni.sdg_studio.core.writers.params import WriterParamError
from omni.sdg_studio.core.writers.rle import encode_box_mask
from omni.sdg_studio.core.writers.sharding import ClassRemap, FilePlacer, RecordedShard, ShardMergeError, shard_file

DEFAULT_SEMANTIC_TYPES = ("class", "coco", "stuff", "thing")


def camera_token(camera: str) -> str:
    """Camera path as Replicator's CocoWriter puts it in file names: ``/World/Cam_1`` -> ``World-Cam-1``."""
    return camera.lstrip("/").replace("Replicator/", "").replace("/", "-").replace("_", "-")


@dataclass(frozen=True)
class InstanceStats:
    """What COCO records of one visible instance: box [x, y, width, height] (pixel edges, as pycocotools
    computes it), pixel area and compressed-RLE segmentation."""

    key: int
    bbox: list[float]
    area: int
    segmentation: dict[str, object]


def instance_statistics(ids: np.ndarray, keys: Sequence[int]) -> list[InstanceStats]:
    """The statistics of each of ``keys`` (ascending) visible in an instance id image.

    One pass over the image finds every box and area; each mask is then encoded from its box's crop,
    instead of comparing the whole image once per instance."""
    areas, boxes = _areas_and_boxes(ids, keys)
    found = []
    for key, area, (x0, y0, x1, y1) in zip(keys, areas.tolist(), boxes.tolist(), strict=True):
        if area:
            crop = ids[y0 : y1 + 1, x0 : x1 + 1] == key
            bbox = [float(x0), float(y0), float(x1 - x0 + 1), float(y1 - y0 + 1)]
            found.append(InstanceStats(key, bbox, area, encode_box_mask(crop, (x0, y0), ids.shape)))
    return found


def _areas_and_boxes(ids: np.ndarray, keys: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel count (K,) and inclusive pixel box (K, 4: x0, y0, x1, y1) of each of ``keys`` in an id image:
    each pixel's position in ``keys``, counted overall, per row and per column (absent keys: area 0)."""
    height, width = ids.shape
    index = id_index(ids, keys)
    slots = len(keys) + 1  # the last slot: ids that are not keys
    areas = np.bincount(index.reshape(-1), minlength=slots)[:-1]
    in_rows = np.bincount((index + np.arange(height)[:, None] * slots).reshape(-1), minlength=height * slots)
    in_cols = np.bincount((index + np.arange(width)[None, :] * slots).reshape(-1), minlength=width * slots)
    rows = in_rows.reshape(height, slots)[:, :-1] > 0
    cols = in_cols.reshape(width, slots)[:, :-1] > 0
    boxes = np.stack(
        [
            cols.argmax(axis=0),
            rows.argmax(axis=0),
            width - 1 - cols[::-1].argmax(axis=0),
            height - 1 - rows[::-1].argmax(axis=0),
        ],
        axis=1,
    )
    return areas, boxes


class CocoWriter(FileWriter):
    """COCO detection and instance segmentation (RLE masks) with categories from the class table.

    Args:
        semantic_types: Semantic types whose labels name categories (default class, coco, stuff, thing).
        coco_categories: Replicator's categories: ``{label: {name, id, supercategory, color: [r, g, b], isthing}}``.
        s3_bucket: S3 output is not available in the embedded writers; must stay unset.
        s3_region: Accepted for compatibility with Replicator configs (unused).
        s3_endpoint: Accepted for compatibility with Replicator configs (unused).
        dataset_id: Name part of the output files (default: 8 letters drawn from the seed).
        frame_padding: Digits of the zero-padded frame number in file names.
        image_output_format: File format of rgb images.
        coco_license_info: One license entry ``{id, name, url}`` for the ``licenses`` list.
    """

    name = "CocoWriter"
    version = "0.0.1"
    compat_params = frozenset({"s3_bucket", "s3_region", "s3_endpoint"})

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None = None,
        semantic_types: list[str] | None = None,
        coco_categories: dict[str, Any] | None = None,
        s3_bucket: str | None = None,
        s3_region: str | None = None,
        s3_endpoint: str | None = None,
        dataset_id: str | None = None,
        frame_padding: int = 4,
        image_output_format: ImageFormat = "png",
        coco_license_info: dict[str, Any] | None = None,
        *,
        seed: int = 0,
        classes: ClassTable | None = None,
        resume: bool = False,
        workers: int | None = None,
        max_frames_in_flight: int = 4,
    ) -> None:
        if coco_categories:
            classes, self.category_extras = self._table_from_categories(coco_categories, classes)
        else:
            self.category_extras = {}
        super().__init__(
            output_dir,
            seed=seed,
            classes=classes,
            resume=resume,
            workers=workers,
            max_frames_in_flight=max_frames_in_flight,
            s3_bucket=s3_bucket,
        )
        if semantic_types is not None and not semantic_types:
            raise WriterParamError(self.name, "semantic_types", "must name at least one semantic type")
        problem = name_problem(dataset_id) if dataset_id is not None else None
        if problem is not None:
            raise WriterParamError(self.name, "dataset_id", f"cannot be used in a file name: {problem}")
        self.semantic_types = tuple(semantic_types or DEFAULT_SEMANTIC_TYPES)
        self.dataset_id = dataset_id or "".join(random.Random(seed).choices(string.ascii_lowercase, k=8))
        self.frame_padding = checked_frame_padding(self.name, frame_padding)
        self.image_output_format = checked_image_format(self.name, image_output_format)
        self.license_info = coco_license_info
        self.annotations_path = self.output_path(f"coco_annotations_{self.dataset_id}.json")
        self.journal_dir = self.output_path(f".sdg_coco_{self.dataset_id}")
        self._lock = threading.Lock()
        #: (frame, render product) -> {"image": ..., "annotations": [...]}; category by name until dumped
        self._entries: dict[tuple[int, str], dict[str, Any]] = {}
        self._loaded = False
        self._requests = tuple(
            AnnotatorRequest(name, semantic_types=self.semantic_types) for name in ("rgb", "instance_segmentation")
        )

    def _table_from_categories(
        self, categories: Mapping[str, Any], classes: ClassTable | None
    ) -> tuple[ClassTable, dict[str, dict[str, Any]]]:
        table = ClassTable(list(classes.classes) if classes is not None else [])
        extras: dict[str, dict[str, Any]] = {}
        for label, entry in categories.items():
            if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), int):
                raise WriterParamError(self.name, "coco_categories", f"entry {label!r} needs an integer 'id'")
            color = entry.get("color", [])
            if not (isinstance(color, (list, tuple)) and len(color) in (3, 4)):
                raise WriterParamError(self.name, "coco_categories", f"entry {label!r} needs 'color': [r, g, b]")
            if label in table:
                raise WriterParamError(self.name, "coco_categories", f"{label!r} is also a class of the rules file")
            try:
                table = ClassTable([*table.classes, LabelClass(label, entry["id"], (*color[:3], 255))])
            except ValueError as exc:
                raise WriterParamError(self.name, "coco_categories", str(exc)) from exc
            extras[label] = {
                "name": entry.get("name", label),
                "supercategory": entry.get("supercategory", ""),
                "isthing": entry.get("isthing", 1),
            }
        return table, extras

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        return self._requests

    # -- per frame ----------------------------------------------------------------------------------
    def category_of(self, labels: Mapping[str, str]) -> str:
        """Category name of an instance: its label for the first semantic type it has; of comma-joined
        labels, the first one listed in the class table (else the first one)."""
        parts = [p.strip() for p in label_text(labels, self.semantic_types).split(",") if p.strip()]
        listed = [p for p in parts if p in self.classes]
        return (listed or parts or ["unlabelled"])[0]

    def write_frame(self, batch: FrameBatch) -> None:
        if not self._loaded:
            self._load_previous()
        stamp = f"{batch.index:0{self.frame_padding}d}"
        for position, (rp_name, frame) in enumerate(batch.products.items()):
            product = batch.render_products.get(rp_name)
            token = camera_token(product.camera if product else rp_name)
            rgb, instance = frame["rgb"], frame["instance_segmentation"]
            ids = instance["data"]
            if ids.ndim != 2:
                raise FrameDataError(f"{self.name}: instance_segmentation must arrive as ids, not colorized")
            categories: dict[int, str] = {}
            for key, labels in instance["info"]["idToSemantics"].items():
                if int(key) >= FIRST_LABELED_ID and isinstance(labels, Mapping):
                    categories[int(key)] = self.category_of(labels)
            palette = {key: self.classes.color(name) for key, name in categories.items()}
            rgb_name = f"{rp_name}/rgb_{token}_{self.dataset_id}.{stamp}.{self.image_output_format}"
            fmt = self.image_output_format
            self.schedule_file(rgb_name, lambda rgb=rgb, fmt=fmt: image_bytes(rgb, fmt))
            self.schedule_file(
                f"{rp_name}/panoptic_{token}_{self.dataset_id}.{stamp}.png",
                lambda ids=ids, palette=palette: image_bytes(paint_ids(ids, palette)[..., :3]),
            )
            image = {
                "id": batch.index * len(batch.products) + position + 1,
                "file_name": rgb_name,
                "height": int(rgb.shape[0]),
                "width": int(rgb.shape[1]),
                "license": 0,
                "date_captured": file_time().isoformat(timespec="seconds"),
                "flickr_url": "",
                "frame": batch.index,
                "render_product": rp_name,
            }
            paths = instance["info"]["idToLabels"]
            self.schedule_job(
                lambda image=image, ids=ids, categories=categories, paths=paths: self._annotate(
                    image, ids, categories, paths
                )
            )

    def _annotate(
        self, image: dict[str, Any], ids: np.ndarray, categories: Mapping[int, str], paths: Mapping[Any, str]
    ) -> None:
        """Worker: box, area and RLE (from the box's crop) per visible instance; journal the frame, then keep it.

        The journal entry is internal (removed by :meth:`finish`), so it is not reported as a frame file.
        """
        annotations = [
            {
                "instance_id": found.key,
                "category": categories[found.key],
                "bbox": found.bbox,
                "area": found.area,
                "iscrowd": 0,
                "bbox_mode": 1,
                "segmentation": found.segmentation,
                "prim_path": str(paths.get(found.key, paths.get(str(found.key), ""))),
            }
            for found in instance_statistics(ids, sorted(categories))
        ]
        entry = {"image": image, "annotations": annotations}
        journal = self.output_path(f"{self.journal_dir.name}/{image['frame']}_{image['render_product']}.json")
        atomic_write_bytes(journal, json_bytes(entry))
        with self._lock:
            self._entries[(image["frame"], image["render_product"])] = entry

    # -- resume and end of run ------------------------------------------------------------------------
    def _load_previous(self) -> None:
        """On resume, take back the annotations of an earlier run: final JSON, then journal entries."""
        self._loaded = True
        if not self.resume:
            return
        if self.annotations_path.exists():
            try:
                data = json.loads(self.annotations_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise FrameDataError(f"{self.annotations_path}: cannot resume from it ({exc})") from exc
            names = {c["id"]: c["name"] for c in data.get("categories", [])}
            for category_id in sorted(names):  # keep the earlier run's id order
                self.classes.get(names[category_id])
            self._take_entries(data, names)
        if self.journal_dir.is_dir():
            for path in sorted(self.journal_dir.glob("*.json")):
                try:
                    entry = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, json.JSONDecodeError):
                    continue  # never renamed into place complete: its frame was not finished
                self._entries[(entry["image"]["frame"], entry["image"]["render_product"])] = entry
        for key in sorted(self._entries):  # labels in order of first appearance, as the earlier run met them
            for annotation in self._entries[key]["annotations"]:
                self.classes.get(annotation["category"])

    def _take_entries(self, data: Mapping[str, Any], names: Mapping[int, str]) -> None:
        """Keep the images and annotations of an annotations document, categories named by ``names`` (id -> label)."""
        by_image: dict[int, dict[str, Any]] = {}
        for image in data.get("images", []):
            if "frame" in image and "render_product" in image:
                by_image[image["id"]] = {"image": image, "annotations": []}
        for ann in data.get("annotations", []):
            entry = by_image.get(ann.get("image_id"))
            if entry is not None:
                kept = {k: v for k, v in ann.items() if k not in ("id", "image_id", "category_id")}
                entry["annotations"].append({**kept, "category": names.get(ann.get("category_id"), "other")})
        for entry in by_image.values():
            self._entries[(entry["image"]["frame"], entry["image"]["render_product"])] = entry

    def merge_end_files(
        self, shards: Sequence[RecordedShard], remaps: Sequence[ClassRemap], place: FilePlacer
    ) -> list[Path]:
        """One annotations file from the shards' (images keep their ids; annotations are numbered anew, in frame
        order; categories take the merged ids, which :meth:`merge_shards` gave the class table)."""
        for shard in shards:
            path = shard_file(shard, self.annotations_path.name)
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ShardMergeError(f"{path}: cannot read it ({exc})") from exc
            self._take_entries(data, shard.classes)
        self._loaded = True
        return [atomic_write_bytes(self.annotations_path, json_bytes(self.coco_document()), durable=True)]

    def coco_document(self) -> dict[str, Any]:
        """The annotations file content from every frame written so far (ids numbered in frame order)."""
        with self._lock:
            entries = [self._entries[key] for key in sorted(self._entries)]
        images, annotations = [], []
        for entry in entries:
            images.append(entry["image"])
            for ann in entry["annotations"]:
                fields = {k: v for k, v in ann.items() if k != "category"}
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": entry["image"]["id"],
                        "category_id": self.classes.get(ann["category"]).id,
                        **fields,
                    }
                )
        now = file_time()
        categories = [
            {
                "id": c.id,
                "name": self.category_extras.get(c.name, {}).get("name", c.name),
                "supercategory": self.category_extras.get(c.name, {}).get("supercategory", ""),
                "color": list(c.color[:3]),
                "isthing": self.category_extras.get(c.name, {}).get("isthing", 1),
            }
            for c in sorted(self.classes.classes, key=lambda c: c.id)
        ]
        return {
            "info": {
                "description": "SDG Studio synthetic dataset",
                "url": "",
                "version": "1.0",
                "year": now.year,
                "date_created": now.isoformat(timespec="seconds"),
                "contributor": "SDG Studio",
            },
            "licenses": [self.license_info] if self.license_info else [],
            "images": images,
            "annotations": annotations,
            "categories": categories,
        }

    def finish_files(self) -> list[Path]:
        if not self._loaded:
            self._load_previous()
        path = atomic_write_bytes(self.annotations_path, json_bytes(self.coco_document()), durable=True)
        if self.journal_dir.is_dir():
            for journal in self.journal_dir.glob("*.json"):
                journal.unlink()
            if not any(self.journal_dir.iterdir()):
                self.journal_dir.rmdir()
        return [path]
