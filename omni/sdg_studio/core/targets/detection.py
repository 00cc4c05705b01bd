"""Training targets of one frame, computed from its annotator outputs (Replicator's formats), numpy only.

``frame_targets(frame, classes)`` serves the streaming dataset, the recorded-dataset reader and the
training-format writers alike. Objects come from ``instance_segmentation`` (one instance per
labeled prim, its class from ``idToSemantics``); without it, from the ``bounding_box_2d_tight`` rows,
their masks gathered from ``instance_id_segmentation`` (the leaf prims under each box's prim) or
from an instance image without semantics (the instance whose bounds equal the box); with no
segmentation at all the boxes stand alone (no masks).

Boxes are ``(x1, y1, x2, y2)`` in continuous pixel-edge coordinates: a box covers the pixels
``x1 <= x < x2``, ``y1 <= y < y2`` (pixel ``(x, y)`` spans ``[x, x + 1)``), as COCO's
``[x, y, w, h]`` and pycocotools' mask boxes do. Replicator's box rows are inclusive
(``x_max`` is the last column), so ``x2 = x_max + 1``. Wherever a mask exists, the box is its
mask's bounds exactly; objects with an empty mask, no class or a zero-area box are left out.
Objects are ordered by prim path, then box, so the order does not depend on how ids were
numbered (raw ids live, packed colors on disk).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.targets.classes import RESERVED_LABELS, TargetClasses
from omni.sdg_studio.core.visualize.normalize import (
    AnnotatorDataError,
    Segmentation,
    as_image,
    as_rgba,
    parse_label_key,
    segmentation,
    unpack,
)

#: What a caller may ask for besides the image; ``boxes`` (with ``labels``) always comes.
TARGET_KINDS: tuple[str, ...] = ("boxes", "masks", "depth", "semantic", "normals", "occlusion")
_EXTRA_ANNOTATORS = {
    "depth": "distance_to_image_plane",
    "semantic": "semantic_segmentation",
    "normals": "normals",
    "occlusion": "occlusion",
}
#: Ids above this are looked up through ``np.unique`` instead of a dense table (packed RGBA colors).
_DENSE_LIMIT = 1 << 22


class TargetError(SdgStudioError, ValueError):
    """A frame cannot give the targets asked for; the message names the annotator and what is wrong."""


def check_targets(targets: Collection[str]) -> tuple[str, ...]:
    """``targets`` validated, in :data:`TARGET_KINDS` order, ``boxes`` included."""
    unknown = [t for t in targets if t not in TARGET_KINDS]
    if unknown:
        raise TargetError(f"unknown target {', '.join(map(repr, unknown))}; choose from {', '.join(TARGET_KINDS)}")
    return tuple(t for t in TARGET_KINDS if t in targets or t == "boxes")


def target_annotators(targets: Collection[str]) -> tuple[str, ...]:
    """The annotators a renderer must produce for ``targets``: rgb, instance_segmentation and the extras."""
    kinds = check_targets(targets)
    return ("rgb", "instance_segmentation", *(_EXTRA_ANNOTATORS[k] for k in kinds if k in _EXTRA_ANNOTATORS))


@dataclass(frozen=True)
class DetectionTargets:
    """One image and its objects. Arrays are numpy; ``N`` objects, image ``H x W``.

    ``boxes`` (N, 4) float32 pixel-edge ``x1, y1, x2, y2``; ``labels`` (N,) int64 class ids;
    ``masks`` (N, H, W) bool or None; ``depth`` (H, W) float32 distance to the image plane (inf where
    nothing was hit); ``semantic`` (H, W) int64 class id per pixel (0 = none); ``normals`` (H, W, 3)
    float32; ``occlusion`` (N,) float32 occluded fraction per object (NaN where unknown).
    """

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    prim_paths: tuple[str, ...]
    class_names: tuple[str, ...]
    masks: np.ndarray | None = None
    depth: np.ndarray | None = None
    semantic: np.ndarray | None = None
    normals: np.ndarray | None = None
    occlusion: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image."""
        return int(self.image.shape[1]), int(self.image.shape[0])

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class _Object:
    path: str
    class_id: int
    class_name: str
    box: tuple[float, float, float, float]
    mask_index: int  # row in the mask stack, -1 without a mask


