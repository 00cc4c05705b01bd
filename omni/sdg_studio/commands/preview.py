"""``sdg-studio preview STAGE --camera PATH``: render annotators with the embedded backend and save the grid."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.output import console, echo
from omni.sdg_studio.commands.render import pick_camera
from omni.sdg_studio.commands.view import print_problems, view_options
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.visualize.layout import compose, plan_layout
from omni.sdg_studio.core.visualize.model import VisualizerModel
from omni.sdg_studio.core.visualize.save import save_png
from omni.sdg_studio.core.visualize.tiles import viewable

DEFAULT_PREVIEW = "rgb,distance_to_image_plane,semantic_segmentation,bounding_box_2d_tight"


def preview_annotators(text: str) -> list[str]:
    """The annotators named in ``--annotators`` ("all" = every one the embedded backend renders)."""
    shown = [n for n in SUPPORTED_ANNOTATORS if viewable(n)]
    if text.strip() == "all":
        return shown
    names = options.parse_names(text)
    unknown = [n for n in names if n not in shown]
    if unknown or not names:
        raise SdgStudioError(f"--annotators: {', '.join(unknown) or 'none given'}; choose from: {', '.join(shown)}")
    return names


def preview(
    stage: Annotated[Path, options.stage_argument("USD stage to render.")],
    out: Annotated[Path, options.out_option("PNG to write the grid to.", metavar="PNG")],
    camera: Annotated[str | None, options.camera_option("Camera prim path (default: the stage's only camera).")] = None,
    annotators: Annotated[str, options.annotators_option("Comma-separated annotators, or 'all'.")] = DEFAULT_PREVIEW,
    resolution: Annotated[str, options.resolution_option("Render size.")] = "640x480",
    taxonomy: Annotated[str, options.taxonomy_option("Taxonomy (semantic type) rendered and shown.")] = "class",
    classes: Annotated[Path | None, options.classes_option()] = None,
    time: Annotated[
        float | None, typer.Option("--time", metavar="TIME", help="Time code to render (default: the stage's start).")
    ] = None,
    depth: Annotated[
        str, typer.Option("--depth", metavar="MODE", help="Depth display: auto, fixed (needs --near/--far) or log.")
    ] = "auto",
    near: Annotated[float | None, typer.Option("--near", help="Nearest depth shown (scene units).")] = None,
    far: Annotated[float | None, typer.Option("--far", help="Farthest depth shown (scene units).")] = None,
    blend: Annotated[bool, typer.Option("--blend", help="Blend segmentation over RGB.")] = False,
    alpha: Annotated[float, typer.Option("--alpha", help="Opacity of blended segmentation (0..1).")] = 0.5,
    show: Annotated[bool, typer.Option("--show", help="Also open the grid in the system image viewer.")] = False,
    overwrite: Annotated[bool, options.overwrite_option("Replace the output PNG if it exists.")] = False,
) -> None:
    """Render a camera's annotators without Isaac Sim and save them as one titled grid with legends."""
    view_settings = view_options(depth, near, far, alpha, blend, taxonomy, options.load_classes(classes))
    names = preview_annotators(annotators)
    width, height = options.parse_resolution(resolution)
    if out.exists() and not overwrite:
        raise SdgStudioError(f"{out}: already exists; pass --overwrite to replace it, or another --out")
    model = VisualizerModel(annotators=names, selected=names, options=view_settings, resolution=(width, height))
    opened = open_stage(stage)
    camera, _ = pick_camera(opened, camera)
    backend = EmbeddedBackend(opened)
    try:
        with console.status(Text(f"rendering {camera} at {width}x{height} ({backend.engine_name})")):
            frame = backend.render(
                camera, (width, height), list(model.attachment.annotators), time=time, semantic_types=(taxonomy,)
            )
    finally:
        backend.close()
    tiles = model.submit(frame)
    print_problems(tiles)
    image = compose(tiles, plan_layout(tiles, max_tile=max(width, height)))
    save_png(image, out, overwrite=overwrite)
    echo(f"{len(tiles)} tiles of {camera} written to ", (str(out), "bold"), f" ({image.shape[1]}x{image.shape[0]})")
    if show:
        from PIL import Image

        Image.open(out).show()


def register(app: typer.Typer) -> None:
    app.command()(preview)
