"""Replicator's annotators computed from one cast: every output in Replicator's ``get_data()`` layout.

A :class:`FrameData` holds the first hit per pixel and computes what the requested annotators
share (normals, ids, per-object pixel counts) once, lazily. ``occlusionRatio`` of a labeled object
is ``1 - visible pixels / pixels it covers when rendered alone`` (both counted inside the image, so
leaving the frame is not occlusion); it is -1 for a labeled prim with labeled descendants.
Bounding boxes are inclusive pixel indices: ``x_max`` is the last column the object covers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from pxr import Usd, UsdGeom

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.coplanar import CoplanarGroups
from omni.sdg_studio.backends.embedded.engines import Hits, RayEngine, TriangleSoup, WorldMesh
from omni.sdg_studio.backends.embedded.labels import LabelTables
from omni.sdg_studio.backends.embedded.lighting import Lighting, irradiance, to_srgb8
from omni.sdg_studio.backends.embedded.scene import SceneGeometry
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


@dataclass
class SceneState:
    """What a frame needs from the scene at one transform state: geometries, engine, lookups."""

    stage: Usd.Stage
    time: Usd.TimeCode
    geometries: Sequence[SceneGeometry]
    meshes: Sequence[WorldMesh]
    soup: TriangleSoup
    engine: RayEngine
    #: Base color per geometry slot (slot 0: background), linear float32 (G + 1, 3).
    albedo: np.ndarray
    #: Object-local extents, keyed by (taxonomies, object index); valid while transforms stay.
    extents: dict[tuple[tuple[str, ...], int], tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: Object world bounds per taxonomies; valid while transforms stay.
    _object_bounds: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False)

    @cached_property
    def coplanar(self) -> CoplanarGroups:
        """Triangles sharing a plane with other prims' triangles (for deterministic z-fighting)."""
        return CoplanarGroups.build(self.meshes, self.soup)

    @cached_property
    def bounds(self) -> np.ndarray:
        """World-space axis-aligned bounds of every geometry (G, 2, 3)."""
        out = np.zeros((len(self.meshes), 2, 3))
        for g, mesh in enumerate(self.meshes):
            out[g, 0], out[g, 1] = mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)
        return out

    def object_bounds(self, tables: LabelTables) -> np.ndarray:
        """World-space bounds (O, 2, 3) of every labeled object of ``tables``."""
        key = tables.taxonomies
        found = self._object_bounds.get(key)
        if found is None:
            owner, member = tables.memberships
            found = np.empty((len(tables.objects), 2, 3))
            found[:, 0] = np.inf
            found[:, 1] = -np.inf
            np.minimum.at(found[:, 0], owner, self.bounds[member, 0])
            np.maximum.at(found[:, 1], owner, self.bounds[member, 1])
            self._object_bounds[key] = found
        return found

    def object_to_world(self, path: str, member: SceneGeometry) -> np.ndarray:
        """World transform of the labeled prim ``path`` above (or at) its geometry ``member``.

        A point instance's frame is its prototype root placed by the instance transform.
        """
        if member.instance is not None and member.relative is not None:
            return np.linalg.inv(member.relative) @ member.local_to_world
        if path == member.path:
            return member.local_to_world
        prim = self.stage.GetPrimAtPath(path)
        return np.array(UsdGeom.XformCache(self.time).GetLocalToWorldTransform(prim), np.float64).reshape(4, 4)


@dataclass
class ObjectStats:
    """Pixel statistics of the labeled objects in one frame (arrays indexed by object)."""

    visible: np.ndarray
    covered: np.ndarray
    tight: np.ndarray
    loose: np.ndarray
    occlusion: np.ndarray


