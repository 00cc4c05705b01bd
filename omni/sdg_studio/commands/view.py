"""``sdg-studio view DIR``: look at a recorded dataset (BasicWriter, KITTI, COCO): grid, contact sheet, summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.output import console, echo
from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.visualize.colorize import DepthMode, DepthRange
from omni.sdg_studio.core.visualize.contact_sheet import contact_sheet, sample_frames
from omni.sdg_studio.core.visualize.dataset import Dataset, camera_title
from omni.sdg_studio.core.visualize.layout import compose, plan_layout
from omni.sdg_studio.core.visualize.open_dataset import open_dataset
from omni.sdg_studio.core.visualize.palette import LabelPalette
from omni.sdg_studio.core.visualize.save import check_png_target, save_png
from omni.sdg_studio.core.visualize.summary import DatasetSummary, summarize
from omni.sdg_studio.core.visualize.tiles import (
    Tile,
    TileStatus,
    ViewOptions,
    annotator_order,
    default_order,
    render_tiles,
)

T = TypeVar("T")
#: Show this many frames without labels before summing up the rest.
_LISTED_EMPTY_FRAMES = 8


def view_options(
    depth: str = "auto",
    near: float | None = None,
    far: float | None = None,
    alpha: float = 0.5,
    blend: bool = False,
    taxonomy: str | None = None,
    classes: ClassTable | None = None,
) -> ViewOptions:
    """ViewOptions from command-line values (label colors from ``classes``), with errors that name the option."""
    try:
        mode = DepthMode(depth)
    except ValueError:
        raise SdgStudioError(f"--depth {depth!r}: use one of {', '.join(m.value for m in DepthMode)}") from None
    try:
        depth_range = DepthRange(mode, near, far)
        return ViewOptions(
            depth=depth_range,
            palette=LabelPalette(classes),
            overlay_alpha=alpha,
            segmentation_over_rgb=blend,
            taxonomy=taxonomy,
        )
    except ValueError as exc:
        raise SdgStudioError(f"--depth/--near/--far/--alpha: {exc}") from None


def named_option(option: str, lookup: Callable[..., T], *args: Any) -> T:
    """``lookup(*args)``; its error names ``option``, the flag that picks another value."""
    try:
        return lookup(*args)
    except SdgStudioError as exc:
        raise SdgStudioError(f"{option}: {exc}") from None


def progress() -> Progress:
    """The progress bar of long viewer work (transient: it disappears when done)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def print_summary(summary: DatasetSummary) -> None:
    """Cameras, files per annotator, class histogram and frames without labels, as tables."""
    echo((str(summary.root), "bold"), f"  ({summary.kind}, {summary.frame_count} frames)")
    cameras = Table("camera", "frames", "first", "last", title="Cameras (render products)")
    for cam in summary.cameras:
        cameras.add_row(camera_title(cam.camera), str(cam.frames), cam.first_frame, cam.last_frame)
    console.print(cameras)
    annotators = annotator_order(name for cam in summary.cameras for name in cam.files_per_annotator)
    files = Table("annotator", *(camera_title(cam.camera) for cam in summary.cameras), title="Files per annotator")
    for name in annotators:
        files.add_row(name, *(str(cam.files_per_annotator.get(name, 0)) for cam in summary.cameras))
    console.print(files)
    for source, histogram in summary.class_histograms.items():
        unit = "boxes" if summary.counts_boxes(source) else "frames"
        title = f"Classes from {source}"
        table = Table("class", unit, title=title, min_width=len(title) + 4)
        for label, count in histogram.most_common():
            table.add_row(label, str(count))
        console.print(table if histogram else f"no classes in {source}")
    if not summary.class_histograms:
        console.print("no label annotators recorded (boxes or segmentation labels)")
    empty = summary.frames_without_labels
    if empty:
        shown = ", ".join(f"{camera_title(cam)}:{frame}" for cam, frame in empty[:_LISTED_EMPTY_FRAMES])
        more = f" and {len(empty) - _LISTED_EMPTY_FRAMES} more" if len(empty) > _LISTED_EMPTY_FRAMES else ""
        echo((f"frames with no labels ({len(empty)}):", "yellow"), f" {shown}{more}")
    elif summary.class_histograms:
        console.print("every frame holds at least one label")
    if summary.unknown_files:
        names = ", ".join(str(p.relative_to(summary.root)) for p in summary.unknown_files[:5])
        echo((f"{len(summary.unknown_files)} files not recognized", "yellow"), f": {names}")


def print_problems(tiles: list[Tile]) -> None:
    """One line per tile that could not be drawn."""
    for tile in tiles:
        if tile.status is TileStatus.ERROR:
            echo((f"cannot show {tile.name}:", "red"), f" {tile.note}")


def frame_grid(dataset: Dataset, camera: str, frame: str, names: list[str] | None, options: ViewOptions) -> list[Tile]:
    """The tiles of one recorded frame (every annotator found for the camera, or ``names``)."""
    data = dataset.load(camera, frame)
    if names is not None:
        missing = [n for n in names if n not in data]
        if missing:
            found = ", ".join(default_order(data)) or "none"
            raise SdgStudioError(f"--annotators: {', '.join(missing)} not recorded for this camera; found: {found}")
    return render_tiles(data, names, options)


def summarize_with_progress(dataset: Dataset) -> DatasetSummary:
    total = sum(len(dataset.frames(c)) for c in dataset.cameras)
    with progress() as bar:
        task = bar.add_task("reading labels", total=total)
        return summarize(dataset, on_frame=lambda: bar.advance(task))