def frame_targets(
    frame: Mapping[str, Any],
    classes: TargetClasses,
    targets: Collection[str] = ("boxes", "masks"),
    *,
    min_pixels: int = 1,
) -> DetectionTargets:
    """The training targets of one frame (``{annotator: get_data() result}``); see the module docstring.

    ``min_pixels``: objects with fewer visible pixels are left out (only where masks exist).
    """
    kinds = check_targets(targets)
    image = _image(frame)
    height, width = image.shape[:2]
    want_masks = "masks" in kinds
    objects, stack = _objects(frame, classes, (height, width), want_masks, max(1, min_pixels))
    objects.sort(key=lambda o: (o.path, o.box))
    masks = None
    if want_masks:
        masks = stack[[o.mask_index for o in objects]] if objects else np.zeros((0, height, width), bool)
    return DetectionTargets(
        image=image,
        boxes=np.array([o.box for o in objects], np.float32).reshape(-1, 4),
        labels=np.array([o.class_id for o in objects], np.int64),
        prim_paths=tuple(o.path for o in objects),
        class_names=tuple(o.class_name for o in objects),
        masks=masks,
        depth=_depth(frame, (height, width)) if "depth" in kinds else None,
        semantic=_semantic(frame, classes, (height, width)) if "semantic" in kinds else None,
        normals=_normals(frame, (height, width)) if "normals" in kinds else None,
        occlusion=_occlusion(frame, [o.path for o in objects]) if "occlusion" in kinds else None,
    )


# ---- objects -------------------------------------------------------------------------------------
def _objects(
    frame: Mapping[str, Any], classes: TargetClasses, shape: tuple[int, int], want_masks: bool, min_pixels: int
) -> tuple[list[_Object], np.ndarray]:
    instance = frame.get("instance_segmentation")
    if isinstance(instance, Mapping) and (instance.get("info") or {}).get("idToSemantics"):
        return _from_instances(instance, classes, shape, min_pixels, want_masks)
    boxes = frame.get("bounding_box_2d_tight")
    if boxes is None:
        raise TargetError(
            "the frame needs instance_segmentation (with idToSemantics) or bounding_box_2d_tight to give objects"
        )
    rows = _box_rows(boxes, classes, shape)
    segments = instance if instance is not None else frame.get("instance_id_segmentation")
    if segments is None:
        if want_masks:
            raise TargetError("masks need instance_segmentation or instance_id_segmentation in the frame")
        return [_Object(path, c_id, name, box, -1) for path, c_id, name, box in rows], np.zeros((0, *shape), bool)
    kind = "instance_segmentation" if instance is not None else "instance_id_segmentation"
    return _from_box_rows(rows, _segmentation(kind, segments, shape), min_pixels, want_masks)


def _from_instances(
    value: Mapping[str, Any], classes: TargetClasses, shape: tuple[int, int], min_pixels: int, want_masks: bool
) -> tuple[list[_Object], np.ndarray]:
    """One object per labeled instance of ``instance_segmentation``."""
    seg = _segmentation("instance_segmentation", value, shape)
    semantics: dict[int, Any] = {}
    for key, labels in value["info"]["idToSemantics"].items():
        try:
            semantics[parse_label_key(key)[0]] = labels
        except ValueError as exc:
            raise TargetError(f"instance_segmentation: idToSemantics: {exc}") from exc
    wanted: list[tuple[int, str, int, str]] = []
    for instance_id, path in sorted(seg.labels.items()):
        labels = semantics.get(instance_id)
        if path in RESERVED_LABELS or labels is None:
            continue
        found = classes.resolve(labels)
        if found is not None:
            wanted.append((instance_id, path, found.id, found.name))
    stack, boxes = _masks_and_boxes(seg.ids, [[i] for i, *_ in wanted], min_pixels, keep_masks=want_masks)
    objects = [
        _Object(path, class_id, name, box, k)
        for k, (_, path, class_id, name) in enumerate(wanted)
        if (box := boxes[k]) is not None
    ]
    return objects, stack


