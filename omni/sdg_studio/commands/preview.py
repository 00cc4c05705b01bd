"""``sdg-studio preview STAGE --camera PATH``: render annotators with the embedded backend and save the grid."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.commands.output import console
from omni.sdg_studio.commands.view import print_problems, view_options
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.visualize.layout import compose, plan_layout
from omni.sdg_studio.core.visualize.model import VisualizerModel
from omni.sdg_studio.core.visualize.save import save_png
from omni.sdg_studio.core.visualize.tiles import viewable

DEFAULT_PREVIEW = "rgb,distance_to_image_plane,semantic_segmentation,bounding_box_2d_tight"


def parse_resolution(text: str) -> tuple[int, int]:
    """``"640x480"`` -> (640, 480), with an error naming the option."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise SdgStudioError(f"--resolution {text!r}: expected WIDTHxHEIGHT, e.g. 640x480")
    return int(width), int(height)


def preview_annotators(text: str) -> list[str]:
    """The annotators named in ``--annotators`` ("all" = every one the embedded backend renders)."""
    shown = [n for n in SUPPORTED_ANNOTATORS if viewable(n)]
    if text.strip() == "all":
        return shown
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in shown]
    if unknown or not names:
        raise SdgStudioError(f"--annotators: {', '.join(unknown) or 'none given'}; choose from: {', '.join(shown)}")
    return names


def preview(
    stage: Annotated[Path, typer.Argument(help="USD stage to render.")],
    camera: Annotated[str, typer.Option("--camera", help="Camera prim path, e.g. /World/Cameras/TopCam.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG to write the grid to.")],
    annotators: Annotated[
        str, typer.Option("--annotators", help="Comma-separated annotators, or 'all'.")
    ] = DEFAULT_PREVIEW,
    resolution: Annotated[str, typer.Option("--resolution", help="Render size WIDTHxHEIGHT.")] = "640x480",
    time: Annotated[float | None, typer.Option("--time", help="Time code to render (default: start).")] = None,
    depth: Annotated[
        str, typer.Option("--depth", help="Depth display: auto, fixed (needs --near/--far) or log.")
    ] = "auto",
    near: Annotated[float | None, typer.Option("--near", help="Nearest depth shown (scene units).")] = None,
    far: Annotated[float | None, typer.Option("--far", help="Farthest depth shown (scene units).")] = None,
    blend: Annotated[bool, typer.Option("--blend", help="Blend segmentation over RGB.")] = False,
    alpha: Annotated[float, typer.Option("--alpha", help="Opacity of blended segmentation (0..1).")] = 0.5,
    taxonomy: Annotated[str, typer.Option("--taxonomy", help="Semantic type rendered and shown.")] = "class",
    show: Annotated[bool, typer.Option("--show", help="Also open the grid in the system image viewer.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the output PNG if it exists.")] = False,
) -> None:
    """Render a camera's annotators without Isaac Sim and save them as one titled grid with legends."""
    options = view_options(depth, near, far, alpha, blend, taxonomy)
    names = preview_annotators(annotators)
    width, height = parse_resolution(resolution)
    if out.exists() and not overwrite:
        raise SdgStudioError(f"{out}: already exists; pass --overwrite to replace it")
    model = VisualizerModel(annotators=names, selected=names, options=options, resolution=(width, height))
    backend = EmbeddedBackend(open_stage(stage))
    try:
        with console.status(f"rendering {camera} at {width}x{height} ({backend.engine_name})"):
            frame = backend.render(
                camera, (width, height), list(model.attachment.annotators), time=time, semantic_types=(taxonomy,)
            )
    finally:
        backend.close()
    tiles = model.submit(frame)
    print_problems(tiles)
    image = compose(tiles, plan_layout(tiles, max_tile=max(width, height)))
    save_png(image, out, overwrite=overwrite)
    console.print(f"{len(tiles)} tiles of {camera} written to [bold]{out}[/bold] ({image.shape[1]}x{image.shape[0]})")
    if show:
        from PIL import Image

        Image.open(out).show()


def register(app: typer.Typer) -> None:
    app.command()(preview)
