"""Read COCO output (Replicator's CocoWriter and ours) back into annotator frames.

``coco_annotations_<id>.json`` at the root lists images (``file_name`` relative to the root or to a
render-product folder), annotations (``bbox`` = [x, y, w, h], ``category_id``, optional
``segmentation`` as polygons or RLE) and categories (``name``, ``id``, optional ``color``).
Replicator writes empty segmentations; ours writes RLE masks, read back as semantic and instance segmentation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from omni.sdg_studio.core.annotators.formats import BBOX2D_DTYPE
from omni.sdg_studio.core.colors import BACKGROUND
from omni.sdg_studio.core.visualize.dataset import (
    BOOKKEEPING_FILES,
    Dataset,
    DatasetError,
    FrameLabels,
    read_guarded,
    read_image,
    read_json,
)
from omni.sdg_studio.core.visualize.tiles import ShownImage, Unreadable


def rle_counts(counts: str | Sequence[int]) -> list[int]:
    """Run lengths of a COCO RLE: the list as is, or decoded from pycocotools' compressed string."""
    if not isinstance(counts, str):
        return [int(c) for c in counts]
    runs: list[int] = []
    pos = 0
    while pos < len(counts):
        value, shift, more = 0, 0, True
        while more:
            char = ord(counts[pos]) - 48
            value |= (char & 0x1F) << (5 * shift)
            more = bool(char & 0x20)
            pos += 1
            shift += 1
            if not more and char & 0x10:
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def decode_rle(rle: Mapping[str, Any]) -> np.ndarray:
    """A (H, W) bool mask from a COCO RLE ``{"size": [h, w], "counts": ...}`` (column-major runs, 0s first)."""
    height, width = (int(v) for v in rle["size"])
    runs = np.asarray(rle_counts(rle["counts"]), np.int64)
    if runs.sum() != height * width or (runs < 0).any():
        raise ValueError(f"RLE runs cover {int(runs.sum())} pixels, the mask has {height * width}")
    values = np.arange(len(runs)) % 2 == 1
    flat = np.repeat(values, runs)
    return flat.reshape(width, height).T


