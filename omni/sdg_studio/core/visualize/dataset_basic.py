"""Read BasicWriter folders (ours and Isaac Sim's) back into annotator frames.

Layouts (``shared/research/recorder_writers.md`` 3.1-3.3): files ``{annotator}_{seq}{frame}.{ext}``
(``rgb_0000.png``, ``rgb_3_0000.png`` with ``on_time`` triggers, ``rgb_0.066667.png`` from the
TimestampedBasicWriter); one render product flat in the folder; several as
``<rp_name>/<annotator>/<file>`` (the render product folder may be a deeper path, as Isaac Sim's
benchmark validator writes it) or, with ``use_common_output_dir``, ``<annotator>/<rp_name>_<file>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from omni.sdg_studio.core.visualize.dataset import (
    BOOKKEEPING_FILES,
    Dataset,
    FrameLabels,
    read_guarded,
    read_image,
    read_json,
    read_npy,
)
from omni.sdg_studio.core.visualize.normalize import semantic_label_text
from omni.sdg_studio.core.visualize.tiles import ShownImage, Unreadable

#: File stem -> (annotator, role). Roles: data, labels, prim_paths, semantics, preview, point_* extras.
FILE_KINDS: dict[str, tuple[str, str]] = {
    "rgb": ("rgb", "data"),
    "normals": ("normals", "data"),
    "motion_vectors": ("motion_vectors", "data"),
    "occlusion": ("occlusion", "data"),
    "camera_params": ("camera_params", "data"),
    "distance_to_camera": ("distance_to_camera", "data"),
    "distance_to_image_plane": ("distance_to_image_plane", "data"),
    "semantic_segmentation": ("semantic_segmentation", "data"),
    "semantic_segmentation_labels": ("semantic_segmentation", "labels"),
    "instance_id_segmentation": ("instance_id_segmentation", "data"),
    "instance_id_segmentation_mapping": ("instance_id_segmentation", "labels"),
    "instance_segmentation": ("instance_segmentation", "data"),
    "instance_segmentation_mapping": ("instance_segmentation", "labels"),
    "instance_segmentation_semantics_mapping": ("instance_segmentation", "semantics"),
    "pointcloud": ("pointcloud", "data"),
    "pointcloud_rgb": ("pointcloud", "pointRgb"),
    "pointcloud_normals": ("pointcloud", "pointNormals"),
    "pointcloud_semantic": ("pointcloud", "pointSemantic"),
    "pointcloud_instance": ("pointcloud", "pointInstance"),
    "skeleton": ("skeleton_data", "data"),
    **{
        f"bounding_box_{kind}{suffix}": (f"bounding_box_{kind}", role)
        for kind in ("2d_tight", "2d_loose", "3d")
        for suffix, role in (("", "data"), ("_labels", "labels"), ("_prim_paths", "prim_paths"))
    },
}
#: Folder names BasicWriter gives annotators when it writes several render products.
ANNOTATOR_FOLDERS = frozenset(annotator for annotator, _ in FILE_KINDS.values()) | {"skeleton"}
_STEMS_LONGEST_FIRST = sorted(FILE_KINDS, key=len, reverse=True)
_FILE_NAME = re.compile(r"^(?P<stem>[A-Za-z][A-Za-z0-9_]*?)_(?P<frame>(?:\d+_)?\d+(?:\.\d+)?)\.(?P<ext>[A-Za-z]+)$")
_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "npy", "json"})
#: Annotators whose ``data`` file is an image; their npy / png twin is a preview.
_IMAGE_DATA = frozenset(
    {"rgb", "normals", "semantic_segmentation", "instance_id_segmentation", "instance_segmentation"}
)
#: Per-pixel annotators: their images must match the rgb image's size.
_SAME_SIZE_AS_RGB = frozenset(
    {
        "normals",
        "motion_vectors",
        "distance_to_camera",
        "distance_to_image_plane",
        "semantic_segmentation",
        "instance_id_segmentation",
        "instance_segmentation",
    }
)
_LABEL_SOURCES = ("bounding_box_2d_tight", "bounding_box_2d_loose", "bounding_box_3d", "semantic_segmentation")


@dataclass(frozen=True)
class ParsedName:
    """What a file name says: annotator, role, frame token and (common output dir) render product prefix."""

    annotator: str
    role: str
    frame: str
    ext: str
    product: str | None


def parse_file_name(name: str) -> ParsedName | None:
    """Parse ``rgb_0000.png``-style names (also ``<rp>_rgb_0000.png``); None for anything else."""
    match = _FILE_NAME.match(name)
    if match is None or match["ext"].lower() not in _EXTENSIONS:
        return None
    stem, frame, ext = match["stem"], match["frame"], match["ext"].lower()
    if stem in FILE_KINDS:
        annotator, role = FILE_KINDS[stem]
        return ParsedName(annotator, role, frame, ext, None)
    for known in _STEMS_LONGEST_FIRST:
        if stem.endswith("_" + known):
            annotator, role = FILE_KINDS[known]
            return ParsedName(annotator, role, frame, ext, stem[: -len(known) - 1])
    return None


def _frame_order(token: str) -> tuple[int, float]:
    seq, _, number = token.rpartition("_")
    return (int(seq) if seq else -1, float(number))


@dataclass
class BasicWriterDataset(Dataset):
    """A BasicWriter output folder."""

    index: dict[str, dict[str, dict[str, dict[str, Path]]]] = field(default_factory=dict)

    @classmethod
    def detect(cls, root: Path) -> BasicWriterDataset | None:
        """Index every annotator file under ``root``; None when there is none."""
        index: dict[str, dict[str, dict[str, dict[str, Path]]]] = {}
        unknown: list[Path] = []
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name in BOOKKEEPING_FILES or path.name.startswith("."):
                continue
            parsed = parse_file_name(path.name)
            if parsed is None:
                unknown.append(path)
                continue
            folders = list(path.relative_to(root).parent.parts)
            if folders and folders[-1] in ANNOTATOR_FOLDERS:
                folders.pop()
            if parsed.product is not None:
                folders.append(parsed.product)
            camera = "/".join(folders)
            roles = index.setdefault(camera, {}).setdefault(parsed.frame, {}).setdefault(parsed.annotator, {})
            role = parsed.role
            if role == "data" and parsed.annotator not in _IMAGE_DATA and parsed.ext in ("png", "jpg", "jpeg"):
                role = "preview"  # colorize_depth's png beside the npy
            if role == "data" and parsed.annotator in _IMAGE_DATA and parsed.ext == "npy":
                role = "array"
            roles[role] = path
        if not index:
            return None
        for frames in index.values():
            sorted_frames = dict(sorted(frames.items(), key=lambda item: _frame_order(item[0])))
            frames.clear()
            frames.update(sorted_frames)
        writer = _writer_name(root)
        return cls(root=root, kind=writer, unknown_files=unknown, index=dict(sorted(index.items())))

    def files(self, camera: str, frame: str) -> dict[str, list[Path]]:
        return {a: list(roles.values()) for a, roles in self.index.get(camera, {}).get(frame, {}).items()}

    def annotators(self, camera: str) -> list[str]:
        names: dict[str, None] = {}
        for frame in self.index.get(camera, {}).values():
            names.update(dict.fromkeys(frame))
        return list(names)

    def load(self, camera: str, frame: str) -> dict[str, Any]:
        entries = self.index.get(camera, {}).get(frame, {})
        loaded: dict[str, Any] = {}
        for annotator in self.annotators(camera):
            roles = entries.get(annotator)
            if roles is None:
                loaded[annotator] = Unreadable(f"{annotator}: no file for frame {frame}")
                continue
            loaded[annotator] = _load_annotator(annotator, roles)
        _check_shapes(loaded, entries)
        return loaded

    def frame_labels(self, camera: str, frame: str) -> FrameLabels | None:
        entries = self.index.get(camera, {}).get(frame, {})
        for source in _LABEL_SOURCES:
            roles = entries.get(source)
            if roles is None or "labels" not in roles:
                continue
            labels = read_guarded(roles["labels"], read_json)
            if not isinstance(labels, Mapping):
                continue
            if source == "semantic_segmentation":
                return FrameLabels(source, [_label_text(v) for v in labels.values()])
            rows = read_guarded(roles["data"], read_npy) if "data" in roles else None
            if not isinstance(rows, np.ndarray) or rows.dtype.names is None:
                continue
            return FrameLabels(source, [_label_text(labels.get(str(int(i)), f"#{int(i)}")) for i in rows["semanticId"]])
        return None


    def object_labels(self, camera: str, frame: str) -> list[dict[str, str]]:
        """Label dicts of the frame's instances (instance_segmentation semantics), else of its boxes or classes."""
        entries = self.index.get(camera, {}).get(frame, {})
        for annotator, role in (
            ("instance_segmentation", "semantics"),
            ("bounding_box_2d_tight", "labels"),
            ("bounding_box_2d_loose", "labels"),
            ("semantic_segmentation", "labels"),
        ):
            path = entries.get(annotator, {}).get(role)
            values = read_guarded(path, read_json) if path is not None else None
            if isinstance(values, Mapping):
                return [dict(v) for v in values.values() if isinstance(v, Mapping)]
        return []


