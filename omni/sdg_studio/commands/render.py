"""``sdg-studio render STAGE``: one frame of one camera, every annotator as a file a person can open.

Images become PNGs (segmentations colorized with the stable class colors, depth as a normalized
grayscale PNG next to the raw ``.npy``, normals as RGB, 2D boxes drawn over the RGB), info dicts
and box tables become JSON, the point cloud a PLY. Files land complete (temporary name, then
rename) and existing files are kept unless ``--overwrite`` is given.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from PIL import Image, ImageDraw
from rich.progress import Progress
from rich.table import Table

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.backends.embedded.engines import ENGINES
from omni.sdg_studio.commands.output import console, err_console
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.render_backend import AUTO_CAMERA
from omni.sdg_studio.core.stage_info import stage_info
from omni.sdg_studio.core.stage_io import open_stage

DEFAULT_ANNOTATORS = "rgb,semantic_segmentation"


# ---- argument parsing ---------------------------------------------------------------------------
def parse_resolution(text: str) -> tuple[int, int]:
    """``"640x480"`` -> (640, 480)."""
    parts = text.lower().replace("*", "x").split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise SdgStudioError(f"--resolution {text!r}: expected WIDTHxHEIGHT, e.g. 1280x720") from None
    return width, height


def parse_annotators(text: str) -> list[str]:
    """Comma-separated annotator names; ``all`` means every annotator the embedded backend makes."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(SUPPORTED_ANNOTATORS)
    if not names:
        raise SdgStudioError("--annotators: give at least one annotator name")
    return names


def pick_camera(stage: Any, camera: str | None) -> tuple[str, tuple[int, int]]:
    """The camera to render (the only one when not given) and its default resolution."""
    cameras = {c.path: c for c in stage_info(stage).cameras}
    if camera is None and not cameras:
        logging.getLogger(__name__).warning("the stage has no camera: rendering from --camera auto (framing it all)")
        camera = AUTO_CAMERA
    if camera is None:
        if len(cameras) != 1:
            listed = ", ".join(cameras) or "none"
            raise SdgStudioError(f"--camera: the stage has {len(cameras)} cameras ({listed}); choose one")
        camera = next(iter(cameras))
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


def boxes_image(rgb: np.ndarray | None, shape: tuple[int, int], value: dict[str, Any]) -> Image.Image:
    """2D boxes drawn over the RGB frame (or a black frame), labeled with their class."""
    base = Image.fromarray(rgb[..., :3]) if rgb is not None else Image.new("RGB", (shape[1], shape[0]))
    draw = ImageDraw.Draw(base)
    from omni.sdg_studio.core.classes import stable_color

    for row in value["data"]:
        labels = value["info"]["idToLabels"].get(int(row["semanticId"]), {})
        name = ",".join(labels.values()) or "?"
        color = stable_color(name)[:3]
        box = (int(row["x_min"]), int(row["y_min"]), int(row["x_max"]), int(row["y_max"]))
        draw.rectangle(box, outline=color, width=2)
        draw.text((box[0] + 3, box[1] + 2), name, fill=color)
    return base


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


def annotator_files(name: str, value: Any, frame: dict[str, Any]) -> dict[str, bytes]:
    """File name -> bytes for one annotator's output."""
    if name == "rgb":
        return {"rgb.png": _png(value)}
    if name in ("distance_to_camera", "distance_to_image_plane"):
        return {f"{name}.png": _png(depth_image(value)), f"{name}.npy": _npy(value)}
    if name == "normals":
        return {"normals.png": _png(normals_image(value))}
    if name in ("semantic_segmentation", "instance_segmentation", "instance_id_segmentation"):
        return {f"{name}.png": _png(value["data"]), f"{name}.json": _json(value["info"])}
    if name in ("bounding_box_2d_tight", "bounding_box_2d_loose"):
        shape = next((v.shape[:2] for v in frame.values() if isinstance(v, np.ndarray) and v.ndim >= 2), (1, 1))
        overlay = boxes_image(frame.get("rgb"), shape, value)
        buffer = io.BytesIO()
        overlay.save(buffer, format="PNG")
        return {f"{name}.png": buffer.getvalue(), f"{name}.json": _json(value), f"{name}.npy": _npy(value["data"])}
    if name in ("bounding_box_3d", "occlusion"):
        return {f"{name}.json": _json(value), f"{name}.npy": _npy(value["data"])}
    if name == "pointcloud":
        return {"pointcloud.ply": pointcloud_ply(value), "pointcloud.npy": _npy(value["data"])}
    return {f"{name}.json": _json(value)}


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class _Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def reported_warnings(report: Callable[[str], None]) -> Iterator[None]:
    """Collect the package's logged warnings and report each message once, after the block."""
    collected = _Collected()
    package = logging.getLogger("omni.sdg_studio")
    package.addHandler(collected)
    propagate, package.propagate = package.propagate, False
    try:
        yield
    finally:
        package.removeHandler(collected)
        package.propagate = propagate
    for message in dict.fromkeys(collected.messages):
        report(message)