class FrameData:
    """One camera's first hits and everything derived from them."""

    def __init__(
        self,
        camera: PinholeCamera,
        hits: Hits,
        scene: SceneState,
        tables: LabelTables,
        lighting: Callable[[], Lighting],
        colorize: bool,
    ) -> None:
        self.camera = camera
        self.hits = hits
        self.scene = scene
        self.tables = tables
        self._lighting = lighting
        self.colorize = colorize
        self.shape = (camera.height, camera.width)

    # ---- shared per-pixel data -------------------------------------------------------------
    @cached_property
    def hit(self) -> np.ndarray:
        return self.hits.geometry >= 0

    @cached_property
    def slot(self) -> np.ndarray:
        """Geometry index + 1 per pixel, 0 on a miss (also the instance_id_segmentation id)."""
        return (self.hits.geometry + 1).astype(np.uint32)

    @cached_property
    def rays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.camera.world_rays()

    @cached_property
    def hit_rows(self) -> np.ndarray:
        """Triangle-table row of every hit pixel (n_hit,)."""
        return self.scene.soup.rows(self.hits.geometry[self.hit], self.hits.triangle[self.hit])

    @cached_property
    def all_rows(self) -> np.ndarray:
        """Triangle-table row of every pixel; misses get the sentinel row T."""
        rows = np.full(self.hit.size, self.scene.soup.count, np.int64)
        rows[self.hit] = self.hit_rows
        return rows

    @cached_property
    def present(self) -> tuple[np.ndarray, np.ndarray]:
        """Triangle rows seen in this frame (P,) and, per pixel, its index into them (misses: P).

        Per-triangle work (facing normals, shading) is then done once per seen triangle, and each
        pixel only gathers from the small tables.
        """
        count = self.scene.soup.count
        if count <= self.hit_rows.size:
            return np.arange(count), self.all_rows
        seen = np.zeros(count, bool)
        seen[self.hit_rows] = True
        present = np.flatnonzero(seen)
        remap = np.full(count + 1, len(present), np.int64)
        remap[present] = np.arange(len(present))
        return present, remap[self.all_rows]

    @cached_property
    def facing_table(self) -> np.ndarray:
        """Unit normal of every seen triangle turned towards the camera (P, 3) float32.

        All rays leave the camera position, so a triangle faces the camera on all its pixels or on none.
        """
        soup = self.scene.soup
        rows = self.present[0]
        everything = len(rows) == soup.count
        normals = soup.normals if everything else soup.normals[rows]
        offsets = soup.plane_offsets if everything else soup.plane_offsets[rows]
        away = offsets - normals @ self.camera.position > 0
        unit = soup.unit_normals if everything else soup.unit_normals[rows]
        return unit * np.where(away, np.float32(-1.0), np.float32(1.0))[:, None]

    @cached_property
    def pixel_normals(self) -> np.ndarray:
        """World-space unit normal of every pixel (H*W, 3) float32, facing the camera; zero on misses."""
        table = np.zeros((len(self.present[0]) + 1, 3), np.float32)
        table[:-1] = self.facing_table
        return table[self.present[1]]

    @cached_property
    def normals(self) -> np.ndarray:
        """World-space unit normals of hit pixels (n_hit, 3), facing the camera."""
        return self.pixel_normals[self.hit]

    @cached_property
    def points(self) -> np.ndarray:
        """World-space hit points (n_hit, 3) float32."""
        dirs = self.rays[0][self.hit]
        return (self.camera.position.astype(np.float32) + dirs * self.hits.distance[self.hit, None]).astype(np.float32)

    @cached_property
    def lowest_object(self) -> np.ndarray:
        """Index of the lowest labeled object owning each pixel, -1 for none (H*W,)."""
        lut = np.concatenate([[-1], self.tables.object_of_geometry])
        return lut[self.slot]

    @cached_property
    def semantic_ids(self) -> np.ndarray:
        return self.tables.semantic_lut[self.slot]

    @cached_property
    def instance_ids(self) -> np.ndarray:
        return self.tables.instance_lut[self.slot]

    @cached_property
    def rgba(self) -> np.ndarray:
        lighting = self._lighting()
        background = to_srgb8(lighting.background.astype(np.float32))
        soup = self.scene.soup
        if not len(lighting.point_positions):
            rows, index = self.present
            table = np.empty((len(rows) + 1, 4), np.uint8)
            albedo = self.scene.albedo[soup.row_geometry[rows] + 1]
            table[:-1, :3] = to_srgb8(albedo * irradiance(lighting, self.facing_table, None))
            table[-1, :3] = background
            table[:, 3] = 255
            # One 4-byte gather per pixel.
            return table.view(np.uint32)[index].view(np.uint8).reshape(*self.shape, 4)
        # Positional lights: shade per pixel.
        out = np.empty((self.hit.size, 4), np.uint8)
        out[:, 3] = 255
        points = (
            self.camera.position.astype(np.float32)
            + self.rays[0] * np.where(self.hit, self.hits.distance, 0.0).astype(np.float32)[:, None]
        )
        light = irradiance(lighting, self.pixel_normals, points)
        color = self.scene.albedo[self.slot] * light
        out[:, :3] = np.where(self.hit[:, None], to_srgb8(color), background)
        return out.reshape(*self.shape, 4)

    # ---- labeled objects -------------------------------------------------------------------
    @cached_property
    def object_stats(self) -> ObjectStats:
        """Visible and alone-covered pixel counts and boxes of every labeled object.

        "Alone" coverage casts rays against the object only, and only where it could hide: pixels of
        its projected bounds that it does not own and whose first hit is nearer than its farthest point.
        """
        objects = self.tables.objects
        count = len(objects)
        width = self.camera.width
        if not count:
            none = np.zeros(0, np.int64)
            boxes = np.zeros((0, 4), np.int64)
            return ObjectStats(none, none, boxes, boxes, np.zeros(0, np.float32))
        owner, member = self.tables.memberships
        counts, boxes = _geometry_pixel_boxes(self.hits.geometry, self.tables.object_of_geometry >= 0, width)
        visible = np.bincount(owner, weights=counts[member], minlength=count).astype(np.int64)
        tight = _union_by(owner, boxes[member], counts[member] > 0, count)
        bounds = self.scene.object_bounds(self.tables)
        windows, farthest = _object_windows(self.camera, bounds)
        owner_of_ray, pixels = _window_pixels(windows, width)
        # Candidates: pixels the object does not own whose first hit comes before the ray leaves the
        # object's bounds (where the object could be hidden). Cheapest tests first.
        distance = self.hits.distance
        keep = distance[pixels] <= farthest[owner_of_ray]
        keep &= self.lowest_object[pixels] != owner_of_ray
        nested = np.array([o.has_labeled_descendants for o in objects])
        check = keep & nested[owner_of_ray]
        if check.any():  # a labeled prim with labeled descendants also owns its descendants' pixels
            slots = len(self.scene.geometries) + 1
            keys = owner_of_ray[check] * slots + self.slot[pixels[check]]
            keep[check] = ~np.isin(keys, owner * slots + member + 1)
        owner_of_ray, pixels = owner_of_ray[keep], pixels[keep]
        keep = distance[pixels] <= _bounds_exit(self.camera, self.rays[0][pixels], bounds[owner_of_ray])
        owner_of_ray, pixels = owner_of_ray[keep], pixels[keep]
        groups = [o.geometries for o in objects]
        extra = self.scene.engine.covers(self.camera, groups, owner_of_ray, pixels)
        covered = visible + np.bincount(owner_of_ray[extra], minlength=count)
        rows, cols = np.divmod(pixels[extra], width)
        found = _union_by(
            owner_of_ray[extra], np.stack([cols, rows, cols, rows], axis=1), np.ones(len(rows), bool), count
        )
        both = np.stack([tight, found])
        known = both[:, :, 0] >= 0
        big = np.iinfo(np.int64).max
        loose = np.stack(
            [
                np.where(known, both[:, :, 0], big).min(axis=0),
                np.where(known, both[:, :, 1], big).min(axis=0),
                both[:, :, 2].max(axis=0),
                both[:, :, 3].max(axis=0),
            ],
            axis=1,
        )
        loose[~known.any(axis=0)] = -1
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(covered > 0, 1.0 - visible / np.maximum(covered, 1), 1.0)
        ratio = np.clip(ratio, 0.0, 1.0)
        ratio[np.array([o.has_labeled_descendants for o in objects])] = -1.0
        return ObjectStats(visible, covered, tight, loose, ratio.astype(np.float32))

    def object_frame(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(local min (3,), local max (3,), local-to-world (4, 4)) of labeled object ``index``."""
        key = (self.tables.taxonomies, index)
        cached = self.scene.extents.get(key)
        if cached is None:
            obj = self.tables.objects[index]
            first = self.scene.geometries[obj.geometries[0]]
            frame = self.scene.object_to_world(obj.path, first)
            inverse = np.linalg.inv(frame)
            local = np.concatenate(
                [
                    self.scene.meshes[g].vertices.astype(np.float64) @ inverse[:3, :3] + inverse[3, :3]
                    for g in obj.geometries
                ]
            )
            cached = (local.min(axis=0), local.max(axis=0), frame)
            self.scene.extents[key] = cached
        return cached


def _union_by(owner: np.ndarray, boxes: np.ndarray, valid: np.ndarray, count: int) -> np.ndarray:
    """Union of inclusive pixel ``boxes`` (n, 4) per ``owner`` index; -1 rows where an owner has none."""
    out = np.empty((count, 4), np.int64)
    out[:, :2] = np.iinfo(np.int64).max
    out[:, 2:] = -1
    owner, boxes = owner[valid], boxes[valid]
    np.minimum.at(out[:, 0], owner, boxes[:, 0])
    np.minimum.at(out[:, 1], owner, boxes[:, 1])
    np.maximum.at(out[:, 2], owner, boxes[:, 2])
    np.maximum.at(out[:, 3], owner, boxes[:, 3])
    out[out[:, 2] < 0] = -1
    return out


def _geometry_pixel_boxes(geometry: np.ndarray, labeled: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Visible pixel count (G,) and inclusive pixel box (G, 4) of every ``labeled`` geometry."""
    count = len(labeled)
    hit = np.flatnonzero(geometry >= 0)
    hit = hit[labeled[geometry[hit]]]
    g = geometry[hit]
    rows, cols = np.divmod(hit, width)
    counts = np.bincount(g, minlength=count)
    boxes = np.empty((count, 4), np.int64)
    boxes[:, :2] = np.iinfo(np.int64).max
    boxes[:, 2:] = -1
    np.minimum.at(boxes[:, 0], g, cols)
    np.minimum.at(boxes[:, 1], g, rows)
    np.maximum.at(boxes[:, 2], g, cols)
    np.maximum.at(boxes[:, 3], g, rows)
    boxes[counts == 0] = -1
    return counts, boxes


def _bounds_exit(camera: PinholeCamera, dirs: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Distance at which each ray (unit ``dirs`` from the camera) leaves its box (n, 2, 3); -inf if it misses it."""
    near = np.full(len(dirs), -np.inf, np.float32)
    far = np.full(len(dirs), np.inf, np.float32)
    origin = camera.position.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis in range(3):
            inverse = np.float32(1.0) / dirs[:, axis]
            t0 = (bounds[:, 0, axis].astype(np.float32) - origin[axis]) * inverse
            t1 = (bounds[:, 1, axis].astype(np.float32) - origin[axis]) * inverse
            near = np.fmax(near, np.fmin(t0, t1))
            far = np.fmin(far, np.fmax(t0, t1))
    far += np.float32(1e-5) * np.maximum(np.abs(far), np.float32(1.0))  # float32 rounding slack
    return np.where((near <= far) & (far >= 0), far, np.float32(-np.inf))


def _window_pixels(windows: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(window index, flat pixel index) of every pixel of every window (rows of -1 are skipped)."""
    index = np.flatnonzero(windows[:, 0] >= 0)
    x0, y0, x1, y1 = windows[index].T
    w, h = x1 - x0, y1 - y0
    sizes = w * h
    owner = np.repeat(index, sizes)
    local = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    k = np.repeat(np.arange(len(index)), sizes)
    rows, cols = np.divmod(local, w[k])
    return owner, (rows + y0[k]) * width + cols + x0[k]


_CORNERS = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], bool)


