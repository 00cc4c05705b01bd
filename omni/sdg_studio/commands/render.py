"""``sdg-studio render STAGE``: one frame of one camera, each requested annotator as a file a person can open.

Images become PNGs (segmentations colorized as BasicWriter colorizes them: label colors from
``--classes`` or hashed from the label, depth as a normalized grayscale PNG next to the raw ``.npy``,
normals as RGB, 2D boxes drawn over the RGB), info dicts and box tables become JSON, the point cloud
a PLY. Files land complete (temporary name, then rename) and existing files are kept unless
``--overwrite`` is given.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from PIL import Image
from pxr import Sdf
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.backends.embedded.engines import ENGINES
from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.output import console, echo
from omni.sdg_studio.core.atomic import atomic_write_bytes, write_error_reason
from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.colors import paint_ids, rgba_key
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.render_backend import AUTO_CAMERA
from omni.sdg_studio.core.stage_info import stage_info
from omni.sdg_studio.core.stage_io import check_load_problems, open_stage
from omni.sdg_studio.core.visualize.normalize import boxes
from omni.sdg_studio.core.visualize.overlay import draw_boxes_2d
from omni.sdg_studio.core.visualize.palette import LabelPalette
from omni.sdg_studio.core.writers.colorize import instance_palette, semantic_palette

DEFAULT_ANNOTATORS = "rgb,semantic_segmentation"
DEFAULT_OUT = Path("_out/render")


# ---- argument parsing ---------------------------------------------------------------------------
def parse_annotators(text: str) -> list[str]:
    """Comma-separated annotator names; ``all`` means every annotator the embedded backend makes."""
    names = options.parse_names(text)
    if names == ["all"]:
        return list(SUPPORTED_ANNOTATORS)
    if not names:
        raise SdgStudioError("--annotators: give at least one annotator name, or 'all'")
    return names


def pick_camera(stage: Any, camera: str | None) -> tuple[str, tuple[int, int]]:
    """The camera to render (the only one when not given) and its default resolution."""
    cameras = {c.path: c for c in stage_info(stage).cameras}
    listed = ", ".join(cameras) or "none"
    if camera is None and not cameras:
        logging.getLogger(__name__).warning("the stage has no camera: rendering from --camera auto (framing it all)")
        camera = AUTO_CAMERA
    if camera is None:
        if len(cameras) != 1:
            raise SdgStudioError(f"--camera: the stage has {len(cameras)} cameras ({listed}); choose one")
        camera = next(iter(cameras))
    if camera == AUTO_CAMERA:
        return camera, (1280, 720)
    if not Sdf.Path.IsValidPathString(camera) or not Sdf.Path(camera).IsAbsolutePath():
        raise SdgStudioError(f"--camera {camera}: not an absolute prim path; cameras on the stage: {listed}")
    hint = cameras[camera].resolution_hint if camera in cameras else (1280, 720)
    return camera, hint


# ---- turning annotator data into files ----------------------------------------------------------
def to_jsonable(value: Any) -> Any:
    """Numpy arrays (structured ones as lists of row dicts), scalars and dicts as plain JSON values."""
    if isinstance(value, np.ndarray):
        if value.dtype.names:
            return [{n: to_jsonable(row[n]) for n in value.dtype.names} for row in value]
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def depth_image(depth: np.ndarray) -> np.ndarray:
    """Grayscale uint8 on a log scale: nearest hit white, farthest dark gray, no hit black."""
    finite = np.isfinite(depth) & (depth > 0)
    out = np.zeros(depth.shape, np.uint8)
    if finite.any():
        logs = np.log(depth[finite])
        near, far = float(logs.min()), float(logs.max())
        scale = (logs - near) / (far - near) if far > near else np.zeros(logs.shape)
        out[finite] = np.round(255 - 215 * scale).astype(np.uint8)
    return out


def normals_image(normals: np.ndarray) -> np.ndarray:
    """RGB uint8 of world normals mapped from [-1, 1] to [0, 255]; background black."""
    rgb = np.round((normals[..., :3] * 0.5 + 0.5) * 255).astype(np.uint8)
    rgb[normals[..., 3] == 0] = 0
    return rgb


def boxes_image(rgb: np.ndarray | None, shape: tuple[int, int], name: str, value: Any, palette: LabelPalette) -> bytes:
    """PNG of the 2D boxes drawn over the RGB frame (or a black frame), as the visualizer draws them."""
    base = np.zeros((*shape, 4), np.uint8) if rgb is None else rgb[..., :4].copy()
    base[..., 3] = 255
    return _png(draw_boxes_2d(base, boxes(name, value), palette).image)


def pointcloud_ply(value: dict[str, Any]) -> bytes:
    """ASCII PLY of the labeled points with their RGB."""
    points, colors = value["data"], value["info"]["pointRgb"]
    header = (
        f"ply\nformat ascii 1.0\nelement vertex {len(points)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    )
    lines = [f"{p[0]:.5f} {p[1]:.5f} {p[2]:.5f} {c[0]} {c[1]} {c[2]}" for p, c in zip(points, colors, strict=True)]
    return (header + "\n".join(lines) + ("\n" if lines else "")).encode()


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _json(value: Any) -> bytes:
    return (json.dumps(to_jsonable(value), indent=2) + "\n").encode()


@dataclass
class Colors:
    """How segmentations and boxes are colored: the ``--classes`` table (else hashed label colors)."""

    classes: ClassTable = field(default_factory=ClassTable)
    semantic_types: Sequence[str] = ("class",)

    def segmentation(self, name: str, value: dict[str, Any]) -> dict[str, bytes]:
        """The colorized PNG and its color-keyed labels JSON, as BasicWriter writes them."""
        info = value["info"]
        if name == "semantic_segmentation":
            palette = semantic_palette(info["idToLabels"], self.classes, self.semantic_types)
        else:
            palette = instance_palette(info["idToLabels"])
        keyed = {
            key: {rgba_key(palette[int(i)]) if int(i) in palette else str(i): v for i, v in mapping.items()}
            if isinstance(mapping, dict)
            else mapping
            for key, mapping in info.items()
        }
        return {f"{name}.png": _png(paint_ids(value["data"], palette)), f"{name}.json": _json(keyed)}


def annotator_files(name: str, value: Any, frame: dict[str, Any], colors: Colors | None = None) -> dict[str, bytes]:
    """File name -> bytes for one annotator's output."""
    colors = colors or Colors()
    if name == "rgb":
        return {"rgb.png": _png(value)}
    if name in ("distance_to_camera", "distance_to_image_plane"):
        return {f"{name}.png": _png(depth_image(value)), f"{name}.npy": _npy(value)}
    if name == "normals":
        return {"normals.png": _png(normals_image(value))}
    if name in ("semantic_segmentation", "instance_segmentation", "instance_id_segmentation"):
        return colors.segmentation(name, value)
    if name in ("bounding_box_2d_tight", "bounding_box_2d_loose"):
        shape = next((v.shape[:2] for v in frame.values() if isinstance(v, np.ndarray) and v.ndim >= 2), (1, 1))
        overlay = boxes_image(frame.get("rgb"), shape, name, value, LabelPalette(colors.classes))
        return {f"{name}.png": overlay, f"{name}.json": _json(value), f"{name}.npy": _npy(value["data"])}
    if name in ("bounding_box_3d", "occlusion"):
        return {f"{name}.json": _json(value), f"{name}.npy": _npy(value["data"])}
    if name == "pointcloud":
        return {"pointcloud.ply": pointcloud_ply(value), "pointcloud.npy": _npy(value["data"])}
    return {f"{name}.json": _json(value)}


