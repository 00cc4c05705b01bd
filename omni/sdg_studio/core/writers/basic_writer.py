"""A writer that writes what Replicator's ``BasicWriter`` writes, file for file.

Layout (recorder_writers.md section 3): ``<annotator>_<frame>.<ext>`` with the frame number
zero-padded to ``frame_padding``; one render product writes flat into ``output_dir``, several
write ``<rp>/<annotator>/<file>`` or, with ``use_common_output_dir``, ``<annotator>/<rp>_<file>``;
``metadata.txt`` once in ``output_dir``. Segmentation PNGs are colorized with stable colors
(class colors from the :class:`ClassTable`, prim-path hashes for instances) and their label maps
keyed ``"(r, g, b, a)"``; uncolorized ids are written as 16-bit grayscale PNGs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.colors import RGBA, paint_ids, rgba_key
from omni.sdg_studio.core.writers.base import AnnotatorRequest, FrameBatch
from omni.sdg_studio.core.writers.colorize import (
    depth_to_gray,
    instance_palette,
    normals_to_rgba,
    semantic_palette,
)
from omni.sdg_studio.core.writers.encode import ImageFormat, image_bytes, json_bytes, write_npy
from omni.sdg_studio.core.writers.file_writer import (
    FileWriter,
    FrameDataError,
    checked_frame_padding,
    checked_image_format,
    resolve_semantic_types,
)
from omni.sdg_studio.core.writers.params import WriterParamError

#: Each annotator flag, in the order BasicWriter attaches them, and the method that writes its files.
_WRITE_METHODS: dict[str, str] = {
    "rgb": "_write_rgb",
    "bounding_box_2d_tight": "_write_boxes",
    "bounding_box_2d_loose": "_write_boxes",
    "semantic_segmentation": "_write_semantic",
    "instance_id_segmentation": "_write_instance_id",
    "instance_segmentation": "_write_instance",
    "distance_to_camera": "_write_depth",
    "distance_to_image_plane": "_write_depth",
    "bounding_box_3d": "_write_boxes",
    "motion_vectors": "_write_npy",
    "occlusion": "_write_npy",
    "normals": "_write_normals",
    "camera_params": "_write_camera_params",
    "pointcloud": "_write_pointcloud",
}
#: The annotator flags in the order BasicWriter attaches them.
ANNOTATOR_FLAGS: tuple[str, ...] = tuple(_WRITE_METHODS)
#: Point cloud side files: (file stem suffix, info key, reshaped to (N, 4)).
_POINTCLOUD_PARTS = (
    ("rgb", "pointRgb", True),
    ("normals", "pointNormals", True),
    ("semantic", "pointSemantic", False),
    ("instance", "pointInstance", False),
)
_MAX_ID_PNG = np.iinfo(np.uint16).max


def id_png(ids: np.ndarray, what: str, hint: str) -> bytes:
    """Uncolorized ids as a 16-bit grayscale PNG (PNG has no 32-bit gray); refuse ids that do not fit."""
    top = int(ids.max(initial=0))
    if top > _MAX_ID_PNG:
        raise FrameDataError(f"{what}: ids up to {top} do not fit a 16-bit PNG; set {hint}=True")
    return image_bytes(ids.astype(np.uint16))


def _info(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return value.get("info") or {}


class BasicWriter(FileWriter):
    """Replicator's BasicWriter: one file set per annotator, render product and frame.

    Args:
        s3_bucket: S3 output is not available in the embedded writers; must stay unset.
        s3_region: Accepted for compatibility with Replicator configs (unused).
        s3_endpoint: Accepted for compatibility with Replicator configs (unused).
        semantic_types: Semantic types whose labels are written (default ``["class"]``).
        rgb: Write ``rgb`` images (format from image_output_format).
        bounding_box_2d_tight: Write tight 2D boxes (visible pixels): npy + labels json + prim paths json.
        bounding_box_2d_loose: Write loose 2D boxes (full projected extent): npy + labels json + prim paths json.
        semantic_segmentation: Write the semantic segmentation PNG and its label map json.
        instance_id_segmentation: Write the per-leaf-prim instance id PNG and its mapping json.
        instance_segmentation: Write the per-labeled-prim instance PNG, its mapping and semantics mapping json.
        distance_to_camera: Write distances to the camera centre (float32 npy, metres; inf = no hit).
        distance_to_image_plane: Write depths along the view axis (float32 npy, metres; inf = no hit).
        bounding_box_3d: Write 3D boxes (local extents + local-to-world transform): npy + labels + prim paths.
        occlusion: Write per-instance occlusion ratios (npy).
        normals: Write surface normals as a colorized PNG.
        motion_vectors: Write motion vectors (float32 npy).
        camera_params: Write camera parameters (json).
        pointcloud: Write the point cloud: points, rgb, normals, semantic and instance npy files.
        pointcloud_include_unlabelled: Include points of unlabelled prims in the point cloud.
        image_output_format: File format of rgb images.
        colorize_semantic_segmentation: Write semantic segmentation as RGBA colors (else 16-bit ids).
        colorize_instance_id_segmentation: Write instance id segmentation as RGBA colors (else 16-bit ids).
        colorize_instance_segmentation: Write instance segmentation as RGBA colors (else 16-bit ids).
        colorize_depth: Also write a grayscale PNG preview of each depth npy (log scale, near is bright).
        skeleton_data: Skeleton annotations are not available in the embedded backend; must stay False.
        frame_padding: Digits of the zero-padded frame number in file names.
        semantic_filter_predicate: Semantic types as a predicate, e.g. ``class:*; coco:*`` (excludes semantic_types).
        use_common_output_dir: With several render products, write ``<annotator>/<rp>_<file>`` instead of
            ``<rp>/<annotator>/<file>``.
    """

    name = "BasicWriter"
    version = "0.0.2"
    compat_params = frozenset({"s3_bucket", "s3_region", "s3_endpoint", "skeleton_data"})

    def __init__(
        self,
        output_dir: str | os.PathLike[str] | None = None,
        s3_bucket: str | None = None,
        s3_region: str | None = None,
        s3_endpoint: str | None = None,
        semantic_types: list[str] | None = None,
        rgb: bool = False,
        bounding_box_2d_tight: bool = False,
        bounding_box_2d_loose: bool = False,
        semantic_segmentation: bool = False,
        instance_id_segmentation: bool = False,
        instance_segmentation: bool = False,
        distance_to_camera: bool = False,
        distance_to_image_plane: bool = False,
        bounding_box_3d: bool = False,
        occlusion: bool = False,
        normals: bool = False,
        motion_vectors: bool = False,
        camera_params: bool = False,
        pointcloud: bool = False,
        pointcloud_include_unlabelled: bool = False,
        image_output_format: ImageFormat = "png",
        colorize_semantic_segmentation: bool = True,
        colorize_instance_id_segmentation: bool = True,
        colorize_instance_segmentation: bool = True,
        colorize_depth: bool = False,
        skeleton_data: bool = False,
        frame_padding: int = 4,
        semantic_filter_predicate: str | None = None,
        use_common_output_dir: bool = False,
        *,
        seed: int = 0,
        classes: ClassTable | None = None,
        resume: bool = False,
        workers: int | None = None,
        max_frames_in_flight: int = 4,
    ) -> None:
        flags = locals()  # the annotator flags are constructor parameters named as in ANNOTATOR_FLAGS
        super().__init__(
            output_dir,
            seed=seed,
            classes=classes,
            resume=resume,
            workers=workers,
            max_frames_in_flight=max_frames_in_flight,
            s3_bucket=s3_bucket,
        )
        if skeleton_data:
            raise WriterParamError(
                self.name, "skeleton_data", "skeleton annotations are not available in the embedded backend"
            )
        self.image_output_format = checked_image_format(self.name, image_output_format)
        self.frame_padding = checked_frame_padding(self.name, frame_padding)
        self.semantic_types = resolve_semantic_types(self.name, semantic_types, semantic_filter_predicate)
        self.enabled: tuple[str, ...] = tuple(name for name in ANNOTATOR_FLAGS if flags[name])
        if not self.enabled:
            some = ", ".join(ANNOTATOR_FLAGS[:3])
            message = f"every annotator is off, so nothing would be written; turn one on ({some}, ...)"
            raise WriterParamError(self.name, None, message)
        self.colorize = {
            "semantic_segmentation": colorize_semantic_segmentation,
            "instance_id_segmentation": colorize_instance_id_segmentation,
            "instance_segmentation": colorize_instance_segmentation,
        }
        self.colorize_depth = colorize_depth
        self.pointcloud_include_unlabelled = pointcloud_include_unlabelled
        self.use_common_output_dir = use_common_output_dir
        self._metadata_written = False
        self._requests = tuple(
            AnnotatorRequest(
                name,
                semantic_types=self.semantic_types,
                include_unlabelled=name == "pointcloud" and pointcloud_include_unlabelled,
            )
            for name in self.enabled
        )
        self._writers: dict[str, Callable[[Any, str, str, str], None]] = {
            name: getattr(self, method) for name, method in _WRITE_METHODS.items()
        }

    @property
    def annotators(self) -> tuple[AnnotatorRequest, ...]:
        """One request per enabled flag; segmentation arrives as raw ids and is colorized here."""
        return self._requests

    # -- layout ---------------------------------------------------------------------------------
    def file_prefix(self, rp_name: str, annotator: str, several: bool) -> str:
        """The path prefix of an annotator's files: ``""``, ``<rp>/<annotator>/`` or ``<annotator>/<rp>_``."""
        if not several:
            return ""
        return f"{annotator}/{rp_name}_" if self.use_common_output_dir else f"{rp_name}/{annotator}/"

    def write_frame(self, batch: FrameBatch) -> None:
        if not self._metadata_written:
            metadata = {"name": self.name, "version": self.version, "replicator_global_seed:": self.seed}
            self.schedule_file("metadata.txt", lambda: json_bytes(metadata))
            self._metadata_written = True
        stamp = f"{batch.index:0{self.frame_padding}d}"
        several = len(batch.products) > 1
        for rp_name, frame in batch.products.items():
            for annotator in self.enabled:
                prefix = self.file_prefix(rp_name, annotator, several)
                self._writers[annotator](frame[annotator], prefix, stamp, annotator)

    # -- one method per annotator kind (caller thread: cheap lookups; workers: encoding) ------------
    def _file(self, prefix: str, stem: str, stamp: str, ext: str, produce: Callable[[], bytes]) -> None:
        self.schedule_file(f"{prefix}{stem}_{stamp}.{ext}", produce)

    def _npy(self, prefix: str, stem: str, stamp: str, data: np.ndarray) -> None:
        self.schedule_stream(f"{prefix}{stem}_{stamp}.npy", lambda handle: write_npy(handle, data))

    def _write_rgb(self, data: np.ndarray, prefix: str, stamp: str, name: str) -> None:
        fmt = self.image_output_format
        self._file(prefix, name, stamp, fmt, lambda: image_bytes(data, fmt))

    def _write_npy(self, value: Any, prefix: str, stamp: str, name: str) -> None:
        data = value["data"] if isinstance(value, Mapping) else value
        self._npy(prefix, name, stamp, data)

    def _write_depth(self, data: np.ndarray, prefix: str, stamp: str, name: str) -> None:
        self._npy(prefix, name, stamp, data)
        if self.colorize_depth:
            self._file(prefix, name, stamp, "png", lambda: image_bytes(depth_to_gray(data)))

    def _write_normals(self, data: np.ndarray, prefix: str, stamp: str, name: str) -> None:
        self._file(prefix, name, stamp, "png", lambda: image_bytes(normals_to_rgba(data)))

    def _write_camera_params(self, value: Mapping[str, Any], prefix: str, stamp: str, name: str) -> None:
        params = dict(value)
        self._file(prefix, name, stamp, "json", lambda: json_bytes(params))

    def _write_boxes(self, value: Mapping[str, Any], prefix: str, stamp: str, name: str) -> None:
        info = _info(value)
        data, labels, paths = value["data"], info["idToLabels"], list(info["primPaths"])
        self._npy(prefix, name, stamp, data)
        self._file(prefix, f"{name}_labels", stamp, "json", lambda: json_bytes(labels))
        self._file(prefix, f"{name}_prim_paths", stamp, "json", lambda: json_bytes(paths))

    @staticmethod
    def _segmentation_image(data: np.ndarray, palette: Mapping[int, RGBA] | None, name: str) -> Callable[[], bytes]:
        if data.ndim == 3:  # already colorized by the backend
            return lambda: image_bytes(data)
        if palette is not None:
            return lambda: image_bytes(paint_ids(data, palette))
        return lambda: id_png(data, name, f"colorize_{name}")

    @staticmethod
    def _keyed(mapping: Mapping[Any, Any], palette: Mapping[int, Any] | None) -> dict[str, Any]:
        if palette is None:
            return {str(key): value for key, value in mapping.items()}
        keyed = {}
        for key, value in mapping.items():
            color = palette.get(int(key))
            keyed[rgba_key(color) if color is not None else str(key)] = value
        return keyed

    def _palette_for(self, name: str, data: np.ndarray, make: Callable[[], dict[int, Any]]) -> dict[int, Any] | None:
        return make() if self.colorize[name] and data.ndim == 2 else None

    def _write_semantic(self, value: Mapping[str, Any], prefix: str, stamp: str, name: str) -> None:
        data, labels = value["data"], _info(value)["idToLabels"]
        palette = self._palette_for(name, data, lambda: semantic_palette(labels, self.classes, self.semantic_types))
        self._file(prefix, name, stamp, "png", self._segmentation_image(data, palette, name))
        keyed = self._keyed(labels, palette)
        self._file(prefix, f"{name}_labels", stamp, "json", lambda: json_bytes(keyed))

    def _write_instance_id(self, value: Mapping[str, Any], prefix: str, stamp: str, name: str) -> None:
        data, paths = value["data"], _info(value)["idToLabels"]
        palette = self._palette_for(name, data, lambda: instance_palette(paths))
        self._file(prefix, name, stamp, "png", self._segmentation_image(data, palette, name))
        keyed = self._keyed(paths, palette)
        self._file(prefix, f"{name}_mapping", stamp, "json", lambda: json_bytes(keyed))

    def _write_instance(self, value: Mapping[str, Any], prefix: str, stamp: str, name: str) -> None:
        info = _info(value)
        data, paths, semantics = value["data"], info["idToLabels"], info["idToSemantics"]
        palette = self._palette_for(name, data, lambda: instance_palette(paths))
        self._file(prefix, name, stamp, "png", self._segmentation_image(data, palette, name))
        keyed_paths, keyed_semantics = self._keyed(paths, palette), self._keyed(semantics, palette)
        self._file(prefix, f"{name}_mapping", stamp, "json", lambda: json_bytes(keyed_paths))
        self._file(prefix, f"{name}_semantics_mapping", stamp, "json", lambda: json_bytes(keyed_semantics))

    def _write_pointcloud(self, value: Mapping[str, Any], prefix: str, stamp: str, name: str) -> None:
        info = _info(value)
        missing = [key for key in ("pointRgb", "pointNormals", "pointSemantic", "pointInstance") if key not in info]
        if missing:
            raise FrameDataError(f"pointcloud: info lacks {missing}")
        points = value["data"]
        self._npy(prefix, name, stamp, points)
        for suffix, key, four_wide in _POINTCLOUD_PARTS:
            part = np.asarray(info[key])
            part = part.reshape(-1, 4) if four_wide else part
            self._npy(prefix, f"{name}_{suffix}", stamp, part)
