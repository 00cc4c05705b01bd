"""``sdg-studio randomize STAGE --scenario FILE --frame N -o frame_N.usda``: one frame's variation as a USD layer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.output import console, print_json
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.randomize import RandomizationEngine, export_frame, load_scenario
from omni.sdg_studio.core.stage_io import USD_SUFFIXES, open_stage


def randomize(
    stage: Annotated[Path, typer.Argument(metavar="STAGE", help="USD stage to randomize (it is not modified).")],
    scenario: Annotated[Path, options.scenario_option("Scenario file (YAML or JSON).")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="USD layer to write (.usda, .usd, .usdc).")],
    frame: Annotated[int, typer.Option("--frame", metavar="N", min=0, help="Frame whose variation to write.")] = 0,
    seed: Annotated[
        int | None, typer.Option("--seed", metavar="N", min=0, help="Seed (default: the scenario's, else 0).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on a select matching nothing or prims that did not fit.")
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the output file if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the frame's drawn values as JSON.")] = False,
) -> None:
    """Write frame N of a scenario as a layer over STAGE: open it in any USD viewer to see that frame."""
    if out.suffix.lower() not in USD_SUFFIXES[:3]:
        raise SdgStudioError(f"{out}: the output must be a USD layer ({', '.join(USD_SUFFIXES[:3])})")
    if out.exists() and not overwrite:
        raise SdgStudioError(f"{out}: already exists; pass --overwrite to replace it")
    loaded = load_scenario(scenario)
    usd = open_stage(stage)
    engine = RandomizationEngine(usd, loaded, seed=seed, strict=strict)
    try:
        record = engine.apply(frame)
        layer = engine.frame_layer
        assert layer is not None
        comment = f"SDG Studio randomization: frame {frame} of {scenario.name}, seed {engine.seed}"
        written = export_frame(layer, stage, out, comment)
    finally:
        engine.restore()
    if as_json:
        print_json(record.to_json())
        return
    console.print(
        f"frame {frame} (seed {engine.seed}): {len(record.randomizers)} randomizers changed "
        f"{record.prims_changed()} prims; wrote {written}",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command()(randomize)
