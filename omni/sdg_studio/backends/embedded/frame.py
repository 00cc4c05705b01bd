"""One frame: the cast, deterministic z-fighting, and what annotators share, computed band by band.

The image is cut into bands of whole rows that run on the backend's worker threads: each band casts
its rays and resolves its coplanar ties. Per-object numbers then come from bincounts over all pixels
at once:

* visible pixels and the tight box of an object: the pixels whose first hit belongs to it;
* pixels it covers "alone" (``occlusionRatio``, loose boxes): those, plus every pixel whose ray meets
  it elsewhere, decided by the engine for the candidate pixels :mod:`.coverage` finds.

So the work grows with pixels and with the screen area of hidden objects, never with the number of
objects in a pass, and every intermediate array is sized by pixels (or by the candidates, in chunks),
never pixels x objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from pxr import Usd, UsdGeom

from omni.sdg_studio.backends.embedded.camera import PinholeCamera
from omni.sdg_studio.backends.embedded.coplanar import CoplanarPlanes, resolve_ties
from omni.sdg_studio.backends.embedded.coverage import hidden_pairs
from omni.sdg_studio.backends.embedded.engines import Hits, RayEngine, TriangleSoup, WorldMesh
from omni.sdg_studio.backends.embedded.labels import LabelTables
from omni.sdg_studio.backends.embedded.lighting import Lighting, irradiance, to_srgb8
from omni.sdg_studio.backends.embedded.scene import SceneGeometry
from omni.sdg_studio.backends.embedded.textures import Texture
from omni.sdg_studio.backends.embedded.vectors import dot3, gather_rows
from omni.sdg_studio.backends.embedded.workers import Workers


@dataclass
class SceneShape:
    """The world-space triangles of a scene at one transform state, and what is derived from them."""

    meshes: Sequence[WorldMesh]
    soup: TriangleSoup
    #: World-space axis-aligned bounds of every geometry's points (G, 2, 3); (inf, -inf) for empty ones.
    bounds: np.ndarray
    #: World corners of every geometry's local bounding box (G, 8, 3); NaN for empty ones.
    boxes: np.ndarray
    #: Object-local extents, keyed by (taxonomies, object index).
    extents: dict[tuple[tuple[str, ...], int], tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def build(cls, meshes: Sequence[WorldMesh], bounds: np.ndarray, boxes: np.ndarray) -> SceneShape:
        return cls(meshes, TriangleSoup.build(meshes), bounds, boxes)

    def moved(
        self, meshes: Sequence[WorldMesh], changed: np.ndarray, bounds: np.ndarray, boxes: np.ndarray
    ) -> SceneShape:
        """The shape after the geometries ``changed`` moved (same triangles); this one's table is reused."""
        self.soup.move(meshes, changed)
        return SceneShape(meshes, self.soup, bounds, boxes)

    @cached_property
    def coplanar(self) -> CoplanarPlanes:
        """Triangles sharing a plane with other prims' triangles (for deterministic z-fighting)."""
        return CoplanarPlanes.build(self.soup)

    @cached_property
    def total_bounds(self) -> np.ndarray | None:
        """Bounds (2, 3) of everything rendered, None when nothing is."""
        drawn = np.isfinite(self.bounds[:, 0, 0])
        if not drawn.any():
            return None
        return np.stack([self.bounds[drawn, 0].min(axis=0), self.bounds[drawn, 1].max(axis=0)])


