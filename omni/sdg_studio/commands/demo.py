"""``sdg-studio demo``: the main job on the shipped sample scene, one step per feature."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.info import print_stage_info
from omni.sdg_studio.commands.label import print_coverage
from omni.sdg_studio.commands.output import console, echo
from omni.sdg_studio.commands.record import record_demo
from omni.sdg_studio.commands.render import render_every_camera
from omni.sdg_studio.commands.view import contact_sheet_step
from omni.sdg_studio.core.semantics.apply import LabelTarget, apply
from omni.sdg_studio.core.semantics.coverage import coverage
from omni.sdg_studio.core.semantics.layers import open_labeled, save_labeled_root, save_labels_layer
from omni.sdg_studio.core.semantics.plan import plan
from omni.sdg_studio.core.semantics.rules_file import load_class_table, load_rules
from omni.sdg_studio.core.stage_info import stage_info
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.resources import CONFIG_DIR, SAMPLE_SCENE, shipped_file

WAREHOUSE_RULES = CONFIG_DIR / "rules" / "warehouse.yaml"
DEFAULT_OUT = Path("_out/demo")


def label_sample_scene(scene: Path, out: Path) -> Path:
    """Label ``scene`` by the shipped warehouse rules into ``out/`` (the scene is not touched).

    Writes ``warehouse_labels.usda`` (the label opinions) and ``warehouse_labeled.usda`` (a root that
    sublayers them above the scene: the stage the later steps render) and prints coverage before and after.
    """
    print_coverage(coverage(open_stage(scene)), "Before: the labels the scene ships with", histogram=False)
    labeled = open_labeled(scene, out / "warehouse_labels.usda")
    rules = shipped_file(WAREHOUSE_RULES)
    result = plan(labeled.stage, load_rules(rules))
    counts = ", ".join(f"{action} {n}" for action, n in result.counts().items()) or "nothing to do"
    echo(f"rules {rules.name}: {counts}")
    apply(labeled.stage, result, LabelTarget.of_layer(labeled.labels_layer))
    out.mkdir(parents=True, exist_ok=True)
    save_labels_layer(labeled)
    root = out / "warehouse_labeled.usda"
    save_labeled_root(labeled, root, overwrite=True)
    print_coverage(coverage(labeled.stage), f"After: {root}")
    return root


def step(title: str) -> None:
    """A numbered step's heading."""
    console.rule(Text(title, style="bold"))


def demo(
    out: Annotated[Path, options.out_option("Folder for everything the demo writes.")] = DEFAULT_OUT,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of the recording's randomization.")] = 0,
) -> None:
    """Run SDG Studio end to end on the sample warehouse scene."""
    scene = shipped_file(SAMPLE_SCENE)
    rules = shipped_file(WAREHOUSE_RULES)
    classes = load_class_table(rules)
    step("1. What the sample scene holds")
    print_stage_info(stage_info(open_stage(scene), path=str(scene)))
    step("2. Label it by rules (config/rules/warehouse.yaml) into a labels layer")
    labeled = label_sample_scene(scene, out)
    step("3. One frame of each camera, every annotator (embedded renderer)")
    render_every_camera(labeled, out / "render", classes=classes)
    step("4. Record 10 frames from the three cameras, randomized by config/scenarios/warehouse_offline.yaml")
    record_demo(labeled, out / "recording", seed, classes=rules)
    step("5. A contact sheet of what the demo recorded")
    contact_sheet_step(out, out / "recording", classes=classes)
    echo("\n", ("demo finished", "green"), f"; outputs go under {out}/")


def register(app: typer.Typer) -> None:
    app.command()(demo)