def view(
    folder: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="A writer's output folder (BasicWriter, KITTI or COCO).")
    ],
    out: Annotated[Path | None, options.out_option("Write the grid (or contact sheet) to this PNG.", "PNG")] = None,
    frame: Annotated[
        int | None, typer.Option("--frame", help="Frame number as in the file names (default: the first).")
    ] = None,
    camera: Annotated[
        str | None,
        options.camera_option("Render product folder (default: the first; --all: every one).", metavar="NAME"),
    ] = None,
    all_frames: Annotated[
        bool, typer.Option("--all", help="Contact sheet of many frames instead of one grid.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many frames per camera on a sheet.")] = 48,
    annotators: Annotated[
        str | None, options.annotators_option("Comma-separated tiles to show (default: every one recorded).")
    ] = None,
    taxonomy: Annotated[str | None, options.taxonomy_option("Taxonomy (semantic type) to show (default: all).")] = None,
    classes: Annotated[Path | None, options.classes_option()] = None,
    depth: Annotated[
        str, typer.Option("--depth", metavar="MODE", help="Depth display: auto, fixed (needs --near/--far) or log.")
    ] = "auto",
    near: Annotated[float | None, typer.Option("--near", help="Nearest depth shown (scene units).")] = None,
    far: Annotated[float | None, typer.Option("--far", help="Farthest depth shown (scene units).")] = None,
    blend: Annotated[bool, typer.Option("--blend", help="Blend segmentation over RGB.")] = False,
    alpha: Annotated[float, typer.Option("--alpha", help="Opacity of blended segmentation (0..1).")] = 0.5,
    max_tile: Annotated[int, typer.Option("--max-tile", help="Longest side of a tile in pixels.")] = 512,
    overwrite: Annotated[bool, options.overwrite_option("Replace the output PNG if it exists.")] = False,
) -> None:
    """Summarize a recorded dataset and draw one frame's annotators (or a contact sheet) into a PNG."""
    if out is not None:
        check_png_target(out, overwrite=overwrite)  # before reading anything
    settings = view_options(depth, near, far, alpha, blend, taxonomy, options.load_classes(classes))
    dataset = open_dataset(folder)
    print_summary(summarize_with_progress(dataset))
    if out is None:
        console.print("add -o grid.png to draw a frame (or --all -o sheet.png for a contact sheet)")
        return
    if all_frames:
        cameras = [named_option("--camera", dataset.camera, camera)] if camera is not None else dataset.cameras
        total = sum(len(sample_frames(dataset.frames(c), limit)) for c in cameras)
        with progress() as bar:
            task = bar.add_task("drawing frames", total=total)
            image = contact_sheet(
                dataset,
                cameras,
                limit=limit,
                max_tile=min(max_tile, 320),
                options=settings,
                on_frame=lambda: bar.advance(task),
            )
        save_png(image, out, overwrite=overwrite)
        size = f" ({image.shape[1]}x{image.shape[0]})"
        echo(f"contact sheet of {total} frames written to ", (str(out), "bold"), size)
        return
    if camera is None and len(dataset.cameras) > 1:
        chosen = dataset.cameras[0]
        others = ", ".join(camera_title(c) for c in dataset.cameras[1:])
        echo(f"showing camera {camera_title(chosen)} (also: {others}; pick one with --camera)")
    else:
        chosen = named_option("--camera", dataset.camera, camera)
    token = named_option("--frame", dataset.frame, chosen, frame)
    names = options.parse_names(annotators) if annotators else None
    tiles = frame_grid(dataset, chosen, token, names, settings)
    print_problems(tiles)
    image = compose(tiles, plan_layout(tiles, max_tile=max_tile))
    save_png(image, out, overwrite=overwrite)
    echo(
        f"{len(tiles)} tiles of {camera_title(chosen)} frame {token} written to ",
        (str(out), "bold"),
        f" ({image.shape[1]}x{image.shape[0]})",
    )


def free_name(path: Path) -> Path:
    """``path``, or ``<stem>_1<suffix>``, ``<stem>_2<suffix>``... whichever does not exist yet."""
    candidate, number = path, 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}_{number}{path.suffix}")
    return candidate


def find_dataset(folder: Path, preferred: Path | None = None) -> Dataset | None:
    """The dataset at ``preferred``, else the most recently written folder under ``folder`` that reads as one."""
    candidates = [preferred] if preferred is not None else []
    if folder.is_dir():
        candidates += sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: -p.stat().st_mtime)
    for candidate in candidates:
        if candidate is not None and candidate.is_dir():
            try:
                return open_dataset(candidate)
            except SdgStudioError:
                continue
    return None


def contact_sheet_step(folder: Path, recorded: Path | None = None, classes: ClassTable | None = None) -> Path | None:
    """The demo's last step: summarize what was recorded under ``folder`` and write a contact sheet beside it."""
    dataset = find_dataset(folder, recorded)
    if dataset is None:
        echo(f"nothing recorded under {folder}/ yet: no contact sheet to write")
        return None
    print_summary(summarize_with_progress(dataset))
    total = sum(len(sample_frames(dataset.frames(c), 48)) for c in dataset.cameras)
    with progress() as bar:
        task = bar.add_task("drawing frames", total=total)
        image = contact_sheet(
            dataset,
            dataset.cameras,
            max_tile=320,
            options=ViewOptions(palette=LabelPalette(classes)),
            on_frame=lambda: bar.advance(task),
        )
    out = save_png(image, free_name(folder / "contact_sheet.png"))
    echo(f"contact sheet of {total} frames of {dataset.root} written to ", (str(out), "bold"))
    return out


def register(app: typer.Typer) -> None:
    app.command()(view)
