"""One titled tile per annotator: pick the colorizer or overlay for each annotator of a frame.

A frame is ``{annotator_name: get_data() result}`` (Replicator's layout), live from a render backend
or read back from disk. Readers of files that are already images (``normals_0000.png``, a KITTI
``semantic_rgb`` picture) pass them as :class:`ShownImage`; files that could not be read arrive as
:class:`Unreadable`, so the grid shows what it can and marks what it cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from omni.sdg_studio.core.annotators.formats import ANNOTATORS
from omni.sdg_studio.core.visualize.colorize import (
    DepthRange,
    colorize_depth,
    colorize_flow,
    colorize_normals,
    colorize_occlusion,
    colorize_segmentation,
    heat_color,
)
from omni.sdg_studio.core.visualize.legend import (
    LegendEntry,
    legend_from_boxes,
    legend_from_labels,
    unknown_entry,
)
from omni.sdg_studio.core.visualize.normalize import (
    SEGMENTATION_ANNOTATORS,
    AnnotatorDataError,
    Boxes,
    as_image,
    as_rgba,
    boxes,
    is_empty,
    segmentation,
    unpack,
)
from omni.sdg_studio.core.visualize.overlay import (
    BoxOverlay,
    blend,
    draw_arrows,
    draw_boxes_2d,
    draw_boxes_3d,
    draw_points,
)
from omni.sdg_studio.core.visualize.palette import LabelPalette
from omni.sdg_studio.core.visualize.projection import CameraProjection
from omni.sdg_studio.core.visualize.text import TEXT_COLOR, font

#: Annotators used by other tiles rather than shown on their own.
HELPER_ANNOTATORS = frozenset({"camera_params"})
_BOX_2D = ("bounding_box_2d_tight", "bounding_box_2d_loose")
_DEPTH = ("distance_to_camera", "distance_to_image_plane")


class TileStatus(str, Enum):
    """What a tile holds: an image, nothing yet (first frames), or a problem to read."""

    OK = "ok"
    WAITING = "waiting"
    ERROR = "error"


@dataclass
class Tile:
    """A titled image for one annotator; ``note`` is a one-line remark, ``legend`` its colors."""

    name: str
    image: np.ndarray | None
    status: TileStatus = TileStatus.OK
    note: str = ""
    legend: list[LegendEntry] = field(default_factory=list)
    title: str = ""

    def __post_init__(self) -> None:
        self.title = self.title or self.name


@dataclass(frozen=True)
class ShownImage:
    """An image that is already a picture (a colorized file on disk), shown as is."""

    rgba: np.ndarray
    note: str = ""


@dataclass(frozen=True)
class Unreadable:
    """An annotator whose files could not be read; ``message`` names the file and the reason."""

    message: str


@dataclass(frozen=True)
class ViewOptions:
    """How tiles are drawn: depth range, overlays, blending, legend, label colors."""

    depth: DepthRange = field(default_factory=DepthRange)
    palette: LabelPalette = field(default_factory=LabelPalette)
    taxonomy: str | None = None
    boxes_over_rgb: bool = True
    box_labels: bool = True
    segmentation_over_rgb: bool = False
    overlay_alpha: float = 0.5
    legend: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.overlay_alpha <= 1.0:
            raise ValueError(f"overlay alpha must be within 0..1, got {self.overlay_alpha}")


def annotator_order(names: Iterable[str]) -> list[str]:
    """Annotators in Replicator's order (rgb first), unknown names after."""
    rank = {name: i for i, name in enumerate(ANNOTATORS)}
    return sorted(dict.fromkeys(names), key=lambda n: (rank.get(n, len(rank)), n))


def default_order(names: Iterable[str]) -> list[str]:
    """The tiles to show for ``names``: :func:`annotator_order` without the helpers (camera_params)."""
    return [n for n in annotator_order(names) if n not in HELPER_ANNOTATORS]


