"""``sdg-studio demo``: the main job on the shipped sample scene, one step per feature."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omni.sdg_studio.commands.info import print_stage_info
from omni.sdg_studio.commands.output import console
from omni.sdg_studio.commands.record import record_demo
from omni.sdg_studio.commands.render import render_every_camera
from omni.sdg_studio.commands.view import contact_sheet_step
from omni.sdg_studio.core.stage_info import stage_info
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.resources import SAMPLE_SCENE, shipped_file


def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for everything the demo writes.")] = Path(
        "sdg_demo_out"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the recording's camera jitter.")] = 0,
) -> None:
    """Run SDG Studio end to end on the sample warehouse scene."""
    scene = shipped_file(SAMPLE_SCENE)
    console.rule("[bold]1. What the sample scene holds")
    print_stage_info(stage_info(open_stage(scene), path=str(scene)))
    console.rule("[bold]2. One frame of each camera (embedded renderer)")
    render_every_camera(scene, out / "render")
    console.rule("[bold]3. Record 10 frames from the three cameras (jittered per frame, BasicWriter)")
    record_demo(scene, out / "recording", seed)
    console.rule("[bold]4. A contact sheet of what the demo recorded")
    contact_sheet_step(out, out / "recording")
    console.print(f"\n[green]demo finished[/green]; outputs go under {out}/")


def register(app: typer.Typer) -> None:
    app.command()(demo)