def _box_rows(
    value: Any, classes: TargetClasses, shape: tuple[int, int]
) -> list[tuple[str, int, str, tuple[float, float, float, float]]]:
    """``(prim path, class id, class name, edge box)`` of each classed row of a 2D box annotator."""
    data, info = unpack(value)
    rows = np.asarray(data).reshape(-1)
    names = rows.dtype.names or ()
    if not {"semanticId", "x_min", "y_min", "x_max", "y_max"} <= set(names):
        raise TargetError(f"bounding_box_2d_tight: expected Replicator's box rows, got dtype {rows.dtype}")
    labels: dict[int, Any] = {}
    for key, label in (info.get("idToLabels") or {}).items():
        try:
            labels[parse_label_key(key)[0]] = label
        except ValueError as exc:
            raise TargetError(f"bounding_box_2d_tight: idToLabels: {exc}") from exc
    paths = [str(p) for p in (info.get("primPaths") or [])]
    if paths and len(paths) != len(rows):
        raise TargetError(f"bounding_box_2d_tight: {len(paths)} primPaths for {len(rows)} boxes")
    height, width = shape
    out = []
    for n, row in enumerate(rows):
        label = labels.get(int(row["semanticId"]))
        found = classes.resolve(label) if label is not None else None
        if found is None:
            continue
        x1, y1 = max(0, int(row["x_min"])), max(0, int(row["y_min"]))
        x2, y2 = min(width, int(row["x_max"]) + 1), min(height, int(row["y_max"]) + 1)
        if x2 > x1 and y2 > y1:
            out.append((paths[n] if paths else "", found.id, found.name, (float(x1), float(y1), float(x2), float(y2))))
    return out


def _from_box_rows(
    rows: Sequence[tuple[str, int, str, tuple[float, float, float, float]]],
    seg: Segmentation,
    min_pixels: int,
    want_masks: bool,
) -> tuple[list[_Object], np.ndarray]:
    """Masks for box rows: the segments under each row's prim (the deepest row's prim wins). Rows that share a
    prim (point-instancer instances) and rows without a prim path (e.g. KITTI labels) take segments by bounds:
    a segment whose bounds equal the row's box within 1 px, else (shared prims) segments inside the box."""
    groups: list[list[int]] = [[] for _ in rows]
    segments = {i: p for i, p in seg.labels.items() if p not in RESERVED_LABELS}
    ids = sorted(segments)
    _, bounds = _masks_and_boxes(seg.ids, [[i] for i in ids], 1, keep_masks=False)
    segment_box = {i: b for i, b in zip(ids, bounds, strict=True) if b is not None}
    rows_of: dict[str, list[int]] = {}
    for n, (path, *_) in enumerate(rows):
        rows_of.setdefault(path, []).append(n)
    by_bounds: dict[tuple[int, ...], list[int]] = {}  # candidate rows -> segments to place by bounds
    if "" in rows_of:
        by_bounds[tuple(rows_of.pop(""))] = [i for i in ids if i in segment_box]
    for segment_id in ids:
        owner = _owner(segments[segment_id], rows_of) if segment_id in segment_box else None
        if owner is None:
            continue
        if len(rows_of[owner]) == 1:
            groups[rows_of[owner][0]].append(segment_id)
        else:
            by_bounds.setdefault(tuple(rows_of[owner]), []).append(segment_id)
    for candidates, free in by_bounds.items():
        _place_by_bounds(candidates, free, rows, segment_box, groups)
    stack, boxes = _masks_and_boxes(seg.ids, groups, min_pixels, keep_masks=want_masks)
    objects = [
        _Object(path, class_id, name, box, k)
        for k, (path, class_id, name, _) in enumerate(rows)
        if (box := boxes[k]) is not None
    ]
    return objects, stack


def _owner(path: str, rows_by_path: Mapping[str, object]) -> str | None:
    """The prim path among ``rows_by_path`` that is ``path`` or its nearest ancestor."""
    current = path
    while current:
        if current in rows_by_path:
            return current
        current = current.rpartition("/")[0]
    return None