@dataclass(frozen=True)
class SceneLook:
    """Base colors and textures of a scene's geometries."""

    #: Base color per geometry slot (slot 0: background), linear float32 (G + 1, 3).
    albedo: np.ndarray
    #: Index into ``textures`` per geometry, -1 for none (G,).
    texture_of: np.ndarray
    textures: tuple[Texture, ...]
    #: Texture coordinates of textured geometries' triangle corners, concatenated (n, 3, 2), and the
    #: first row of each geometry in it (G,).
    st: np.ndarray
    st_offsets: np.ndarray

    @classmethod
    def build(cls, geometries: Sequence[SceneGeometry]) -> SceneLook:
        albedo = np.zeros((len(geometries) + 1, 3), np.float32)
        if geometries:
            albedo[1:] = [g.color for g in geometries]
        texture_of = np.full(len(geometries), -1, np.int32)
        textures: dict[int, int] = {}
        unique: list[Texture] = []
        st_parts, offsets, row = [], np.zeros(len(geometries), np.int64), 0
        for g, geometry in enumerate(geometries):
            look = geometry.appearance
            if look.texture is None or look.st is None or not geometry.visible:
                continue
            if id(look.texture) not in textures:
                textures[id(look.texture)] = len(unique)
                unique.append(look.texture)
            texture_of[g] = textures[id(look.texture)]
            offsets[g] = row
            st_parts.append(look.st)
            row += len(look.st)
        st = np.concatenate(st_parts) if st_parts else np.zeros((0, 3, 2), np.float32)
        return cls(albedo, texture_of, tuple(unique), st, offsets)


@dataclass
class SceneState:
    """What a frame needs from the scene: geometries, their world triangles and looks, the engine."""

    stage: Usd.Stage
    time: Usd.TimeCode
    geometries: Sequence[SceneGeometry]
    shape: SceneShape
    look: SceneLook
    engine: RayEngine

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


