"""Replicator's annotator output formats, written down once and checked.

Sources: Replicator annotator docs (annotators_details.html, the OGN node docs for
CameraParams and bounding boxes) and Isaac Sim's recorder tests; summarized in
``shared/research/visualizer_kit.md`` section 2. ``get_data()`` returns a bare array for
annotators without metadata, ``{"data": ..., "info": {...}}`` for those with metadata and a
flat dict for ``camera_params``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from omni.sdg_studio.core.errors import SdgStudioError

BBOX2D_DTYPE = np.dtype(
    [
        ("semanticId", "<u4"),
        ("x_min", "<i4"),
        ("y_min", "<i4"),
        ("x_max", "<i4"),
        ("y_max", "<i4"),
        ("occlusionRatio", "<f4"),
    ]
)
BBOX3D_DTYPE = np.dtype(
    [
        ("semanticId", "<u4"),
        ("x_min", "<f4"),
        ("y_min", "<f4"),
        ("z_min", "<f4"),
        ("x_max", "<f4"),
        ("y_max", "<f4"),
        ("z_max", "<f4"),
        ("transform", "<f4", (4, 4)),
        ("occlusionRatio", "<f4"),
    ]
)
OCCLUSION_DTYPE = np.dtype([("instanceId", "<u4"), ("semanticId", "<u4"), ("occlusionRatio", "<f4")])

#: Every annotator name the project knows, in Replicator's spelling.
ANNOTATORS: tuple[str, ...] = (
    "rgb",
    "distance_to_camera",
    "distance_to_image_plane",
    "semantic_segmentation",
    "instance_segmentation",
    "instance_id_segmentation",
    "bounding_box_2d_tight",
    "bounding_box_2d_loose",
    "bounding_box_3d",
    "occlusion",
    "normals",
    "motion_vectors",
    "camera_params",
    "pointcloud",
)

#: Annotators that produce nothing useful on an unlabeled stage (the recorder's list).
LABEL_ANNOTATORS: frozenset[str] = frozenset(
    {
        "semantic_segmentation",
        "instance_segmentation",
        "instance_id_segmentation",
        "bounding_box_2d_tight",
        "bounding_box_2d_loose",
        "bounding_box_3d",
        "occlusion",
    }
)

CAMERA_PARAMS_KEYS: tuple[str, ...] = (
    "cameraAperture",
    "cameraApertureOffset",
    "cameraFisheyeLensP",
    "cameraFisheyeLensS",
    "cameraFisheyeMaxFOV",
    "cameraFisheyeNominalHeight",
    "cameraFisheyeNominalWidth",
    "cameraFisheyeOpticalCentre",
    "cameraFisheyePolynomial",
    "cameraFocalLength",
    "cameraFocusDistance",
    "cameraFStop",
    "cameraModel",
    "cameraNearFar",
    "cameraProjection",
    "cameraViewTransform",
    "metersPerSceneUnit",
    "renderProductResolution",
)

_STRUCTURED = {
    "bounding_box_2d_tight": BBOX2D_DTYPE,
    "bounding_box_2d_loose": BBOX2D_DTYPE,
    "bounding_box_3d": BBOX3D_DTYPE,
    "occlusion": OCCLUSION_DTYPE,
}
_BBOX_INFO_KEYS = ("idToLabels", "bboxIds", "primPaths")


class AnnotatorFormatError(SdgStudioError, ValueError):
    """An annotator output does not match Replicator's format; the message names annotator and field."""


def _fail(name: str, what: str) -> AnnotatorFormatError:
    return AnnotatorFormatError(f"{name}: {what}")


def _check_image(name: str, data: Any, dtype: str, channels: int | None) -> tuple[int, int]:
    if not isinstance(data, np.ndarray):
        raise _fail(name, f"data is {type(data).__name__}, expected numpy.ndarray")
    if data.dtype != np.dtype(dtype):
        raise _fail(name, f"dtype {data.dtype}, expected {dtype}")
    want_ndim = 2 if channels is None else 3
    if data.ndim != want_ndim or (channels is not None and data.shape[2] != channels):
        raise _fail(name, f"shape {data.shape}, expected (H, W{'' if channels is None else f', {channels}'})")
    return int(data.shape[0]), int(data.shape[1])