def polygon_mask(polygons: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """A (H, W) bool mask filled from COCO polygons ([x0, y0, x1, y1, ...] each)."""
    image = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(image)
    for polygon in polygons:
        if len(polygon) >= 6:
            draw.polygon([(float(polygon[i]), float(polygon[i + 1])) for i in range(0, len(polygon) - 1, 2)], fill=1)
    return np.asarray(image, dtype=bool)


@dataclass(frozen=True)
class CocoImage:
    """One image entry with its resolved file and annotations."""

    id: int
    path: Path
    height: int
    width: int
    annotations: list[Mapping[str, Any]]
    panoptic: Path | None


def _frame_token(path: Path, image_id: int) -> str:
    # rgb_<cam>_<dataset_id>.<seq><frame:04d>.png -> "<seq><frame>"; else the image id.
    last = path.stem.rsplit(".", 1)[-1]
    return last if last.isdigit() and "." in path.stem else str(image_id)


@dataclass
class CocoDataset(Dataset):
    """A folder with ``coco_annotations_*.json`` and the images it lists."""

    categories: dict[int, Mapping[str, Any]] = field(default_factory=dict)
    index: dict[str, dict[str, CocoImage]] = field(default_factory=dict)

    @classmethod
    def detect(cls, root: Path) -> CocoDataset | None:
        files = sorted(root.glob("coco_annotations*.json")) or sorted(root.glob("*/coco_annotations*.json"))
        if not files:
            return None
        categories: dict[int, Mapping[str, Any]] = {}
        index: dict[str, dict[str, CocoImage]] = {}
        listed: set[Path] = set(files)
        for annotations_file in files:
            document = read_guarded(annotations_file, read_json)
            if isinstance(document, Unreadable):
                raise DatasetError(document.message)
            if not isinstance(document, Mapping) or not isinstance(document.get("images"), list):
                raise DatasetError(f"{annotations_file}: not a COCO annotations file (no 'images' list)")
            for category in document.get("categories") or []:
                categories[int(category["id"])] = category
            by_image: dict[int, list[Mapping[str, Any]]] = {}
            for annotation in document.get("annotations") or []:
                by_image.setdefault(int(annotation["image_id"]), []).append(annotation)
            for entry in document["images"]:
                path = _resolve(annotations_file.parent, str(entry["file_name"]))
                listed.add(path)
                panoptic = _panoptic_beside(path)
                if panoptic is not None:
                    listed.add(panoptic)
                camera = "/".join(path.parent.relative_to(root).parts) if path.is_relative_to(root) else ""
                image = CocoImage(
                    int(entry["id"]),
                    path,
                    int(entry.get("height", 0)),
                    int(entry.get("width", 0)),
                    by_image.get(int(entry["id"]), []),
                    panoptic,
                )
                index.setdefault(camera, {})[_frame_token(path, image.id)] = image
        unknown = [
            p
            for p in sorted(root.rglob("*"))
            if p.is_file() and p not in listed and p.name not in BOOKKEEPING_FILES and not p.name.startswith(".")
        ]
        ordered = {cam: dict(sorted(frames.items(), key=lambda kv: kv[1].id)) for cam, frames in sorted(index.items())}
        return cls(root=root, kind="COCO", unknown_files=unknown, categories=categories, index=ordered)

    def files(self, camera: str, frame: str) -> dict[str, list[Path]]:
        image = self.index.get(camera, {}).get(frame)
        if image is None:
            return {}
        found = {"rgb": [image.path], "bounding_box_2d_tight": []}
        if any(a.get("segmentation") for a in image.annotations):
            found["semantic_segmentation"] = []
            found["instance_segmentation"] = []
        if image.panoptic is not None:
            found["panoptic"] = [image.panoptic]
        return found

    def _name(self, category_id: int) -> str:
        return str(self.categories.get(category_id, {}).get("name", f"category {category_id}"))

    def load(self, camera: str, frame: str) -> dict[str, Any]:
        image = self.index.get(camera, {}).get(frame)
        if image is None:
            return {}
        loaded: dict[str, Any] = {"rgb": read_guarded(image.path, read_image)}
        rows, names = [], []
        for annotation in image.annotations:
            x, y, w, h = (float(v) for v in annotation["bbox"])
            rows.append((int(annotation["category_id"]), round(x), round(y), round(x + w) - 1, round(y + h) - 1, -1.0))
            names.append(self._name(int(annotation["category_id"])))
        id_to_labels = {str(cid): {"class": self._name(cid)} for cid, *_ in rows}
        loaded["bounding_box_2d_tight"] = {
            "data": np.array(rows, BBOX2D_DTYPE),
            "info": {"idToLabels": id_to_labels, "primPaths": [""] * len(rows), "bboxIds": list(range(len(rows)))},
        }
        if any(a.get("segmentation") for a in image.annotations):
            loaded["semantic_segmentation"], loaded["instance_segmentation"] = self._masks(image)
        if image.panoptic is not None:
            panoptic = read_guarded(image.panoptic, read_image)
            loaded["panoptic"] = (
                panoptic if isinstance(panoptic, Unreadable) else ShownImage(panoptic, image.panoptic.name)
            )
        return loaded

    def _masks(self, image: CocoImage) -> tuple[Any, Any]:
        """The annotations' masks painted as a semantic map (category ids) and an instance map (one id per
        annotation, ``idToLabels`` its ``prim_path`` when the writer kept one); smaller objects on top."""
        height, width = image.height, image.width
        ids = np.zeros((height, width), np.uint32)
        instances = np.zeros((height, width), np.uint32)
        labels: dict[str, Any] = {"0": {"class": BACKGROUND}}
        paths: dict[int, str] = {0: BACKGROUND}
        semantics: dict[int, Any] = {0: {"class": BACKGROUND}}
        ordered = sorted(enumerate(image.annotations), key=lambda item: -float(item[1].get("area", 0)))
        for position, annotation in ordered:
            segmentation = annotation.get("segmentation")
            try:
                if isinstance(segmentation, Mapping):
                    mask = decode_rle(segmentation)
                elif isinstance(segmentation, list) and segmentation:
                    mask = polygon_mask(segmentation, height, width)
                else:
                    continue
            except (ValueError, KeyError, TypeError) as exc:
                bad = Unreadable(f"annotation {annotation.get('id')} of {image.path.name}: bad segmentation ({exc})")
                return bad, bad
            if mask.shape != ids.shape:
                bad = Unreadable(f"annotation {annotation.get('id')}: mask {mask.shape} for a {height}x{width} image")
                return bad, bad
            category = int(annotation["category_id"])
            ids[mask] = category
            labels[str(category)] = {"class": self._name(category)}
            instance = position + 2  # 0 and 1 are Replicator's BACKGROUND and UNLABELLED
            instances[mask] = instance
            paths[instance] = str(annotation.get("prim_path") or f"annotation {annotation.get('id')}")
            semantics[instance] = {"class": self._name(category)}
        semantic = {"data": ids, "info": {"idToLabels": labels}}
        return semantic, {"data": instances, "info": {"idToLabels": paths, "idToSemantics": semantics}}

    def frame_labels(self, camera: str, frame: str) -> FrameLabels | None:
        image = self.index.get(camera, {}).get(frame)
        if image is None:
            return None
        return FrameLabels("annotations", [self._name(int(a["category_id"])) for a in image.annotations])


def _resolve(folder: Path, file_name: str) -> Path:
    direct = folder / file_name
    if direct.exists():
        return direct
    matches = sorted(folder.rglob(Path(file_name).name))
    return matches[0] if matches else direct


def _panoptic_beside(rgb: Path) -> Path | None:
    if not rgb.name.startswith("rgb_"):
        return None
    candidate = rgb.with_name("panoptic_" + rgb.name[len("rgb_") :])
    return candidate if candidate.exists() else None