def _object_windows(camera: PinholeCamera, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel window (x0, y0, x1, y1), exclusive ends, of each object's projected bounds (O, 2, 3).

    Rows are -1 for objects outside the view; an object reaching behind the near plane gets the
    whole image. Also returns each object's farthest possible distance from the camera (O,).
    """
    count = len(bounds)
    corners = np.where(_CORNERS[None], bounds[:, 1][:, None, :], bounds[:, 0][:, None, :]).reshape(-1, 3)
    xy, depth = camera.project(corners)
    xy, depth = xy.reshape(count, 8, 2), depth.reshape(count, 8)
    farthest = np.linalg.norm(corners - camera.position, axis=1).reshape(count, 8).max(axis=1)
    with np.errstate(invalid="ignore"):
        lo = np.maximum(np.ceil(xy.min(axis=1) - 0.5), 0)
        hi = np.minimum(np.floor(xy.max(axis=1) - 0.5), [camera.width - 1, camera.height - 1])
    windows = np.concatenate([lo, hi + 1], axis=1)
    behind = (depth < camera.near).any(axis=1)
    windows[behind] = [0, 0, camera.width, camera.height]
    empty = ~behind & ((windows[:, 2] <= windows[:, 0]) | (windows[:, 3] <= windows[:, 1]))
    windows[empty] = -1
    return windows.astype(np.int64), farthest


# ---- annotator outputs --------------------------------------------------------------------------
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
    return table[frame.present[1]].reshape(*frame.shape, 4)


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
    return obj.path, dict(obj.labels), stable_color(f"{obj.path}#{obj.key[1]}")


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
    for n, i in enumerate(rows):
        low, high, transform = frame.object_frame(int(i))
        data[n]["semanticId"] = frame.tables.objects[i].label_index
        data[n]["x_min"], data[n]["y_min"], data[n]["z_min"] = low
        data[n]["x_max"], data[n]["y_max"], data[n]["z_max"] = high
        data[n]["transform"] = transform
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