def _check_segmentation(name: str, value: Mapping[str, Any]) -> None:
    data = value["data"]
    colorized = isinstance(data, np.ndarray) and data.ndim == 3
    if colorized:
        _check_image(name, data, "uint8", 4)
    else:
        _check_image(name, data, "uint32", None)
    info = value["info"]
    id_to_labels = info.get("idToLabels")
    if not isinstance(id_to_labels, Mapping):
        raise _fail(name, "info['idToLabels'] missing")
    for key, labels in id_to_labels.items():
        if name == "semantic_segmentation":
            if not isinstance(key, str):
                raise _fail(name, f"idToLabels key {key!r} must be str")
            if not isinstance(labels, Mapping) or not all(
                isinstance(t, str) and isinstance(v, str) for t, v in labels.items()
            ):
                raise _fail(name, f"idToLabels[{key!r}] must be a dict taxonomy -> comma-joined labels (str -> str)")
        else:
            if not isinstance(key, (str if colorized else int)):
                raise _fail(name, f"idToLabels key {key!r} has type {type(key).__name__}")
            if not isinstance(labels, str):
                raise _fail(name, f"idToLabels[{key!r}] must be a prim path string")
    if name == "instance_segmentation":
        id_to_semantics = info.get("idToSemantics")
        if not isinstance(id_to_semantics, Mapping):
            raise _fail(name, "info['idToSemantics'] missing")
        for key, labels in id_to_semantics.items():
            if not isinstance(key, (str if colorized else int)):
                raise _fail(name, f"idToSemantics key {key!r} has type {type(key).__name__}")
            if not isinstance(labels, Mapping):
                raise _fail(name, f"idToSemantics[{key!r}] must be a dict taxonomy -> labels")


def check_annotator_output(name: str, value: Any) -> None:
    """Raise :class:`AnnotatorFormatError` unless ``value`` has the layout Replicator's ``name`` returns."""
    if name == "rgb":
        _check_image(name, value, "uint8", 4)
    elif name in ("distance_to_camera", "distance_to_image_plane"):
        _check_image(name, value, "float32", None)
    elif name in ("normals", "motion_vectors"):
        _check_image(name, value, "float32", 4)
    elif name == "camera_params":
        if not isinstance(value, Mapping):
            raise _fail(name, "expected a flat dict")
        missing = [k for k in CAMERA_PARAMS_KEYS if k not in value]
        if missing:
            raise _fail(name, f"missing keys {missing}")
        for key in ("cameraProjection", "cameraViewTransform"):
            if np.asarray(value[key]).size != 16:
                raise _fail(name, f"{key} must hold 16 values")
    elif name in ("semantic_segmentation", "instance_segmentation", "instance_id_segmentation"):
        if not isinstance(value, Mapping) or "data" not in value or "info" not in value:
            raise _fail(name, "expected {'data': ..., 'info': {...}}")
        _check_segmentation(name, value)
    elif name in _STRUCTURED:
        if not isinstance(value, Mapping) or "data" not in value or "info" not in value:
            raise _fail(name, "expected {'data': ..., 'info': {...}}")
        data = value["data"]
        if not isinstance(data, np.ndarray) or data.dtype != _STRUCTURED[name] or data.ndim != 1:
            got = getattr(data, "dtype", type(data).__name__)
            raise _fail(name, f"data dtype {got}, expected {_STRUCTURED[name]}")
        if name != "occlusion":
            info = value["info"]
            for key in _BBOX_INFO_KEYS:
                if key not in info:
                    raise _fail(name, f"info[{key!r}] missing")
            if len(info["primPaths"]) != len(data) or len(info["bboxIds"]) != len(data):
                raise _fail(name, "info['primPaths'] and info['bboxIds'] must have one entry per row")
    elif name == "pointcloud":
        if not isinstance(value, Mapping) or "data" not in value:
            raise _fail(name, "expected {'data': ..., 'info': {...}}")
        data = value["data"]
        if not isinstance(data, np.ndarray) or data.dtype != np.float32 or data.ndim != 2 or data.shape[1] != 3:
            raise _fail(name, "data must be float32 (N, 3)")
    else:
        raise _fail(name, f"unknown annotator; known: {', '.join(ANNOTATORS)}")