def _place_by_bounds(
    candidates: Sequence[int],
    free: Sequence[int],
    rows: Sequence[tuple[str, int, str, tuple[float, float, float, float]]],
    segment_box: Mapping[int, tuple[float, float, float, float]],
    groups: list[list[int]],
) -> None:
    """Give each row the segment whose bounds equal its box within 1 px; then (rows sharing a prim) give the
    remaining segments to the smallest candidate box that contains them within 1 px."""
    left = dict.fromkeys(free)
    for n in candidates:
        box = rows[n][3]
        best = min(left, key=lambda i: _box_distance(segment_box[i], box), default=None)
        if best is not None and _box_distance(segment_box[best], box) <= 1.0:
            groups[n].append(best)
            del left[best]
    if all(rows[n][0] == "" for n in candidates):
        return
    for segment_id in left:
        inside = [n for n in candidates if _contains(rows[n][3], segment_box[segment_id])]
        if inside:
            groups[min(inside, key=lambda n: _area(rows[n][3]))].append(segment_id)


def _contains(outer: Sequence[float], inner: Sequence[float]) -> bool:
    """``inner`` lies in ``outer``, 1 px of slack on each side."""
    return all(inner[k] >= outer[k] - 1 for k in (0, 1)) and all(inner[k] <= outer[k] + 1 for k in (2, 3))


def _area(box: Sequence[float]) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def _box_distance(a: Sequence[float], b: Sequence[float]) -> float:
    return max(abs(float(x) - float(y)) for x, y in zip(a, b, strict=True))


def _masks_and_boxes(
    ids: np.ndarray, groups: Sequence[Sequence[int]], min_pixels: int, *, keep_masks: bool = True
) -> tuple[np.ndarray, list[tuple[float, float, float, float] | None]]:
    """Per group of segment ids: its mask (stacked, (G, H, W) bool) and pixel-edge bounds (None when it
    has fewer than ``min_pixels`` pixels). Cost O(H*W) for the bounds plus O(G*H*W) for the masks."""
    height, width = ids.shape
    count = len(groups)
    index = _group_index(ids, groups)
    valid = index >= 0
    flat = index[valid]
    pixels = np.bincount(flat, minlength=count)
    rows_hit = np.zeros((count, height), bool)
    cols_hit = np.zeros((count, width), bool)
    ys, xs = np.nonzero(valid)
    rows_hit[flat, ys] = True
    cols_hit[flat, xs] = True
    boxes: list[tuple[float, float, float, float] | None] = []
    for k in range(count):
        if pixels[k] < min_pixels:
            boxes.append(None)
            continue
        y_any, x_any = np.flatnonzero(rows_hit[k]), np.flatnonzero(cols_hit[k])
        boxes.append((float(x_any[0]), float(y_any[0]), float(x_any[-1] + 1), float(y_any[-1] + 1)))
    if not keep_masks or count == 0:
        return np.zeros((0, height, width), bool), boxes
    stack = index[None, :, :] == np.arange(count, dtype=index.dtype)[:, None, None]
    return stack, boxes


