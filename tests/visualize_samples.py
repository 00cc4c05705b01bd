"""Test data for the visualizer: an analytic frame in Replicator's formats and a BasicWriter-layout writer.

The frame is built from rectangles and a cube whose answers are known in closed form; the writer
follows the documented BasicWriter layout (``shared/research/recorder_writers.md`` section 3) and
is deliberately independent of the reader under test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from omni.sdg_studio.core.annotators.formats import BBOX2D_DTYPE, BBOX3D_DTYPE, OCCLUSION_DTYPE

WIDTH, HEIGHT = 96, 64
#: (semantic id, label, x_min, y_min, x_max, y_max inclusive, depth in m, rgb)
RECTS = [
    (2, "crate", 10, 8, 39, 35, 4.0, (200, 80, 40)),
    (3, "pallet", 50, 20, 85, 55, 6.5, (40, 90, 220)),
]
INSTANCE_PATHS = {2: "/World/Crate_01", 3: "/World/Pallet_07"}
FOCAL_MM, APERTURE_MM, CAMERA_Z = 24.0, 20.955, 10.0


def pinhole_params(width: int = WIDTH, height: int = HEIGHT, camera_z: float = CAMERA_Z) -> dict[str, Any]:
    """camera_params of a camera at (0, 0, camera_z) looking down -Z, in Replicator's row-vector form."""
    view = np.eye(4)
    view[3, 2] = -camera_z
    sx = 2 * FOCAL_MM / APERTURE_MM
    projection = np.zeros((4, 4))
    projection[0, 0], projection[1, 1] = sx, sx * width / height
    projection[2, 3], projection[3, 2] = -1.0, 0.01
    return {
        "cameraAperture": [APERTURE_MM, APERTURE_MM * height / width],
        "cameraApertureOffset": [0.0, 0.0],
        "cameraFocalLength": FOCAL_MM,
        "cameraModel": "pinhole",
        "cameraNearFar": [0.01, 1e6],
        "cameraProjection": projection.reshape(-1).tolist(),
        "cameraViewTransform": view.reshape(-1).tolist(),
        "metersPerSceneUnit": 1.0,
        "renderProductResolution": [width, height],
    }


def analytic_pixel(point: np.ndarray, width: int = WIDTH, height: int = HEIGHT) -> tuple[float, float]:
    """Pinhole projection of a world point for :func:`pinhole_params`, written from the intrinsics."""
    fx = FOCAL_MM / APERTURE_MM * width
    fy = fx  # square pixels
    depth = CAMERA_Z - point[2]
    return width / 2 + fx * point[0] / depth, height / 2 - fy * point[1] / depth


