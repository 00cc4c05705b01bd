"""A writer compatible with Replicator's ``KittiWriter`` (recorder_writers.md section 3.4).

Per render product a folder named after the camera prim (``<rp>/<camera>`` with several render
products); per frame ``i`` (not zero-padded): ``rgb/i.png``, ``object_detection/i.txt`` (KITTI
label lines: class, truncated, occluded, alpha, 2D box, then zeros for the 3D fields),
``semantic/i.png`` (uint8 class index), ``semantic_segmentation/i.png`` (class colors),
``instance_segmentation/i.png`` (uint16 ``class_index * 256 + instance number``),
``instance_rgb/i.png`` (with ``colorize_instance_segmentation``) and ``depth/i.png`` (uint16
metres x 256, no hit = 0). ``use_kitti_dir_names`` uses ``image_02``, ``label_02``,
``semantic_rgb`` and ``instance``. Class indices: ``mapping_dict`` / ``mapping_path`` order (labels
not listed are unlabelled, as in Replicator); else the class table's ids; else the Cityscapes
table with the scene's other labels appended (Replicator would leave those unlabelled).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from omni.sdg_studio.core.atomic import atomic_write_text
from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.colors import BACKGROUND, RGBA, UNLABELLED, lookup, paint_ids
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
from omni.sdg_studio.core.writers.colorize import instance_palette, label_text
from omni.sdg_studio.core.writers.encode import image_bytes
from omni.sdg_studio.core.writers.file_writer import FileWriter, FrameDataError, resolve_semantic_types
from omni.sdg_studio.core.writers.params import WriterParamError
from omni.sdg_studio.core.writers.sharding import (
    ClassRemap,
    FilePlacer,
    RecordedShard,
    is_identity,
    shard_file,
)

_EPS = 1e-5
#: The labels the mapping was extended with, in order (bookkeeping, so a resumed run numbers them alike).
ADDED_LABELS_FILE = ".sdg_kitti_added_labels.json"
_NO_COLOR: RGBA = (0, 0, 0, 0)

#: Default mapping: the Cityscapes label colors in Cityscapes id order, sky renamed "background".
KITTI_LABELS: dict[str, RGBA] = {
    "unlabelled": (0, 0, 0, 0),
    "ego vehicle": (0, 0, 0, 0),
    "rectification border": (0, 0, 0, 0),
    "out of roi": (0, 0, 0, 0),
    "static": (0, 0, 0, 0),
    "dynamic": (111, 74, 0, 255),
    "ground": (81, 0, 81, 255),
    "road": (128, 64, 128, 255),
    "sidewalk": (244, 35, 232, 255),
    "parking": (250, 170, 160, 255),
    "rail track": (230, 150, 140, 255),
    "building": (70, 70, 70, 255),
    "wall": (102, 102, 156, 255),
    "fence": (190, 153, 153, 255),
    "guard rail": (180, 165, 180, 255),
    "bridge": (150, 100, 100, 255),
    "tunnel": (150, 120, 90, 255),
    "pole": (153, 153, 153, 255),
    "polegroup": (153, 153, 153, 255),
    "traffic light": (250, 170, 30, 255),
    "traffic sign": (220, 220, 0, 255),
    "vegetation": (107, 142, 35, 255),
    "terrain": (152, 251, 152, 255),
    "background": (70, 130, 180, 255),
    "person": (220, 20, 60, 255),
    "rider": (255, 0, 0, 255),
    "car": (0, 0, 142, 255),
    "truck": (0, 0, 70, 255),
    "bus": (0, 60, 100, 255),
    "caravan": (0, 0, 90, 255),
    "trailer": (0, 0, 110, 255),
    "train": (0, 80, 100, 255),
    "motorcycle": (0, 0, 230, 255),
    "bicycle": (119, 11, 32, 255),
    "license plate": (0, 0, 142, 255),
}


@dataclass(frozen=True)
class KittiClass:
    """One mapped class: its label, index in the semantic / instance images, and color."""

    label: str
    index: int
    color: RGBA


class KittiMapping:
    """Label -> (index, color); unmapped labels are unlabelled (index 0) unless ``extend`` adds them."""

    def __init__(self, classes: Sequence[KittiClass], extend: Callable[[str, int], KittiClass] | None = None) -> None:
        self.classes = list(classes)
        self.extend = extend
        #: Labels :attr:`extend` added, in the order they were first met.
        self.added: list[str] = []
        self._by_label = {c.label: c for c in self.classes}
        lowered = {c.label.lower(): c for c in self.classes}
        self.unlabelled = lowered.get("unlabelled") or KittiClass("unlabelled", 0, _NO_COLOR)
        self._reserved = {
            BACKGROUND: lowered.get("background") or self.unlabelled,
            UNLABELLED: self.unlabelled,
        }

    def lookup(self, label: str) -> KittiClass | None:
        """The mapped class of ``label`` (``"car"`` or ``"class:car"``), ``None`` if unmapped."""
        if label in self._reserved:
            return self._reserved[label]
        found = self._by_label.get(label) or self._by_label.get(label.partition(":")[2])
        if found is None and self.extend is not None and label:
            found = self.extend(label, max(c.index for c in self.classes) + 1 if self.classes else 1)
            if not 0 < found.index <= 255:
                raise FrameDataError(f"KittiWriter: label {label!r} gets index {found.index}; KITTI images hold 1-255")
            self.classes.append(found)
            self._by_label[label] = found
            self.added.append(label)
        return found

    @classmethod
    def from_dict(cls, writer: str, param: str, mapping: Mapping[str, Any]) -> KittiMapping:
        """Replicator's ``mapping_dict``: values are RGBA 4-tuples or int ids; index = position.

        Without an ``unlabelled`` entry, index 0 is kept for unlabelled pixels and the listed
        classes start at 1 (Replicator would give the first class index 0 as well).
        """
        classes = []
        first = 0 if any(label.lower() == "unlabelled" for label in mapping) else 1
        for index, (label, value) in enumerate(mapping.items(), start=first):
            if isinstance(value, int) and not isinstance(value, bool):
                color: RGBA = _NO_COLOR
            elif (
                isinstance(value, (list, tuple))
                and len(value) == 4
                and all(isinstance(v, int) and 0 <= v <= 255 for v in value)
            ):
                color = (int(value[0]), int(value[1]), int(value[2]), int(value[3]))
            else:
                raise WriterParamError(
                    writer, param, f"value of {label!r} must be an RGBA list of 4 ints (0-255) or an int id"
                )
            plain = label.partition(":")[2] if ":" in label else label
            classes.append(KittiClass(plain, index, color))
        if len(classes) + first > 256:
            raise WriterParamError(writer, param, f"{len(classes)} classes do not fit the 8-bit semantic image")
        return cls(classes)

    @classmethod
    def from_table(cls, writer: str, table: ClassTable) -> KittiMapping:
        """The rules file's classes: index = class id (1-255), 0 = unlabelled; other labels join the table."""
        classes = [KittiClass("unlabelled", 0, _NO_COLOR)]
        for label_class in table.classes:
            if not 1 <= label_class.id <= 255:
                raise WriterParamError(
                    writer, None, f"class {label_class.name!r} has id {label_class.id}; KITTI images need 1-255"
                )
            classes.append(KittiClass(label_class.name, label_class.id, label_class.color))

        def extend(label: str, _next_index: int) -> KittiClass:
            added = table.get(label)
            return KittiClass(label, added.id, added.color)

        return cls(classes, extend)