def _group_index(ids: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """(H, W) int32: the group each pixel's id belongs to, -1 for none."""
    members = {int(i): k for k, group in enumerate(groups) for i in group}
    if not members:
        return np.full(ids.shape, -1, np.int32)
    top = int(ids.max(initial=0))
    if top < _DENSE_LIMIT:
        lut = np.full(max(top, max(members)) + 1, -1, np.int32)
        for segment_id, k in members.items():
            if segment_id >= 0:
                lut[segment_id] = k
        return np.take(lut, ids)
    values, inverse = np.unique(ids, return_inverse=True)
    lut = np.array([members.get(int(v), -1) for v in values], np.int32)
    return lut[inverse.reshape(ids.shape)]


# ---- pixels ---------------------------------------------------------------------------------------
def _image(frame: Mapping[str, Any]) -> np.ndarray:
    if "rgb" not in frame:
        raise TargetError("the frame has no rgb annotator output")
    try:
        return np.ascontiguousarray(as_rgba("rgb", frame["rgb"])[:, :, :3])
    except AnnotatorDataError as exc:
        raise TargetError(str(exc)) from exc


def _segmentation(name: str, value: Any, shape: tuple[int, int]) -> Segmentation:
    try:
        seg = segmentation(name, value)
    except AnnotatorDataError as exc:
        raise TargetError(str(exc)) from exc
    if seg.ids.shape != shape:
        size = f"{seg.ids.shape[1]}x{seg.ids.shape[0]}"
        raise TargetError(f"{name}: size {size} differs from rgb ({shape[1]}x{shape[0]})")
    return seg


def _pixel_map(frame: Mapping[str, Any], name: str, shape: tuple[int, int], target: str) -> np.ndarray:
    if name not in frame:
        raise TargetError(f"target '{target}' needs the {name} annotator in the frame")
    try:
        data = as_image(name, unpack(frame[name])[0])
    except AnnotatorDataError as exc:
        raise TargetError(str(exc)) from exc
    if data.shape[:2] != shape:
        raise TargetError(f"{name}: size {data.shape[1]}x{data.shape[0]} differs from rgb ({shape[1]}x{shape[0]})")
    return data


def _depth(frame: Mapping[str, Any], shape: tuple[int, int]) -> np.ndarray:
    depth = _pixel_map(frame, "distance_to_image_plane", shape, "depth")
    if depth.ndim != 2:
        raise TargetError(f"distance_to_image_plane: shape {depth.shape}, expected (H, W)")
    return depth.astype(np.float32, copy=False)


def _normals(frame: Mapping[str, Any], shape: tuple[int, int]) -> np.ndarray:
    normals = _pixel_map(frame, "normals", shape, "normals")
    if normals.ndim != 3 or normals.shape[2] < 3 or not np.issubdtype(normals.dtype, np.floating):
        raise TargetError(f"normals: shape {normals.shape} dtype {normals.dtype}, expected float (H, W, 4)")
    return np.ascontiguousarray(normals[:, :, :3], dtype=np.float32)


def _semantic(frame: Mapping[str, Any], classes: TargetClasses, shape: tuple[int, int]) -> np.ndarray:
    """Class id per pixel from ``semantic_segmentation`` (0 where no class)."""
    if "semantic_segmentation" not in frame:
        raise TargetError("target 'semantic' needs the semantic_segmentation annotator in the frame")
    value = frame["semantic_segmentation"]
    seg = _segmentation("semantic_segmentation", value, shape)
    table: dict[int, int] = {}
    for key, labels in value["info"]["idToLabels"].items():
        found = classes.resolve(labels)
        if found is not None:
            table[parse_label_key(key)[0]] = found.id
    groups: dict[int, list[int]] = {}
    for segment_id, class_id in table.items():
        groups.setdefault(class_id, []).append(segment_id)
    order = sorted(groups)
    index = _group_index(seg.ids, [groups[c] for c in order])
    lut = np.array([0, *order], np.int64)
    return lut[index + 1]


def _occlusion(frame: Mapping[str, Any], paths: Sequence[str]) -> np.ndarray:
    """Occluded fraction per object, matched by prim path from ``occlusion`` (or the tight boxes)."""
    out = np.full(len(paths), np.nan, np.float32)
    for name in ("occlusion", "bounding_box_2d_tight"):
        value = frame.get(name)
        if value is None:
            continue
        data, info = unpack(value)
        rows = np.asarray(data).reshape(-1)
        prim_paths = [str(p) for p in (info.get("primPaths") or [])]
        if "occlusionRatio" not in (rows.dtype.names or ()) or len(prim_paths) != len(rows):
            continue
        ratio = dict(zip(prim_paths, rows["occlusionRatio"].astype(np.float32).tolist(), strict=True))
        return np.array([ratio.get(p, np.nan) for p in paths], np.float32)
    if paths:
        raise TargetError("target 'occlusion' needs the occlusion annotator (with primPaths) or bounding_box_2d_tight")
    return out
