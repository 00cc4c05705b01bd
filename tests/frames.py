"""Small synthetic frames in Replicator's exact annotator formats, for writer tests.

A 64x48 view of a tiny warehouse: two crates and a forklift (labelled ``class``), an unlabelled
wall and background. Every annotator output is derived from the same object masks, so a test can
recompute what a file must contain, and each one passes ``check_annotator_output``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from omni.sdg_studio.core.annotators.formats import (
    BBOX2D_DTYPE,
    BBOX3D_DTYPE,
    CAMERA_PARAMS_KEYS,
    OCCLUSION_DTYPE,
    check_annotator_output,
)
from omni.sdg_studio.core.render_backend import Frame, RenderProduct
from omni.sdg_studio.core.writers.base import FrameBatch

WIDTH, HEIGHT = 64, 48


@dataclass(frozen=True)
class Thing:
    """A labelled prim with its leaf meshes and the image rectangles (rows, cols; end exclusive) it covers."""

    path: str
    label: str | None
    leaves: tuple[tuple[str, tuple[int, int, int, int]], ...]
    depth: float


def scene(shift: int = 0) -> tuple[Thing, ...]:
    """The objects, later ones drawn over earlier ones; ``shift`` moves everything right."""
    return (
        Thing("/World/Wall", None, (("/World/Wall", (38, 48, 0, 24)),), 9.0),
        Thing("/World/Crate_01", "crate", (("/World/Crate_01/Mesh", (4, 34, 3 + shift, 20 + shift)),), 5.0),
        Thing("/World/Crate_02", "crate", (("/World/Crate_02/Mesh", (8, 36, 28 + shift, 46 + shift)),), 6.0),
        Thing(
            "/World/Forklift",
            "forklift",
            (
                ("/World/Forklift/Body", (20, 44, 40 + shift, 60 + shift)),
                ("/World/Forklift/Fork", (38, 44, 34 + shift, 40 + shift)),
            ),
            4.0,
        ),
    )


SEMANTIC_IDS = {"BACKGROUND": 0, "UNLABELLED": 1, "crate": 2, "forklift": 3}


def _rect_mask(rect: tuple[int, int, int, int], shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, bool)
    r0, r1, c0, c1 = rect
    mask[max(r0, 0) : min(r1, shape[0]), max(c0, 0) : min(c1, shape[1])] = True
    return mask


def _boxes(masks: dict[str, np.ndarray], full: dict[str, np.ndarray], labels: dict[str, str]) -> dict:
    rows, paths = [], []
    for path, mask in masks.items():
        if not mask.any():
            continue
        ys, xs = np.nonzero(mask)
        fy, fx = np.nonzero(full[path])
        occlusion = 1.0 - mask.sum() / full[path].sum()
        rows.append(((SEMANTIC_IDS[labels[path]], xs.min(), ys.min(), xs.max(), ys.max(), occlusion), fx, fy))
        paths.append(path)
    return {"rows": rows, "paths": paths}


def make_frame(shift: int = 0, width: int = WIDTH, height: int = HEIGHT) -> Frame:
    """All annotators for one render product, in Replicator's ``get_data()`` layouts."""
    shape = (height, width)
    things = scene(shift)
    instance = np.zeros(shape, np.uint32)  # instance_segmentation: labelled prim, unlabelled -> 1
    instance_id = np.zeros(shape, np.uint32)  # instance_id_segmentation: every leaf prim
    semantic = np.zeros(shape, np.uint32)
    depth = np.full(shape, np.inf, np.float32)
    rgb = np.zeros((height, width, 4), np.uint8)
    normals = np.zeros((height, width, 4), np.float32)
    instance_paths: dict[int, str] = {0: "BACKGROUND", 1: "UNLABELLED"}
    instance_semantics: dict[int, dict[str, str]] = {0: {"class": "BACKGROUND"}, 1: {"class": "UNLABELLED"}}
    leaf_paths: dict[int, str] = {0: "BACKGROUND", 1: "UNLABELLED"}
    full: dict[str, np.ndarray] = {}
    labels: dict[str, str] = {}
    next_instance, next_leaf = 2, 2
    for thing in things:
        thing_full = np.zeros(shape, bool)
        inst_value = 1
        if thing.label is not None:
            inst_value = next_instance
            instance_paths[inst_value] = thing.path
            instance_semantics[inst_value] = {"class": thing.label}
            labels[thing.path] = thing.label
            next_instance += 1
        for leaf_path, rect in thing.leaves:
            mask = _rect_mask(rect, shape)
            thing_full |= mask
            instance_id[mask] = next_leaf
            leaf_paths[next_leaf] = leaf_path
            next_leaf += 1
            instance[mask] = inst_value
            semantic[mask] = SEMANTIC_IDS[thing.label or "UNLABELLED"]
            depth[mask] = thing.depth
            rgb[mask] = (40 * next_leaf % 256, 90, 200 - 10 * next_leaf, 255)
            normals[mask] = (0.0, 0.0, 1.0, 0.0)
        if thing.label is not None:
            full[thing.path] = thing_full
    visible = {path: instance == key for key, path in instance_paths.items() if key > 1}
    boxes = _boxes(visible, full, labels)
    tight = np.array([row for row, _, _ in boxes["rows"]], BBOX2D_DTYPE)
    loose = np.array(
        [(row[0], fx.min(), fy.min(), fx.max(), fy.max(), row[5]) for row, fx, fy in boxes["rows"]], BBOX2D_DTYPE
    )
    id_to_labels = {SEMANTIC_IDS[labels[p]]: {"class": labels[p]} for p in boxes["paths"]}
    box_info = {
        "idToLabels": id_to_labels,
        "bboxIds": np.arange(len(tight), dtype=np.uint32),
        "primPaths": list(boxes["paths"]),
    }
    box3d = np.zeros(len(tight), BBOX3D_DTYPE)
    for i, row in enumerate(tight):
        box3d[i]["semanticId"] = row["semanticId"]
        box3d[i]["x_min"], box3d[i]["y_min"], box3d[i]["z_min"] = -0.5, -0.5, 0.0
        box3d[i]["x_max"], box3d[i]["y_max"], box3d[i]["z_max"] = 0.5, 0.5, 1.0
        box3d[i]["transform"] = np.eye(4, dtype=np.float32)
        box3d[i]["transform"][3, :3] = (i, 2.0 * i, 0.0)
        box3d[i]["occlusionRatio"] = row["occlusionRatio"]
    occlusion = np.array(
        [
            (key, SEMANTIC_IDS[instance_semantics[key]["class"]], tight[i]["occlusionRatio"])
            for i, key in enumerate(k for k in instance_paths if k > 1)
        ],
        OCCLUSION_DTYPE,
    )
    labelled = instance > 1
    ys, xs = np.nonzero(labelled)
    points = np.stack([xs, ys, depth[labelled]], axis=1).astype(np.float32)
    camera = {key: 0.0 for key in CAMERA_PARAMS_KEYS}
    camera.update(
        cameraAperture=np.array([20.955, 15.716], np.float32),
        cameraApertureOffset=np.zeros(2, np.float32),
        cameraFisheyeLensP=np.zeros(2, np.float32),
        cameraFisheyeLensS=np.zeros(4, np.float32),
        cameraFisheyeOpticalCentre=np.zeros(2, np.float32),
        cameraFisheyePolynomial=np.zeros(5, np.float32),
        cameraFocalLength=24.0,
        cameraModel="pinhole",
        cameraNearFar=np.array([0.01, 1000.0], np.float32),
        cameraProjection=np.eye(4).ravel(),
        cameraViewTransform=np.eye(4).ravel(),
        metersPerSceneUnit=1.0,
        renderProductResolution=np.array([width, height], np.int32),
    )
    frame: Frame = {
        "rgb": rgb,
        "distance_to_camera": depth,
        "distance_to_image_plane": depth * np.float32(0.98),
        "semantic_segmentation": {
            "data": semantic,
            "info": {"idToLabels": {str(v): {"class": k} for k, v in SEMANTIC_IDS.items()}},
        },
        "instance_segmentation": {
            "data": instance,
            "info": {"idToLabels": dict(instance_paths), "idToSemantics": dict(instance_semantics)},
        },
        "instance_id_segmentation": {"data": instance_id, "info": {"idToLabels": dict(leaf_paths)}},
        "bounding_box_2d_tight": {"data": tight, "info": box_info},
        "bounding_box_2d_loose": {"data": loose, "info": dict(box_info)},
        "bounding_box_3d": {"data": box3d, "info": dict(box_info)},
        "occlusion": {"data": occlusion, "info": {}},
        "normals": normals,
        "motion_vectors": np.zeros((height, width, 4), np.float32),
        "camera_params": camera,
        "pointcloud": {
            "data": points,
            "info": {
                "pointRgb": rgb[labelled].reshape(-1),
                "pointNormals": normals[labelled].reshape(-1),
                "pointSemantic": semantic[labelled],
                "pointInstance": instance[labelled],
            },
        },
    }
    for name, value in frame.items():
        check_annotator_output(name, value)
    return frame


def make_batch(index: int, rp_names: Sequence[str] = ("Replicator",), shift_per_rp: int = 3) -> FrameBatch:
    """A step over ``rp_names`` (render products see the scene shifted by ``shift_per_rp`` px each)."""
    products = {name: make_frame(shift=i * shift_per_rp) for i, name in enumerate(rp_names)}
    render_products = {name: RenderProduct(f"/World/Cameras/{name}Cam", WIDTH, HEIGHT, name) for name in rp_names}
    return FrameBatch(index=index, products=products, render_products=render_products)