def _label_text(value: Any) -> str:
    try:
        return semantic_label_text(value)
    except ValueError:
        return str(value)


def _writer_name(root: Path) -> str:
    metadata = read_guarded(root / "metadata.txt", read_json)
    if isinstance(metadata, Mapping) and isinstance(metadata.get("name"), str):
        return metadata["name"]
    return "BasicWriter"


def _load_annotator(annotator: str, roles: Mapping[str, Path]) -> Any:
    data_path = roles.get("data") or roles.get("array")
    if data_path is None:
        if "preview" in roles:
            image = read_guarded(roles["preview"], read_image)
            if isinstance(image, Unreadable):
                return image
            return ShownImage(image, note=f"{roles['preview'].name} (preview image; no .npy data)")
        missing = ", ".join(p.name for p in roles.values())
        return Unreadable(f"{annotator}: only {missing}; the data file is missing")
    reader = read_npy if data_path.suffix == ".npy" else read_json if data_path.suffix == ".json" else read_image
    data = read_guarded(data_path, reader)
    if isinstance(data, Unreadable):
        return data
    if annotator == "normals" and data_path.suffix != ".npy":
        return ShownImage(data, note=f"{data_path.name} (colorized by the writer)")
    if annotator in ("rgb", "distance_to_camera", "distance_to_image_plane", "motion_vectors", "camera_params"):
        return data
    if annotator == "skeleton_data":
        return Unreadable(f"{data_path}: skeletons are not drawn")
    if annotator == "occlusion":
        return {"data": data, "info": {}}
    if annotator == "pointcloud":
        info: dict[str, Any] = {}
        for role, path in roles.items():
            if role.startswith("point"):
                extra = read_guarded(path, read_npy)
                if not isinstance(extra, Unreadable):
                    info[role] = extra
        return {"data": data, "info": info}
    return _load_labelled(annotator, data_path, data, roles)


