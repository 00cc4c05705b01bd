"""Read KittiWriter output back into annotator frames (``shared/research/recorder_writers.md`` 3.4).

A camera folder holds ``rgb/`` (``image_02/``), ``object_detection/`` (``label_02/``),
``semantic_segmentation/`` (``semantic_rgb/``), ``instance_segmentation/`` (``instance/``) and
``depth/`` with files named by the unpadded frame number. Label lines have 15 columns:
``type truncated occluded alpha x1 y1 x2 y2 h w l x y z rot_y``; only type and the 2D box are real.
Depth PNGs are uint16 metres x 256 with 0 for "nothing hit". Types written as ``class:car`` are shown as
``car`` so a class keeps the color it has in the other formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from omni.sdg_studio.core.annotators.formats import BBOX2D_DTYPE
from omni.sdg_studio.core.visualize.dataset import BOOKKEEPING_FILES, Dataset, FrameLabels, read_guarded, read_image
from omni.sdg_studio.core.visualize.tiles import ShownImage, Unreadable

#: Our annotator name -> the folder names KittiWriter uses (default, then ``use_kitti_dir_names``).
FOLDERS: dict[str, tuple[str, ...]] = {
    "rgb": ("rgb", "image_02"),
    "bounding_box_2d_tight": ("object_detection", "label_02"),
    "semantic_segmentation": ("semantic_segmentation", "semantic_rgb"),
    "instance_segmentation": ("instance_segmentation", "instance"),
    "distance_to_image_plane": ("depth",),
}
_LABEL_COLUMNS = 15


class KittiLabelError(ValueError):
    """A label line that does not have KITTI's columns; the message names file and line."""


def read_labels(path: Path) -> tuple[np.ndarray, list[str]]:
    """Boxes (BBOX2D_DTYPE rows) and their types from one KITTI label file."""
    rows, names = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) not in (_LABEL_COLUMNS, _LABEL_COLUMNS + 1):
            raise KittiLabelError(f"line {number}: {len(fields)} columns, KITTI labels have {_LABEL_COLUMNS}")
        try:
            x1, y1, x2, y2 = (float(v) for v in fields[4:8])
            occluded = float(fields[2])
        except ValueError as exc:
            raise KittiLabelError(f"line {number}: {exc}") from exc
        names.append(fields[0].rpartition(":")[2])  # "class:forklift" (omit_semantic_type off) -> "forklift"
        rows.append((0, round(x1), round(y1), round(x2), round(y2), {0: 0.0, 1: 0.5, 2: 0.9}.get(int(occluded), -1.0)))
    data = np.array(rows, dtype=BBOX2D_DTYPE)
    ids = {name: i for i, name in enumerate(dict.fromkeys(names))}
    if len(data):
        data["semanticId"] = [ids[n] for n in names]
    return data, names


def _boxes_value(path: Path) -> Any:
    data, names = read_labels(path)
    id_to_labels = {str(i): {"class": name} for i, name in enumerate(dict.fromkeys(names))}
    return {"data": data, "info": {"idToLabels": id_to_labels, "primPaths": [""] * len(data), "bboxIds": []}}


def _depth_value(path: Path) -> np.ndarray:
    raw = read_image(path)
    if raw.ndim != 2:
        raise ValueError(f"depth image has shape {raw.shape}, expected one channel")
    depth = raw.astype(np.float32) / 256.0
    depth[raw == 0] = np.inf
    return depth


def _instance_value(path: Path) -> Any:
    ids = read_image(path)
    if ids.ndim != 2:
        return ShownImage(ids, note=f"{path.name} (colors as written)")
    found = np.unique(ids)
    labels = {str(int(v)): ("BACKGROUND" if v == 0 else f"class {int(v) >> 8} #{int(v) & 255}") for v in found}
    return {"data": ids.astype(np.uint32), "info": {"idToLabels": labels}}


@dataclass
class KittiDataset(Dataset):
    """A KittiWriter output folder (one or several camera folders)."""

    index: dict[str, dict[str, dict[str, Path]]] = field(default_factory=dict)

    @classmethod
    def detect(cls, root: Path) -> KittiDataset | None:
        index: dict[str, dict[str, dict[str, Path]]] = {}
        for folder in sorted([root, *(p for p in root.rglob("*") if p.is_dir())]):
            found = {
                annotator: folder / name
                for annotator, names in FOLDERS.items()
                for name in names
                if (folder / name).is_dir()
            }
            if "rgb" not in found or "bounding_box_2d_tight" not in found:
                continue
            camera = "/".join(folder.relative_to(root).parts)
            frames: dict[str, dict[str, Path]] = {}
            for annotator, sub in found.items():
                for path in sub.iterdir():
                    if path.stem.isdigit():
                        frames.setdefault(path.stem, {})[annotator] = path
            index[camera] = dict(sorted(frames.items(), key=lambda item: int(item[0])))
        if not index:
            return None
        known = {p for frames in index.values() for files in frames.values() for p in files.values()}
        unknown = [
            p
            for p in sorted(root.rglob("*"))
            if p.is_file() and p not in known and p.name not in BOOKKEEPING_FILES and not p.name.startswith(".")
        ]
        return cls(root=root, kind="KittiWriter", unknown_files=unknown, index=index)

    def files(self, camera: str, frame: str) -> dict[str, list[Path]]:
        return {a: [p] for a, p in self.index.get(camera, {}).get(frame, {}).items()}

    def load(self, camera: str, frame: str) -> dict[str, Any]:
        files = self.index.get(camera, {}).get(frame, {})
        loaded: dict[str, Any] = {}
        for annotator in self.annotators(camera):
            path = files.get(annotator)
            if path is None:
                loaded[annotator] = Unreadable(f"{annotator}: no file for frame {frame}")
            elif annotator == "rgb":
                loaded[annotator] = read_guarded(path, read_image)
            elif annotator == "bounding_box_2d_tight":
                loaded[annotator] = read_guarded(path, _boxes_value)
            elif annotator == "distance_to_image_plane":
                loaded[annotator] = read_guarded(path, _depth_value)
            elif annotator == "instance_segmentation":
                loaded[annotator] = read_guarded(path, _instance_value)
            else:
                image = read_guarded(path, read_image)
                loaded[annotator] = image if isinstance(image, Unreadable) else ShownImage(image, note=path.name)
        return loaded

    def frame_labels(self, camera: str, frame: str) -> FrameLabels | None:
        path = self.index.get(camera, {}).get(frame, {}).get("bounding_box_2d_tight")
        if path is None:
            return None
        try:
            _, names = read_labels(path)
        except (OSError, KittiLabelError):
            return None
        return FrameLabels("object_detection", names)