def render_to_files(
    stage_path: Path,
    out: Path,
    camera: str | None,
    annotators: Sequence[str],
    resolution: tuple[int, int] | None,
    *,
    engine: str = "auto",
    semantic_types: Sequence[str] = ("class",),
    classes: ClassTable | None = None,
    time: float | None = None,
    overwrite: bool = False,
    strict: bool = False,
) -> list[Path]:
    """Render one frame and write every annotator to ``out``; returns the files written.

    The backend's warnings (skipped prims, no labels) go to the ``omni.sdg_studio`` log.
    """
    stage = open_stage(stage_path)
    check_load_problems(stage, strict=strict)
    camera, hint = pick_camera(stage, camera)
    backend = EmbeddedBackend(stage, engine=engine)
    try:
        frame = backend.render(camera, resolution or hint, annotators, time=time, semantic_types=semantic_types)
    finally:
        backend.close()
    colors = Colors(classes or ClassTable(), tuple(semantic_types))
    files = {n: d for name, value in frame.items() for n, d in annotator_files(name, value, frame, colors).items()}
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SdgStudioError(f"{out}: cannot create the output folder: {write_error_reason(exc)}") from None
    existing = [n for n in files if (out / n).exists()]
    if existing and not overwrite:
        raise SdgStudioError(f"{out}: would overwrite {', '.join(existing)}; pass --overwrite or another --out folder")
    written = []
    for name, data in files.items():
        written.append(atomic_write_bytes(out / name, data))  # a WriteError says why (full, read-only, ...)
    return written