def _load_labelled(annotator: str, data_path: Path, data: Any, roles: Mapping[str, Path]) -> Any:
    info: dict[str, Any] = {}
    if "labels" not in roles:
        return Unreadable(f"{data_path}: its label file ({_label_file_name(data_path, annotator)}) is missing")
    labels = read_guarded(roles["labels"], read_json)
    if isinstance(labels, Unreadable):
        return labels
    if not isinstance(labels, Mapping):
        return Unreadable(f"{roles['labels']}: expected a JSON object of id -> label")
    info["idToLabels"] = dict(labels)
    if "semantics" in roles:
        semantics = read_guarded(roles["semantics"], read_json)
        if isinstance(semantics, Unreadable):
            return semantics
        info["idToSemantics"] = semantics
    if annotator.startswith("bounding_box"):
        if not isinstance(data, np.ndarray) or data.dtype.names is None:
            return Unreadable(f"{data_path}: not a structured box array (dtype {getattr(data, 'dtype', '?')})")
        paths: Any = [""] * len(data)
        if "prim_paths" in roles:
            paths = read_guarded(roles["prim_paths"], read_json)
            if isinstance(paths, Unreadable):
                return paths
            if not isinstance(paths, list) or len(paths) != len(data):
                count = len(paths) if isinstance(paths, list) else "?"
                return Unreadable(
                    f"{roles['prim_paths']}: {count} prim paths for {len(data)} boxes in {data_path.name}"
                )
        info["primPaths"] = paths
        info["bboxIds"] = np.arange(len(data), dtype=np.uint32)
    return {"data": data, "info": info}


_LABEL_FILE_STEMS = {
    "semantic_segmentation": "semantic_segmentation_labels",
    "instance_id_segmentation": "instance_id_segmentation_mapping",
    "instance_segmentation": "instance_segmentation_mapping",
}


def _label_file_name(data_path: Path, annotator: str) -> str:
    """The name of the label JSON that belongs beside ``data_path``."""
    companion = _LABEL_FILE_STEMS.get(annotator, annotator + "_labels")
    return Path(data_path.name.replace(annotator + "_", companion + "_", 1)).with_suffix(".json").name


def _check_shapes(loaded: dict[str, Any], entries: Mapping[str, Mapping[str, Path]]) -> None:
    """Mark image annotators whose size differs from rgb's (naming both files)."""
    reference = loaded.get("rgb")
    if not isinstance(reference, np.ndarray) or "rgb" not in entries:
        return
    size = reference.shape[:2]
    reference_name = next(iter(entries["rgb"].values())).name
    for annotator, value in loaded.items():
        if annotator not in _SAME_SIZE_AS_RGB:
            continue
        data = value.rgba if isinstance(value, ShownImage) else value.get("data") if isinstance(value, dict) else value
        if not isinstance(data, np.ndarray) or data.dtype.names is not None or data.ndim < 2:
            continue
        if data.shape[:2] != size:
            path = next(iter(entries[annotator].values()))
            loaded[annotator] = Unreadable(
                f"{path}: size {data.shape[1]}x{data.shape[0]} differs from {reference_name} ({size[1]}x{size[0]})"
            )