def cube_rows(half: float = 1.0, offset: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """One bounding_box_3d row: a cube of half-size ``half`` translated by ``offset``."""
    row = np.zeros(1, BBOX3D_DTYPE)
    row["semanticId"] = 2
    for axis in "xyz":
        row[f"{axis}_min"], row[f"{axis}_max"] = -half, half
    transform = np.eye(4, dtype=np.float32)
    transform[3, :3] = offset
    row["transform"] = transform
    return row


def frame(index: int = 0) -> dict[str, Any]:
    """One frame of every annotator, in Replicator's get_data() layout. ``index`` shifts the rectangles."""
    rgb = np.full((HEIGHT, WIDTH, 4), (90, 90, 90, 255), np.uint8)
    semantic = np.zeros((HEIGHT, WIDTH), np.uint32)
    instance = np.zeros((HEIGHT, WIDTH), np.uint32)
    depth = np.full((HEIGHT, WIDTH), np.inf, np.float32)
    normals = np.zeros((HEIGHT, WIDTH, 4), np.float32)
    boxes = np.zeros(len(RECTS), BBOX2D_DTYPE)
    for i, (sid, _, x0, y0, x1, y1, z, color) in enumerate(RECTS):
        x0, x1 = x0 + index, x1 + index
        rgb[y0 : y1 + 1, x0 : x1 + 1, :3] = color
        semantic[y0 : y1 + 1, x0 : x1 + 1] = sid
        instance[y0 : y1 + 1, x0 : x1 + 1] = sid + 10
        depth[y0 : y1 + 1, x0 : x1 + 1] = z
        normals[y0 : y1 + 1, x0 : x1 + 1, 2] = 1.0
        boxes[i] = (sid, x0, y0, x1, y1, 0.1 * i)
    semantic_labels = {
        "0": {"class": "BACKGROUND"},
        "1": {"class": "UNLABELLED"},
        **{str(sid): {"class": label} for sid, label, *_ in RECTS},
    }
    box_labels = {str(sid): {"class": label} for sid, label, *_ in RECTS}
    paths = [INSTANCE_PATHS[sid] for sid, *_ in RECTS]
    occlusion = np.array([(sid + 10, sid, 0.25 * i) for i, (sid, *_) in enumerate(RECTS)], OCCLUSION_DTYPE)
    motion = np.zeros((HEIGHT, WIDTH, 4), np.float32)
    motion[:, :, 0] = 1.5
    return {
        "rgb": rgb,
        "semantic_segmentation": {"data": semantic, "info": {"idToLabels": semantic_labels}},
        "instance_id_segmentation": {
            "data": instance,
            "info": {"idToLabels": {0: "BACKGROUND", **{sid + 10: INSTANCE_PATHS[sid] for sid, *_ in RECTS}}},
        },
        "instance_segmentation": {
            "data": instance,
            "info": {
                "idToLabels": {
                    0: "BACKGROUND",
                    1: "UNLABELLED",
                    **{sid + 10: INSTANCE_PATHS[sid] for sid, *_ in RECTS},
                },
                "idToSemantics": {0: {"class": "BACKGROUND"}, **{sid + 10: {"class": lbl} for sid, lbl, *_ in RECTS}},
            },
        },
        "bounding_box_2d_tight": {
            "data": boxes,
            "info": {"idToLabels": box_labels, "bboxIds": np.arange(len(RECTS)), "primPaths": paths},
        },
        "bounding_box_3d": {
            "data": cube_rows(),
            "info": {"idToLabels": box_labels, "bboxIds": np.arange(1), "primPaths": ["/World/Cube"]},
        },
        "distance_to_image_plane": depth,
        "normals": normals,
        "motion_vectors": motion,
        "occlusion": {"data": occlusion, "info": {}},
        "camera_params": pinhole_params(),
    }


def colorize_ids(ids: np.ndarray, labels: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """What colorize=True produces: RGBA pixels and ``"(r, g, b, a)"`` keys (arbitrary per-run colors)."""
    rng = np.random.default_rng(7)
    rgba = np.zeros((*ids.shape, 4), np.uint8)
    keyed = {}
    for key, label in labels.items():
        color = (0, 0, 0, 0) if int(key) == 0 else (0, 0, 0, 255) if int(key) == 1 else (*rng.integers(0, 256, 3), 255)
        rgba[ids == int(key)] = color
        keyed[f"({color[0]}, {color[1]}, {color[2]}, {color[3]})"] = label
    return rgba, keyed


def write_basic_writer(
    root: Path,
    frames: list[dict[str, Any]],
    *,
    products: list[str] | None = None,
    common_output_dir: bool = False,
    colorize: bool = True,
) -> None:
    """Write ``frames`` in BasicWriter's layout: flat for one product, ``<rp>/<annotator>/`` or
    ``<annotator>/<rp>_`` for several. Every frame is written for every product."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "metadata.txt").write_text(
        json.dumps({"name": "BasicWriter", "version": "0.0.2", "replicator_global_seed:": 1})
    )
    for number, data in enumerate(frames):
        for product in products or [None]:

            def target(annotator: str, file_name: str, product: str | None = product) -> Path:
                if product is None:
                    path = root / file_name
                elif common_output_dir:
                    path = root / annotator / f"{product}_{file_name}"
                else:
                    path = root / product / annotator / file_name
                path.parent.mkdir(parents=True, exist_ok=True)
                return path

            _write_frame(data, number, target, colorize)


def _write_frame(data: dict[str, Any], number: int, target: Any, colorize: bool) -> None:
    n = f"{number:04d}"
    Image.fromarray(data["rgb"], "RGBA").save(target("rgb", f"rgb_{n}.png"))
    seg = data["semantic_segmentation"]
    if colorize:
        rgba, keyed = colorize_ids(seg["data"], seg["info"]["idToLabels"])
    else:
        rgba, keyed = seg["data"].view(np.uint8).reshape(HEIGHT, WIDTH, 4), seg["info"]["idToLabels"]
    Image.fromarray(rgba, "RGBA").save(target("semantic_segmentation", f"semantic_segmentation_{n}.png"))
    target("semantic_segmentation", f"semantic_segmentation_labels_{n}.json").write_text(json.dumps(keyed))
    inst = data["instance_id_segmentation"]
    Image.fromarray(inst["data"].astype(np.uint16)).save(
        target("instance_id_segmentation", f"instance_id_segmentation_{n}.png")
    )
    mapping = {str(k): v for k, v in inst["info"]["idToLabels"].items()}
    target("instance_id_segmentation", f"instance_id_segmentation_mapping_{n}.json").write_text(json.dumps(mapping))
    for kind in ("bounding_box_2d_tight", "bounding_box_3d"):
        box = data[kind]
        np.save(target(kind, f"{kind}_{n}.npy"), box["data"])
        target(kind, f"{kind}_labels_{n}.json").write_text(json.dumps(box["info"]["idToLabels"]))
        target(kind, f"{kind}_prim_paths_{n}.json").write_text(json.dumps(box["info"]["primPaths"]))
    np.save(target("distance_to_image_plane", f"distance_to_image_plane_{n}.npy"), data["distance_to_image_plane"])
    normals = ((data["normals"][:, :, :3] + 1) * 127.5).astype(np.uint8)
    Image.fromarray(normals, "RGB").save(target("normals", f"normals_{n}.png"))
    np.save(target("occlusion", f"occlusion_{n}.npy"), data["occlusion"]["data"])
    target("camera_params", f"camera_params_{n}.json").write_text(json.dumps(data["camera_params"]))