def _resolution(frame: Mapping[str, Any]) -> tuple[int, int] | None:
    """(height, width) of the frame, from any image annotator or camera_params."""
    for value in frame.values():
        if isinstance(value, ShownImage):
            return value.rgba.shape[:2]
        data, _ = unpack(value)
        if isinstance(data, np.ndarray) and data.dtype.names is None and data.ndim >= 2 and data.size:
            return data.shape[:2]
    params = frame.get("camera_params")
    if isinstance(params, Mapping) and "renderProductResolution" in params:
        width, height = (int(v) for v in np.asarray(params["renderProductResolution"]).reshape(-1)[:2])
        return height, width
    return None


class _FrameTiles:
    """Renders the tiles of one frame, sharing the RGB background between overlays."""

    def __init__(self, frame: Mapping[str, Any], options: ViewOptions) -> None:
        self.frame = frame
        self.options = options
        self.palette = options.palette
        self._background: np.ndarray | None = None

    def background(self) -> tuple[np.ndarray, str]:
        """The RGB frame to draw on, or black at the frame's resolution (with a note saying so)."""
        rgb = self.frame.get("rgb")
        if rgb is not None and not isinstance(rgb, Unreadable) and not is_empty(rgb):
            if self._background is None:
                self._background = as_rgba("rgb", rgb.rgba if isinstance(rgb, ShownImage) else rgb)
            return self._background, ""
        size = _resolution(self.frame)
        if size is None:
            raise AnnotatorDataError("no image annotator or camera_params to size the overlay")
        black = np.zeros((*size, 4), np.uint8)
        black[:, :, 3] = 255
        return black, "no rgb: drawn on black"

    def tile(self, name: str) -> Tile:
        if name not in self.frame:
            return Tile(name, None, TileStatus.ERROR, "not in this frame")
        value = self.frame[name]
        if isinstance(value, Unreadable):
            return Tile(name, None, TileStatus.ERROR, value.message)
        if isinstance(value, ShownImage):
            return Tile(name, as_rgba(name, value.rgba), note=value.note)
        if is_empty(value):
            return Tile(name, None, TileStatus.WAITING, "waiting for the first rendered frame")
        try:
            return self._render(name, value)
        except AnnotatorDataError as exc:
            return Tile(name, None, TileStatus.ERROR, str(exc))
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            return Tile(name, None, TileStatus.ERROR, f"{name}: unreadable data ({type(exc).__name__}: {exc})")

    def _render(self, name: str, value: Any) -> Tile:
        renderer = _RENDERERS.get(name)
        if renderer is None:
            return Tile(name, None, TileStatus.ERROR, f"{name}: no viewer for this annotator")
        return renderer(self, name, value)

    def rgb(self, name: str, value: Any) -> Tile:
        return Tile(name, as_rgba(name, value))

    def depth(self, name: str, value: Any) -> Tile:
        data, _ = unpack(value)
        image = colorize_depth(as_image(name, data), self.options.depth)
        if image.shown_range is None:
            return Tile(name, image.rgba, note="nothing hit (all inf)")
        near, far = image.shown_range
        return Tile(name, image.rgba, note=f"{self.options.depth.mode.value} {near:.3g}..{far:.3g} (white = near)")

    def normals(self, name: str, value: Any) -> Tile:
        data, _ = unpack(value)
        return Tile(name, colorize_normals(as_image(name, data, channels=3)))

    def motion(self, name: str, value: Any) -> Tile:
        data, _ = unpack(value)
        flow = as_image(name, data, channels=2)
        rgba, top = colorize_flow(flow)
        step = max(8, min(flow.shape[:2]) // 24)
        return Tile(name, draw_arrows(rgba, flow, step), note=f"hue = direction, largest {top:.3g} px")

    def segmentation(self, name: str, value: Any) -> Tile:
        seg = segmentation(name, value, taxonomy=self.options.taxonomy)
        painted = colorize_segmentation(seg, self.palette)
        legend = legend_from_labels(seg.labels, self.palette, painted.pixel_counts) if self.options.legend else []
        note = ""
        if painted.unknown_pixels:
            legend.append(unknown_entry(painted.unknown_pixels))
            note = f"{painted.unknown_pixels} px with ids missing from idToLabels"
        image = painted.rgba
        if self.options.segmentation_over_rgb:
            base, _ = self.background()
            if base.shape == image.shape:
                image = blend(base, image, self.options.overlay_alpha)
        return Tile(name, image, note=note, legend=legend)

    def boxes_2d(self, name: str, value: Any) -> Tile:
        found = boxes(name, value, taxonomy=self.options.taxonomy)
        base, note = self.background() if self.options.boxes_over_rgb else (self._black(), "")
        drawn = draw_boxes_2d(base, found, self.palette, with_labels=self.options.box_labels)
        return self._box_tile(name, found, drawn, note)

    def _box_tile(self, name: str, found: Boxes, drawn: BoxOverlay, *notes: str) -> Tile:
        """A box tile titled with its box count; the note says which boxes carry label tags."""
        count = _count(len(found.rows), "box", "boxes")
        shown = len(found.rows) - drawn.behind
        tags = f"labels on {drawn.labeled} large boxes" if self.options.box_labels and drawn.labeled < shown else ""
        legend = legend_from_boxes(found.labels, self.palette) if self.options.legend else []
        return Tile(name, drawn.image, note=_join(count, tags, *notes), legend=legend, title=f"{name} ({count})")

    def boxes_3d(self, name: str, value: Any) -> Tile:
        found = boxes(name, value, taxonomy=self.options.taxonomy)
        camera = self._camera(name)
        base, note = self.background() if self.options.boxes_over_rgb else (self._black(), "")
        drawn = draw_boxes_3d(base, found, camera, self.palette, with_labels=self.options.box_labels)
        behind = f"{drawn.behind} behind the camera" if drawn.behind else ""
        return self._box_tile(name, found, drawn, behind, note)

    def occlusion(self, name: str, value: Any) -> Tile:
        data, info = unpack(value)
        rows = np.asarray(data).reshape(-1)
        if rows.dtype.names is None or not {"instanceId", "occlusionRatio"} <= set(rows.dtype.names):
            raise AnnotatorDataError(f"{name}: expected fields instanceId, occlusionRatio; got {rows.dtype}")
        paths = [str(p) for p in info.get("primPaths") or []]
        for source in ("instance_segmentation", "instance_id_segmentation"):
            inst = self.frame.get(source)
            if inst is None or isinstance(inst, (Unreadable, ShownImage)) or is_empty(inst):
                continue
            seg = segmentation(source, inst)
            if len(paths) == len(rows) and paths:
                ratios = occlusion_by_path(seg.labels, dict(zip(paths, rows["occlusionRatio"].tolist(), strict=True)))
            elif source == "instance_segmentation" and not seg.colorized:
                ratios = {int(r["instanceId"]): float(r["occlusionRatio"]) for r in rows}
            else:
                continue
            painted = colorize_occlusion(seg.ids, ratios)
            return Tile(name, painted.rgba, note=f"{len(rows)} objects over {source}; green 0 .. red 1 occluded")
        return Tile(name, _ratio_chart(rows, self._semantic_names()), note=f"{len(rows)} objects (no instance image)")

    def pointcloud(self, name: str, value: Any) -> Tile:
        data, info = unpack(value)
        points = np.asarray(data, np.float64).reshape(-1, 3)
        camera = self._camera(name)
        base, note = self.background()
        pixels, in_front = camera.project(points)
        pixels = pixels * np.array([base.shape[1] / camera.width, base.shape[0] / camera.height])
        colors = np.asarray(info.get("pointRgb", np.full((len(points), 4), 255)), np.uint8).reshape(-1, 4)
        if len(colors) != len(points):
            colors = np.full((len(points), 4), 255, np.uint8)
        shown = draw_points(_dimmed(base), pixels[in_front], colors[in_front])
        return Tile(name, shown, note=_join(f"{len(points)} points", note))

    def _camera(self, name: str) -> CameraProjection:
        params = self.frame.get("camera_params")
        if not isinstance(params, Mapping):
            raise AnnotatorDataError(f"{name}: needs camera_params in the same frame to project")
        return CameraProjection.from_params(params)

    def _black(self) -> np.ndarray:
        base, _ = self.background()
        black = np.zeros_like(base)
        black[:, :, 3] = 255
        return black

    def _semantic_names(self) -> dict[int, str]:
        for source in (*_BOX_2D, "bounding_box_3d"):
            value = self.frame.get(source)
            if value is not None and not isinstance(value, (Unreadable, ShownImage)) and not is_empty(value):
                found = boxes(source, value, taxonomy=self.options.taxonomy)
                return {int(r["semanticId"]): label for r, label in zip(found.rows, found.labels, strict=True)}
        return {}


def occlusion_by_path(instance_paths: Mapping[int, str], ratios: Mapping[str, float]) -> dict[int, float]:
    """Occlusion ratio of every instance id whose prim is, or is under, a prim listed in ``ratios``."""
    found: dict[int, float] = {}
    for key, path in instance_paths.items():
        prim = path
        while prim and prim not in ratios:
            prim = prim.rpartition("/")[0]
        if prim:
            found[key] = ratios[prim]
    return found


def _dimmed(image: np.ndarray) -> np.ndarray:
    out = image.copy()
    out[:, :, :3] //= 3
    return out


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _ratio_chart(rows: np.ndarray, names: Mapping[int, str], width: int = 480) -> np.ndarray:
    """A bar per instance (occlusion ratio) when there is no instance image to paint."""
    row_height = 18
    shown = rows[:24]
    image = Image.new("RGBA", (width, max(1, len(shown)) * row_height + 4), (24, 24, 24, 255))
    draw = ImageDraw.Draw(image)
    f = font(12)
    for i, row in enumerate(shown):
        ratio = float(row["occlusionRatio"])
        y = 2 + i * row_height
        semantic = int(row["semanticId"]) if "semanticId" in (rows.dtype.names or ()) else -1
        label = names.get(semantic, f"instance {int(row['instanceId'])}")
        draw.text((4, y + 2), label[:22], fill=TEXT_COLOR, font=f)
        bar = int((width - 220) * max(0.0, min(1.0, ratio)))
        draw.rectangle((180, y + 3, 180 + bar, y + row_height - 3), fill=heat_color(ratio))
        draw.text((width - 36, y + 2), f"{ratio:.2f}" if ratio >= 0 else "n/a", fill=TEXT_COLOR, font=f)
    return np.asarray(image)


_Renderer = Callable[[_FrameTiles, str, Any], Tile]
_RENDERERS: dict[str, _Renderer] = {
    "rgb": _FrameTiles.rgb,
    "LdrColor": _FrameTiles.rgb,
    **{name: _FrameTiles.depth for name in _DEPTH},
    "normals": _FrameTiles.normals,
    "motion_vectors": _FrameTiles.motion,
    **{name: _FrameTiles.segmentation for name in SEGMENTATION_ANNOTATORS},
    **{name: _FrameTiles.boxes_2d for name in _BOX_2D},
    "bounding_box_3d": _FrameTiles.boxes_3d,
    "occlusion": _FrameTiles.occlusion,
    "pointcloud": _FrameTiles.pointcloud,
}


def viewable(name: str) -> bool:
    """True when the visualizer has a tile for ``name``."""
    return name in _RENDERERS


def render_tiles(
    frame: Mapping[str, Any], names: Sequence[str] | None = None, options: ViewOptions | None = None
) -> list[Tile]:
    """Tiles for ``names`` (default: every annotator of the frame, rgb first) of one frame."""
    tiles = _FrameTiles(frame, options or ViewOptions())
    return [tiles.tile(name) for name in (default_order(frame) if names is None else names)]