def cast_frame(camera: PinholeCamera, scene: SceneState, workers: Workers) -> Hits:
    """Cast every pixel's ray and resolve coplanar ties, band by band on the worker threads."""
    count = camera.width * camera.height
    hits = Hits(np.empty(count, np.float32), np.empty(count, np.int32), np.empty(count, np.int32))
    shape = scene.shape
    planes = shape.coplanar  # built once, before the threads read it
    camera.world_rays()  # every ray direction, once: the casts and the later stages take views of them

    def band(span: slice) -> None:
        found = scene.engine.cast(camera, span)
        resolve_ties(found, np.arange(span.start, span.stop), camera, shape.soup, planes)
        hits.distance[span] = found.distance
        hits.geometry[span] = found.geometry
        hits.triangle[span] = found.triangle

    workers.map(band, workers.bands(camera.width, camera.height, scene.engine.concurrent))
    return hits


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
        workers: Workers,
    ) -> None:
        self.camera = camera
        self.hits = hits
        self.scene = scene
        self.tables = tables
        self._lighting = lighting
        self.colorize = colorize
        self.workers = workers
        self.shape = (camera.height, camera.width)

    # ---- shared per-pixel data -------------------------------------------------------------
    @cached_property
    def hit(self) -> np.ndarray:
        return self.hits.geometry >= 0

    @cached_property
    def slot(self) -> np.ndarray:
        """Geometry index + 1 per pixel, 0 on a miss (also the instance_id_segmentation id)."""
        return self.by_band(lambda span: (self.hits.geometry[span] + 1).astype(np.uint32), np.uint32)

    @cached_property
    def rays(self) -> tuple[np.ndarray, np.ndarray]:
        return self.camera.world_rays()

    def by_band(self, compute: Callable[[slice], np.ndarray], dtype: type, *trailing: int) -> np.ndarray:
        """A per-pixel array (H*W, *trailing) computed band by band on the worker threads (``compute`` must
        only read arrays that exist already: a lazy property first reached in a band would run there)."""
        out = np.empty((self.hit.size, *trailing), dtype)

        def band(span: slice) -> None:
            out[span] = compute(span)

        self.workers.map(band, self.workers.bands(self.camera.width, self.camera.height))
        return out

    @cached_property
    def present(self) -> tuple[np.ndarray, np.ndarray]:
        """Triangle rows seen in this frame (P,) and, per pixel, its index into them (misses: P).

        Per-triangle work (facing normals, shading) is then done once per seen triangle, and each
        pixel only gathers from the small tables.
        """
        soup = self.scene.shape.soup
        count = soup.count
        geometry, triangle = self.hits.geometry, self.hits.triangle
        rows = self.by_band(
            lambda s: np.where(geometry[s] >= 0, soup.offsets[geometry[s]] + triangle[s], count), np.int64
        )
        seen = np.zeros(count + 1, bool)
        seen[rows] = True
        present = np.flatnonzero(seen[:-1])
        remap = np.full(count + 1, len(present), np.int64)
        remap[present] = np.arange(len(present))
        return present, self.by_band(lambda s: remap[rows[s]], np.int64)

    @cached_property
    def facing_table(self) -> np.ndarray:
        """Unit normal of every seen triangle turned towards the camera (P, 3) float32.

        All rays leave the camera position, so a triangle faces the camera on all its pixels or on none.
        """
        soup = self.scene.shape.soup
        rows = self.present[0]
        away = soup.plane_offsets[rows] - dot3(soup.normals[rows], self.camera.position) > 0
        return soup.unit_normals[rows] * np.where(away, np.float32(-1.0), np.float32(1.0))[:, None]

    @cached_property
    def pixel_normals(self) -> np.ndarray:
        """World-space unit normal of every pixel (H*W, 3) float32, facing the camera; zero on misses."""
        table = np.zeros((len(self.present[0]) + 1, 3), np.float32)
        table[:-1] = self.facing_table
        index = self.present[1]
        return self.by_band(lambda span: gather_rows(table, index[span]), np.float32, 3)

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
    def semantic_ids(self) -> np.ndarray:
        slot, lut = self.slot, self.tables.semantic_lut
        return self.by_band(lambda span: lut[slot[span]], np.uint32)

    @cached_property
    def instance_ids(self) -> np.ndarray:
        slot, lut = self.slot, self.tables.instance_lut
        return self.by_band(lambda span: lut[slot[span]], np.uint32)

    @cached_property
    def rgba(self) -> np.ndarray:
        lighting = self._lighting()
        background = to_srgb8(lighting.background.astype(np.float32))
        look = self.scene.look
        soup = self.scene.shape.soup
        if not len(lighting.point_positions):
            rows, index = self.present
            table = np.empty((len(rows) + 1, 4), np.uint8)
            albedo = look.albedo[soup.row_geometry[rows] + 1]
            table[:-1, :3] = to_srgb8(albedo * irradiance(lighting, self.facing_table, None))
            table[-1, :3] = background
            table[:, 3] = 255
            # One 4-byte gather per pixel.
            packed = table.view(np.uint32).ravel()
            out = self.by_band(lambda span: packed[index[span]], np.uint32).view(np.uint8).reshape(-1, 4)
        else:  # positional lights: shade per pixel
            out = np.empty((self.hit.size, 4), np.uint8)
            out[:, 3] = 255
            light = irradiance(lighting, self.pixel_normals, self._pixel_points())
            out[:, :3] = np.where(self.hit[:, None], to_srgb8(look.albedo[self.slot] * light), background)
        if len(look.textures):
            self._shade_textures(out, lighting)
        return out.reshape(*self.shape, 4)

    def _pixel_points(self, pixels: np.ndarray | None = None) -> np.ndarray:
        """World hit points (float32) of ``pixels`` (all when None); the camera position on misses."""
        dirs = self.rays[0] if pixels is None else self.rays[0][pixels]
        distance = self.hits.distance if pixels is None else self.hits.distance[pixels]
        reach = np.where(np.isfinite(distance), distance, 0.0).astype(np.float32)
        return self.camera.position.astype(np.float32) + dirs * reach[:, None]

    def _shade_textures(self, out: np.ndarray, lighting: Lighting) -> None:
        """Overwrite the pixels of textured geometry with their texture's color under the same light."""
        look = self.scene.look
        geometry = self.hits.geometry
        texture = np.where(geometry >= 0, look.texture_of[np.maximum(geometry, 0)], -1)
        pixels = np.flatnonzero(texture >= 0)
        if not len(pixels):
            return
        g, triangle = geometry[pixels], self.hits.triangle[pixels]
        soup = self.scene.shape.soup
        corners = soup.corners[soup.rows(g, triangle)]
        dirs = self.rays[0][pixels].astype(np.float64)
        point = self.camera.position + dirs * self.hits.distance[pixels, None].astype(np.float64)
        st = np.einsum("ij,ijk->ik", _barycentric(corners, point), look.st[look.st_offsets[g] + triangle])
        albedo = np.empty((len(pixels), 3), np.float32)
        for k, image in enumerate(look.textures):
            chosen = texture[pixels] == k
            if chosen.any():
                albedo[chosen] = image.sample(st[chosen])
        positional = self._pixel_points(pixels) if len(lighting.point_positions) else None
        light = irradiance(lighting, self.pixel_normals[pixels], positional)
        out[pixels, :3] = to_srgb8(np.clip(albedo, 0.0, None) * light)

    # ---- labeled objects -------------------------------------------------------------------
    @cached_property
    def object_stats(self) -> ObjectStats:
        """Visible and alone-covered pixel counts and boxes of every labeled object."""
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
        hidden_object, hidden_pixel = self._hidden_pairs()
        covered = visible + np.bincount(hidden_object, minlength=count)
        rows, cols = np.divmod(hidden_pixel, width)
        found = _union_by(hidden_object, np.stack([cols, rows, cols, rows], axis=1), np.ones(len(rows), bool), count)
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
        ratio = np.where(covered > 0, 1.0 - visible / np.maximum(covered, 1), 1.0)
        ratio = np.clip(ratio, 0.0, 1.0)
        ratio[np.array([o.has_labeled_descendants for o in objects])] = -1.0
        return ObjectStats(visible, covered, tight, loose, ratio.astype(np.float32))

    def _hidden_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(object, pixel) of every pixel an object covers alone but does not own, each pair once."""
        return hidden_pairs(
            self.camera, self.hits, self.scene.shape.boxes, self.tables, self.scene.engine, self.workers
        )

    def object_frame(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(local min (3,), local max (3,), local-to-world (4, 4)) of labeled object ``index``."""
        key = (self.tables.taxonomies, index)
        shape = self.scene.shape
        cached = shape.extents.get(key)
        if cached is None:
            obj = self.tables.objects[index]
            drawn = [g for g in obj.geometries if len(shape.meshes[g].triangles)] or obj.geometries[:1]
            frame = self.scene.object_to_world(obj.path, self.scene.geometries[drawn[0]])
            inverse = np.linalg.inv(frame)
            local = np.concatenate(
                [shape.meshes[g].vertices.astype(np.float64) @ inverse[:3, :3] + inverse[3, :3] for g in drawn]
            )
            cached = (local.min(axis=0), local.max(axis=0), frame) if len(local) else (np.zeros(3), np.zeros(3), frame)
            shape.extents[key] = cached
        return cached


def _barycentric(corners: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Barycentric coordinates (n, 3) of ``point`` (n, 3) in triangles ``corners`` (n, 3, 3)."""
    a = corners[:, 0]
    v0, v1, v2 = corners[:, 1] - a, corners[:, 2] - a, point - a
    d00, d01, d11 = (np.einsum("ij,ij->i", p, q) for p, q in ((v0, v0), (v0, v1), (v1, v1)))
    d20, d21 = np.einsum("ij,ij->i", v2, v0), np.einsum("ij,ij->i", v2, v1)
    denominator = np.where(d00 * d11 - d01 * d01 == 0, 1.0, d00 * d11 - d01 * d01)
    v = (d11 * d20 - d01 * d21) / denominator
    w = (d00 * d21 - d01 * d20) / denominator
    return np.stack([1.0 - v - w, v, w], axis=1)


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
