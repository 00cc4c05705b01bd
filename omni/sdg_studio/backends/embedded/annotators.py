"""Replicator's annotators computed from one frame: every output in Replicator's ``get_data()`` layout.

A :class:`~omni.sdg_studio.backends.embedded.frame.FrameData` holds the first hit per pixel and
computes what the requested annotators share (normals, ids, per-object pixel counts) once, lazily.
``occlusionRatio`` of a labeled object is ``1 - visible pixels / pixels it covers when rendered alone``
(both counted inside the image, so leaving the frame is not occlusion); it is -1 for a labeled prim with
labeled descendants. Bounding boxes are inclusive pixel indices: ``x_max`` is the last column covered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from omni.sdg_studio.backends.embedded.frame import FrameData
from omni.sdg_studio.backends.embedded.labels import LabelTables
from omni.sdg_studio.backends.embedded.scene import SceneGeometry
from omni.sdg_studio.backends.embedded.vectors import gather_rows
from omni.sdg_studio.core.annotators.formats import BBOX2D_DTYPE, BBOX3D_DTYPE, OCCLUSION_DTYPE
from omni.sdg_studio.core.colors import (
    BACKGROUND_COLOR,
    BACKGROUND_ID,
    FIRST_LABELED_ID,
    INVALID,
    UNLABELLED_COLOR,
    UNLABELLED_ID,
    paint_ids,
    rgba_key,
    stable_color,
)


def _present(ids: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(np.bincount(ids.ravel().astype(np.int64)))]


def rgb(frame: FrameData) -> np.ndarray:
    return frame.rgba


def distance_to_camera(frame: FrameData) -> np.ndarray:
    return frame.hits.distance.reshape(frame.shape).copy()


def distance_to_image_plane(frame: FrameData) -> np.ndarray:
    return (frame.hits.distance * frame.camera.cosines()).reshape(frame.shape)


def normals(frame: FrameData) -> np.ndarray:
    table = np.zeros((len(frame.present[0]) + 1, 4), np.float32)
    table[:-1, :3] = frame.facing_table
    table[:-1, 3] = 1.0
    index = frame.present[1]
    return frame.by_band(lambda span: gather_rows(table, index[span]), np.float32, 4).reshape(*frame.shape, 4)


def camera_params(frame: FrameData) -> dict[str, Any]:
    return frame.camera.camera_params()


def semantic_segmentation(frame: FrameData) -> dict[str, Any]:
    ids = frame.semantic_ids
    tables = frame.tables
    present = _present(ids)
    if not frame.colorize:
        info = {"idToLabels": {str(i): tables.semantic_labels(i) for i in present}}
        return {"data": ids.reshape(frame.shape), "info": info}
    colors = {i: semantic_color(tables, i) for i in present}
    info = {"idToLabels": {rgba_key(colors[i]): tables.semantic_labels(i) for i in present}}
    return {"data": paint_ids(ids.reshape(frame.shape), colors), "info": info}


def semantic_color(tables: LabelTables, semantic_id: int) -> tuple[int, int, int, int]:
    """Display color of a semantic id: Replicator's reserved colors, else the label's stable color."""
    if semantic_id == BACKGROUND_ID:
        return BACKGROUND_COLOR
    if semantic_id == UNLABELLED_ID:
        return UNLABELLED_COLOR
    return stable_color(tables.display_name(semantic_id))


def _instance_naming(tables: LabelTables, instance_id: int) -> tuple[str, dict[str, str], tuple[int, int, int, int]]:
    if instance_id == BACKGROUND_ID:
        return "BACKGROUND", {"class": "BACKGROUND"}, BACKGROUND_COLOR
    if instance_id == UNLABELLED_ID:
        return "UNLABELLED", {"class": "UNLABELLED"}, UNLABELLED_COLOR
    obj = tables.objects[instance_id - FIRST_LABELED_ID]
    return obj.path, dict(obj.labels), obj.color


def instance_segmentation(frame: FrameData) -> dict[str, Any]:
    ids = frame.instance_ids
    present = _present(ids)
    named = {i: _instance_naming(frame.tables, i) for i in present}
    if not frame.colorize:
        info = {
            "idToLabels": {i: named[i][0] for i in present},
            "idToSemantics": {i: named[i][1] for i in present},
        }
        return {"data": ids.reshape(frame.shape), "info": info}
    keys = {i: rgba_key(named[i][2]) for i in present}
    info = {
        "idToLabels": {keys[i]: named[i][0] for i in present},
        "idToSemantics": {keys[i]: named[i][1] for i in present},
    }
    return {"data": paint_ids(ids.reshape(frame.shape), {i: named[i][2] for i in present}), "info": info}


def instance_id_segmentation(frame: FrameData) -> dict[str, Any]:
    ids = frame.slot
    present = _present(ids)
    geometries = frame.scene.geometries

    def name(i: int) -> str:
        return INVALID if i == 0 else geometries[i - 1].path

    if not frame.colorize:
        return {"data": ids.reshape(frame.shape), "info": {"idToLabels": {i: name(i) for i in present}}}
    colors = {i: instance_color(geometries, i) for i in present}
    info = {"idToLabels": {rgba_key(colors[i]): name(i) for i in present}}
    return {"data": paint_ids(ids.reshape(frame.shape), colors), "info": info}


def instance_color(geometries: Sequence[SceneGeometry], slot: int) -> tuple[int, int, int, int]:
    """Stable display color of an instance_id_segmentation id."""
    if slot == 0:
        return BACKGROUND_COLOR
    geometry = geometries[slot - 1]
    suffix = "" if geometry.instance is None else f"#{geometry.instance[1]}"
    return stable_color(geometry.path + suffix)


def _bbox_info(frame: FrameData, rows: np.ndarray) -> dict[str, Any]:
    objects = [frame.tables.objects[i] for i in rows]
    labels = {o.label_index: dict(o.labels) for o in objects}
    return {
        "idToLabels": dict(sorted(labels.items())),
        "bboxIds": np.array([o.instance_id for o in objects], np.uint32),
        "primPaths": [o.path for o in objects],
    }


def _bbox_2d(frame: FrameData, loose: bool) -> dict[str, Any]:
    stats = frame.object_stats
    boxes = stats.loose if loose else stats.tight
    rows = np.flatnonzero((stats.covered if loose else stats.visible) > 0)
    data = np.zeros(len(rows), BBOX2D_DTYPE)
    data["semanticId"] = [frame.tables.objects[i].label_index for i in rows]
    for k, field_name in enumerate(("x_min", "y_min", "x_max", "y_max")):
        data[field_name] = boxes[rows, k]
    data["occlusionRatio"] = stats.occlusion[rows]
    return {"data": data, "info": _bbox_info(frame, rows)}


def bounding_box_2d_tight(frame: FrameData) -> dict[str, Any]:
    return _bbox_2d(frame, loose=False)


def bounding_box_2d_loose(frame: FrameData) -> dict[str, Any]:
    return _bbox_2d(frame, loose=True)


def bounding_box_3d(frame: FrameData) -> dict[str, Any]:
    stats = frame.object_stats
    rows = np.flatnonzero(stats.covered > 0)
    data = np.zeros(len(rows), BBOX3D_DTYPE)
    frames = [frame.object_frame(int(i)) for i in rows]
    if frames:
        low, high, transform = (np.array(part) for part in zip(*frames, strict=True))
        for axis, name in enumerate("xyz"):
            data[f"{name}_min"], data[f"{name}_max"] = low[:, axis], high[:, axis]
        data["transform"] = transform
    data["semanticId"] = [frame.tables.objects[i].label_index for i in rows]
    data["occlusionRatio"] = stats.occlusion[rows]
    return {"data": data, "info": _bbox_info(frame, rows)}


def occlusion(frame: FrameData) -> dict[str, Any]:
    stats = frame.object_stats
    rows = np.flatnonzero(stats.covered > 0)
    data = np.zeros(len(rows), OCCLUSION_DTYPE)
    data["instanceId"] = [frame.tables.objects[i].instance_id for i in rows]
    data["semanticId"] = [frame.tables.objects[i].label_index for i in rows]
    data["occlusionRatio"] = stats.occlusion[rows]
    info = _bbox_info(frame, rows)
    return {"data": data, "info": {"idToLabels": info["idToLabels"], "primPaths": info["primPaths"]}}


def pointcloud(frame: FrameData) -> dict[str, Any]:
    labeled = frame.semantic_ids[frame.hit] >= FIRST_LABELED_ID
    normals4 = np.zeros((int(labeled.sum()), 4), np.float32)
    normals4[:, :3] = frame.normals[labeled]
    return {
        "data": frame.points[labeled],
        "info": {
            "pointRgb": frame.rgba.reshape(-1, 4)[frame.hit][labeled],
            "pointNormals": normals4,
            "pointSemantic": frame.semantic_ids[frame.hit][labeled],
            "pointInstance": frame.slot[frame.hit][labeled],
        },
    }


#: Annotators this backend computes, in Replicator's names.
ANNOTATOR_FUNCTIONS: dict[str, Callable[[FrameData], Any]] = {
    "rgb": rgb,
    "distance_to_camera": distance_to_camera,
    "distance_to_image_plane": distance_to_image_plane,
    "semantic_segmentation": semantic_segmentation,
    "instance_segmentation": instance_segmentation,
    "instance_id_segmentation": instance_id_segmentation,
    "bounding_box_2d_tight": bounding_box_2d_tight,
    "bounding_box_2d_loose": bounding_box_2d_loose,
    "bounding_box_3d": bounding_box_3d,
    "occlusion": occlusion,
    "normals": normals,
    "camera_params": camera_params,
    "pointcloud": pointcloud,
}