def render(
    stage: Annotated[Path, options.stage_argument()],
    camera: Annotated[str | None, options.camera_option("Camera prim path (default: the stage's only camera).")] = None,
    annotators: Annotated[
        str,
        options.annotators_option(
            f"Comma-separated Replicator annotator names, or 'all' (the {len(SUPPORTED_ANNOTATORS)} "
            "the embedded backend renders)."
        ),
    ] = DEFAULT_ANNOTATORS,
    resolution: Annotated[
        str | None, options.resolution_option("Image size (default: the camera's aperture aspect, 1280 wide).")
    ] = None,
    out: Annotated[Path, options.out_option("Folder for the files.")] = DEFAULT_OUT,
    taxonomy: Annotated[
        str, options.taxonomy_option("Comma-separated taxonomies (semantic types) whose labels are used.")
    ] = "class",
    classes: Annotated[Path | None, options.classes_option()] = None,
    engine: Annotated[
        str, typer.Option("--engine", metavar="NAME", help=f"Ray engine: {', '.join(ENGINES)}.")
    ] = "auto",
    time: Annotated[
        float | None, typer.Option("--time", metavar="TIME", help="Time code (default: the stage's start).")
    ] = None,
    overwrite: Annotated[bool, options.overwrite_option("Replace files already in the output folder.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse a stage that did not load fully (missing sublayers, references).")
    ] = False,
) -> None:
    """Render one camera of a stage with the embedded backend and write each annotator as a file to open."""
    names = parse_annotators(annotators)
    size = options.parse_resolution(resolution) if resolution else None
    taxonomies = options.parse_names(taxonomy)
    if not taxonomies:
        raise SdgStudioError("--taxonomy: name at least one taxonomy, e.g. class")
    table = options.load_classes(classes)
    with console.status(Text(f"rendering {len(names)} annotators...")):
        written = render_to_files(
            stage,
            out,
            camera,
            names,
            size,
            engine=engine,
            semantic_types=taxonomies,
            classes=table,
            time=time,
            overwrite=overwrite,
            strict=strict,
        )
    listing = Table("file", "bytes", title=f"Written to {out}/")
    for path in written:
        listing.add_row(path.name, f"{path.stat().st_size:,}")
    console.print(listing)


def render_every_camera(stage_path: Path, out: Path, width: int = 640, classes: ClassTable | None = None) -> list[Path]:
    """The demo step: one frame of each camera of ``stage_path``, every annotator, into ``out/<camera name>/``."""
    cameras = stage_info(open_stage(stage_path)).cameras
    written: list[Path] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("rendering cameras", total=len(cameras))
        for cam in cameras:
            height = max(1, round(width * cam.resolution_hint[1] / cam.resolution_hint[0]))
            folder = out / cam.path.rsplit("/", 1)[-1]
            files = render_to_files(
                stage_path, folder, cam.path, SUPPORTED_ANNOTATORS, (width, height), classes=classes, overwrite=True
            )
            written.extend(files)
            progress.advance(task)
            echo(f"{cam.path}: {len(SUPPORTED_ANNOTATORS)} annotators, {len(files)} files in {folder}/")
    return written


def register(app: typer.Typer) -> None:
    app.command()(render)