def render_to_files(
    stage_path: Path,
    out: Path,
    camera: str | None,
    annotators: Sequence[str],
    resolution: tuple[int, int] | None,
    *,
    engine: str = "auto",
    semantic_types: Sequence[str] = ("class",),
    time: float | None = None,
    overwrite: bool = False,
    report: Callable[[str], None] = lambda m: err_console.print(f"[yellow]warning:[/yellow] {m}", soft_wrap=True),
) -> list[Path]:
    """Render one frame and write every annotator to ``out``; returns the files written."""
    stage = open_stage(stage_path)
    with reported_warnings(report):
        camera, hint = pick_camera(stage, camera)
        backend = EmbeddedBackend(stage, engine=engine)
        try:
            frame = backend.render(
                camera, resolution or hint, annotators, time=time, semantic_types=semantic_types, colorize=True
            )
        finally:
            backend.close()
    files = {n: d for name, value in frame.items() for n, d in annotator_files(name, value, frame).items()}
    out.mkdir(parents=True, exist_ok=True)
    existing = [n for n in files if (out / n).exists()]
    if existing and not overwrite:
        raise SdgStudioError(f"{out}: would overwrite {', '.join(existing)}; pass --overwrite or another -o folder")
    written = []
    for name, data in files.items():
        write_atomically(out / name, data)
        written.append(out / name)
    return written


def render(
    stage: Annotated[Path, typer.Argument(help="USD stage (.usd, .usda, .usdc, .usdz)")],
    camera: Annotated[str | None, typer.Option("--camera", "-c", help="Camera prim path.")] = None,
    annotators: Annotated[
        str, typer.Option("--annotators", "-a", help="Comma-separated Replicator annotator names, or 'all'.")
    ] = DEFAULT_ANNOTATORS,
    resolution: Annotated[
        str | None, typer.Option("--resolution", "-r", help="WIDTHxHEIGHT (default: 1280 wide, camera aspect).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the files.")] = Path("render_out"),
    engine: Annotated[str, typer.Option(help=f"Ray engine: {', '.join(ENGINES)}.")] = "auto",
    semantic_types: Annotated[str, typer.Option(help="Comma-separated taxonomies to use.")] = "class",
    time: Annotated[float | None, typer.Option(help="Time code (default: the stage's start).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace files already in the output folder.")] = False,
) -> None:
    """Render one camera of a stage with the embedded backend and write every annotator as a file."""
    names = parse_annotators(annotators)
    size = parse_resolution(resolution) if resolution else None
    taxonomies = [t.strip() for t in semantic_types.split(",") if t.strip()]
    with console.status(f"rendering {len(names)} annotators..."):
        written = render_to_files(
            stage, out, camera, names, size, engine=engine, semantic_types=taxonomies, time=time, overwrite=overwrite
        )
    table = Table("file", "bytes", title=f"Written to {out}/")
    for path in written:
        table.add_row(path.name, f"{path.stat().st_size:,}")
    console.print(table)


DEMO_ANNOTATORS = (
    "rgb",
    "distance_to_image_plane",
    "semantic_segmentation",
    "instance_segmentation",
    "bounding_box_2d_tight",
    "normals",
)


def render_every_camera(stage_path: Path, out: Path, width: int = 640) -> list[Path]:
    """The demo step: one frame of each camera of ``stage_path`` into ``out/<camera name>/``."""
    cameras = stage_info(open_stage(stage_path)).cameras
    written: list[Path] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("rendering cameras", total=len(cameras))
        for cam in cameras:
            height = max(1, round(width * cam.resolution_hint[1] / cam.resolution_hint[0]))
            folder = out / cam.path.rsplit("/", 1)[-1]
            files = render_to_files(stage_path, folder, cam.path, DEMO_ANNOTATORS, (width, height), overwrite=True)
            written.extend(files)
            progress.advance(task)
            console.print(f"{cam.path}: {len(files)} files in {folder}/")
    return written


def register(app: typer.Typer) -> None:
    app.command()(render)