def load_mapping_file(writer: str, path: str) -> Mapping[str, Any]:
    """Read a ``mapping_path`` JSON file, naming the file in errors."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise WriterParamError(writer, "mapping_path", f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise WriterParamError(writer, "mapping_path", f"{path}:{exc.lineno}:{exc.colno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise WriterParamError(writer, "mapping_path", f"{path} must hold a JSON object label -> color")
    return data


def depth_png(distance: np.ndarray) -> np.ndarray:
    """KITTI depth: uint16 metres x 256, 0 where nothing was hit (clipped at 255.99 m)."""
    scaled = np.nan_to_num(distance.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0) * 256.0
    return np.clip(scaled, 0, np.iinfo(np.uint16).max).astype(np.uint16)


class KittiWriter(FileWriter):
    """Replicator's KittiWriter: KITTI detection labels plus segmentation and depth images.

    Args:
        s3_bucket: S3 output is not available in the embedded writers; must stay unset.
        s3_region: Accepted for compatibility with Replicator configs (unused).
        s3_endpoint: Accepted for compatibility with Replicator configs (unused).
        semantic_types: Semantic types whose labels are used (default ``["class"]``).
        omit_semantic_type: Write ``car`` instead of ``class:car`` as the label of a box.
        bbox_height_threshold: Boxes lower than this many pixels are not written.
        partly_occluded_threshold: Tight/loose area ratio from which a box counts as partly occluded (1).
        fully_visible_threshold: Tight/loose area ratio from which a box counts as fully visible (0).
        renderproduct_idxs: Accepted for compatibility with Replicator configs (every render product is written).
        mapping_path: JSON file mapping labels to RGBA colors or ids (excludes mapping_dict).
        mapping_dict: Mapping of labels to RGBA colors or ids; its order gives the class indices.
        colorize_instance_segmentation: Also write colorized instances to ``instance_rgb``.
        semantic_filter_predicate: Semantic types as a predicate, e.g. ``class:*`` (excludes semantic_types).
        use_kitti_dir_names: Use KITTI folder names (image_02, label_02, semantic_rgb, instance).
    """

    name = "KittiWriter"
    version = "0.0.1"
    compat_params = frozenset({"s3_bucket", "s3_region", "s3_endpoint", "renderproduct_idxs"})

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None = None,
        s3_bucket: str | None = None,
        s3_region: str | None = None,
        s3_endpoint: str | None = None,
        semantic_types: list[str] | None = None,
        omit_semantic_type: bool = False,
        bbox_height_threshold: int = 25,
        partly_occluded_threshold: float = 0.5,
        fully_visible_threshold: float = 0.95,
        renderproduct_idxs: list[str] | None = None,
        mapping_path: str | None = None,
        mapping_dict: dict[str, Any] | None = None,
        colorize_instance_segmentation: bool = False,
        semantic_filter_predicate: str | None = None,
        use_kitti_dir_names: bool = False,
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
            s3_bucket=s3_bucket,
        )
        if mapping_path and mapping_dict:
            raise WriterParamError(self.name, "mapping_dict", "cannot be combined with mapping_path; choose one")
        if bbox_height_threshold < 0:
            raise WriterParamError(self.name, "bbox_height_threshold", "must be >= 0")
        if not 0 <= partly_occluded_threshold <= fully_visible_threshold <= 1:
            raise WriterParamError(
                self.name,
                "partly_occluded_threshold",
                "must satisfy 0 <= partly_occluded_threshold <= fully_visible_threshold <= 1",
            )
        self.semantic_types = resolve_semantic_types(self.name, semantic_types, semantic_filter_predicate)
        #: Class index of a label the mapping adds = this + its class-table id (0: the id is the index).
        self._added_index_offset = 0
        self.mapping = self._choose_mapping(mapping_path, mapping_dict, given_classes=classes is not None)
        self.omit_semantic_type = omit_semantic_type
        self.bbox_height_threshold = bbox_height_threshold
        self.partly_occluded_threshold = partly_occluded_threshold
        self.fully_visible_threshold = fully_visible_threshold
        self.colorize_instance_segmentation = colorize_instance_segmentation
        kitti = use_kitti_dir_names
        self.dirs = {
            "rgb": "image_02" if kitti else "rgb",
            "labels": "label_02" if kitti else "object_detection",
            "semantic_rgb": "semantic_rgb" if kitti else "semantic_segmentation",
            "instance": "instance" if kitti else "instance_segmentation",
        }
        self._saved_added: int | None = None  # labels of mapping.added on disk (None: not read back yet)
        self._requests = tuple(
            AnnotatorRequest(name, semantic_types=self.semantic_types)
            for name in (
                "rgb",
                "bounding_box_2d_tight",
                "bounding_box_2d_loose",
                "semantic_segmentation",
                "instance_segmentation",
                "distance_to_camera",
            )
        )

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        return self._requests

    def _choose_mapping(
        self, mapping_path: str | None, mapping_dict: Mapping[str, Any] | None, given_classes: bool
    ) -> KittiMapping:
        """The file's or the dict's mapping, else the class table's, else Cityscapes' indices with other
        labels appended (Replicator would make them unlabelled)."""
        if mapping_path:
            return KittiMapping.from_dict(self.name, "mapping_path", load_mapping_file(self.name, mapping_path))
        if mapping_dict:
            return KittiMapping.from_dict(self.name, "mapping_dict", mapping_dict)
        if given_classes and self.classes.classes:
            return KittiMapping.from_table(self.name, self.classes)
        mapping = KittiMapping.from_dict(self.name, "mapping_dict", KITTI_LABELS)
        mapping.extend = lambda label, index: KittiClass(label, index, self.classes.color(label))
        self._added_index_offset = max(c.index for c in mapping.classes)  # labels join the empty table in order
        return mapping

    def sub_dir(self, batch: FrameBatch, rp_name: str) -> str:
        """``<camera>`` for one render product, ``<rp>/<camera>`` for several."""
        product = batch.render_products.get(rp_name)
        camera = (product.camera if product else rp_name).rstrip("/").rsplit("/", 1)[-1] or rp_name
        return f"{rp_name}/{camera}" if len(batch.products) > 1 else camera

    def write_frame(self, batch: FrameBatch) -> None:
        if self._saved_added is None:
            self._take_back_added_labels()
        for rp_name, frame in batch.products.items():
            folder, i = self.sub_dir(batch, rp_name), batch.index
            rgb = frame["rgb"]
            self.schedule_file(f"{folder}/{self.dirs['rgb']}/{i}.png", lambda rgb=rgb: image_bytes(rgb))
            lines = self.label_lines(frame, width=rgb.shape[1], height=rgb.shape[0])
            text = "".join(f"{line}\n" for line in lines).encode("utf-8")
            self.schedule_file(f"{folder}/{self.dirs['labels']}/{i}.txt", lambda text=text: text)
            self._write_segmentation(frame, folder, i)
            depth = frame["distance_to_camera"]
            self.schedule_file(f"{folder}/depth/{i}.png", lambda depth=depth: image_bytes(depth_png(depth)))
        self._save_added_labels()

    def _take_back_added_labels(self) -> None:
        """On resume, extend the mapping with the earlier run's added labels in their order (indices match)."""
        self._saved_added = 0
        path = self.output_path(ADDED_LABELS_FILE)
        if not self.resume or not path.is_file():
            return
        try:
            labels = json.loads(path.read_text(encoding="utf-8"))
            for label in labels:
                self.mapping.lookup(str(label))
        except (OSError, ValueError, TypeError) as exc:
            raise FrameDataError(f"{path}: cannot resume from it ({exc})") from exc
        self._saved_added = len(self.mapping.added)

    def _save_added_labels(self) -> None:
        """Keep the added labels on disk before the frame that added them can complete."""
        if len(self.mapping.added) != self._saved_added:
            added = json.dumps(self.mapping.added, ensure_ascii=False)
            atomic_write_text(self.output_path(ADDED_LABELS_FILE), added, durable=True)
            self._saved_added = len(self.mapping.added)

    def box_label(self, labels: Mapping[str, str] | None) -> str:
        """The label column: ``car`` with omit_semantic_type, else ``class:car`` (one token, no spaces)."""
        labels = labels or {}
        if self.omit_semantic_type:
            return label_text(labels, self.semantic_types).replace(" ", "_") if labels else "unlabelled"
        parts = [f"{t}:{labels[t]}" for t in self.semantic_types if t in labels] or ["class:unlabelled"]
        return ",".join(parts).replace(" ", "_")

    def occluded(self, tight: np.void, loose: np.void | None) -> int:
        """KITTI occlusion state estimated from the tight / loose box area ratio: 0, 1 or 2."""
        if loose is None:
            return 0
        area_tight = float(tight["x_max"] - tight["x_min"]) * float(tight["y_max"] - tight["y_min"])
        area_loose = float(loose["x_max"] - loose["x_min"]) * float(loose["y_max"] - loose["y_min"])
        ratio = area_tight / (area_loose + _EPS)
        if ratio >= self.fully_visible_threshold:
            return 0
        return 1 if ratio >= self.partly_occluded_threshold else 2

    def label_lines(self, frame: Mapping[str, Any], *, width: int, height: int) -> list[str]:
        """One KITTI line per tight box that is tall enough and inside the image."""
        tight, loose = frame["bounding_box_2d_tight"], frame["bounding_box_2d_loose"]
        loose_by_id = {int(i): row for i, row in zip(loose["info"]["bboxIds"], loose["data"], strict=True)}
        id_to_labels = tight["info"]["idToLabels"]
        lines = []
        for box_id, row in zip(tight["info"]["bboxIds"], tight["data"], strict=True):
            x0, y0, x1, y1 = (int(row[k]) for k in ("x_min", "y_min", "x_max", "y_max"))
            if y1 - y0 < self.bbox_height_threshold:
                continue
            if not (0 <= x0 <= width and 0 <= x1 <= width and 0 <= y0 <= height and 0 <= y1 <= height):
                continue
            semantic_id = int(row["semanticId"])
            labels = id_to_labels.get(semantic_id, id_to_labels.get(str(semantic_id)))
            occluded = self.occluded(row, loose_by_id.get(int(box_id)))
            zeros = " ".join(["0.00"] * 7)
            lines.append(f"{self.box_label(labels)} 0.00 {occluded} 0.00 {x0} {y0} {x1} {y1} {zeros}")
        return lines

    def _write_segmentation(self, frame: Mapping[str, Any], folder: str, i: int) -> None:
        semantic = frame["semantic_segmentation"]
        for name in ("semantic_segmentation", "instance_segmentation"):
            if frame[name]["data"].ndim != 2:
                raise FrameDataError(f"{self.name}: {name} must arrive as ids, not colorized")
        semantic_ids, id_to_labels = semantic["data"], semantic["info"]["idToLabels"]
        index_lut: dict[int, int] = {}
        color_lut: dict[int, RGBA] = {}
        for key, labels in id_to_labels.items():
            mapped = self.mapping.lookup(label_text(labels, self.semantic_types)) or self.mapping.unlabelled
            index_lut[int(key)], color_lut[int(key)] = mapped.index, mapped.color
        self.schedule_file(f"{folder}/semantic/{i}.png", lambda: image_bytes(lookup(semantic_ids, index_lut)))
        self.schedule_file(
            f"{folder}/{self.dirs['semantic_rgb']}/{i}.png", lambda: image_bytes(paint_ids(semantic_ids, color_lut))
        )

        instance = frame["instance_segmentation"]
        instance_ids = instance["data"]
        semantics, paths = instance["info"]["idToSemantics"], instance["info"]["idToLabels"]
        numbers: dict[int, int] = {}
        per_class: dict[int, int] = {}
        for key in sorted(semantics, key=int):
            mapped = self.mapping.lookup(label_text(semantics[key], self.semantic_types))
            if mapped is None or mapped is self.mapping.unlabelled or str(paths.get(key)) in (BACKGROUND, UNLABELLED):
                continue
            per_class[mapped.index] = per_class.get(mapped.index, 0) + 1
            numbers[int(key)] = mapped.index * 256 + per_class[mapped.index]

        self.schedule_file(
            f"{folder}/{self.dirs['instance']}/{i}.png",
            lambda: image_bytes(lookup(instance_ids, numbers, np.uint16)),
        )
        if self.colorize_instance_segmentation:
            palette = instance_palette(paths)
            self.schedule_file(f"{folder}/instance_rgb/{i}.png", lambda: image_bytes(paint_ids(instance_ids, palette)))

    # -- merging shards (docs/scale_out.md) ------------------------------------------------------------
    def merge_end_files(
        self, shards: Sequence[RecordedShard], remaps: Sequence[ClassRemap], place: FilePlacer
    ) -> list[Path]:
        """Each shard's end files; and the labels the mapping added, in the order one run adds them (shard by
        shard, each shard's own order, as :func:`adopt_shard_classes` orders classes), for ``--resume``."""
        added: dict[str, None] = {}
        for shard in shards:
            path = shard.folder / ADDED_LABELS_FILE
            if path.is_file():
                added.update(dict.fromkeys(json.loads(path.read_text(encoding="utf-8"))))
        if added:
            atomic_write_text(self.output_path(ADDED_LABELS_FILE), json.dumps(list(added), ensure_ascii=False))
        return super().merge_end_files(shards, remaps, place)

    def merged_file(self, shard: RecordedShard, relpath: str, remap: ClassRemap) -> bytes | None:
        """A class-index image (``semantic``, instance ids) with the shard's indices of labels the mapping added
        made the merged ones; other files are right as they are."""
        folder = Path(relpath).parent.name
        if folder not in ("semantic", self.dirs["instance"]) or self.mapping.extend is None or is_identity(remap):
            return None
        offset = self._added_index_offset
        lut = np.arange(256, dtype=np.uint16)
        for before, after in remap.items():
            lut[offset + before] = offset + after
        with Image.open(io.BytesIO(shard_file(shard, relpath).read_bytes())) as image:
            pixels = np.asarray(image)
        if folder == "semantic":
            return image_bytes(lut[pixels].astype(np.uint8))
        values = pixels.astype(np.uint16)
        return image_bytes((lut[values >> 8] << 8) | (values & 0xFF))
