"""``sdg-studio info STAGE``: what a stage holds, for people (tables) or machines (``--json``)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.label import LayerOption, SiblingOption, StrictOption, check_strict, print_view
from omni.sdg_studio.commands.output import console, echo, print_json
from omni.sdg_studio.core.semantics.layers import open_label_view
from omni.sdg_studio.core.stage_info import StageInfo, stage_info
from omni.sdg_studio.core.stage_io import load_problems


def print_stage_info(info: StageInfo) -> None:
    """Render ``info`` as a few rich tables."""
    echo((info.path, "bold"), f"  ({info.up_axis}-up, {info.meters_per_unit:g} m/unit)")
    console.print(
        f"prims: {info.prim_count}   gprims: {info.gprim_count} "
        f"(labeled {info.gprims_labeled}, unlabeled {info.gprims_unlabeled})"
    )
    cams = Table(title="Cameras")
    cams.add_column("camera", overflow="fold")
    for heading in ("focal (mm)", "aperture (mm)", "resolution hint"):
        cams.add_column(heading, no_wrap=True)
    for cam in info.cameras:
        cams.add_row(
            cam.path,
            f"{cam.focal_length:g}",
            f"{cam.horizontal_aperture:g} x {cam.vertical_aperture:g}",
            f"{cam.resolution_hint[0]}x{cam.resolution_hint[1]}",
        )
    console.print(cams if info.cameras else "no cameras on this stage")
    labels = Table("taxonomy", "label", "prims", title="Labels (direct, both schemas)")
    for taxonomy, counts in info.label_histogram.items():
        for label, count in counts.items():
            labels.add_row(taxonomy, label, str(count))
    console.print(labels if info.label_histogram else "no labels on this stage")
    if info.legacy_prims:
        console.print(f"legacy SemanticsAPI prims ({len(info.legacy_prims)}): " + ", ".join(info.legacy_prims))


def info(
    stage: Annotated[Path, options.stage_argument()],
    layer: LayerOption = None,
    sibling: SiblingOption = True,
    strict: StrictOption = False,
    as_json: Annotated[bool, options.json_option()] = False,
) -> None:
    """Show prims, cameras, labeled / unlabeled geometry, taxonomies and legacy labels of a stage.

    The stage is read as `labels` and `label` read it (with its sibling <stem>_labels.usda unless
    --no-sibling-labels); the labels layers included and any asset that did not load are listed.
    """
    view = open_label_view(stage, layer, sibling)
    problems = load_problems(view.stage)
    if strict:
        check_strict(problems)
    result = stage_info(view.stage, path=str(stage))
    if as_json:
        data = result.to_json()
        data["labels_layers"] = [asdict(included) for included in view.included]
        data["load_problems"] = [asdict(problem) for problem in problems]
        print_json(data)
    else:
        print_stage_info(result)
        print_view(view.included, problems)


def register(app: typer.Typer) -> None:
    app.command()(info)
