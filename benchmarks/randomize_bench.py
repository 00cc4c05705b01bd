"""Randomization speed, each ratio against a baseline measured in the same run.

1. **Authoring** (issue 9 target: <= 1.5x). Applying a scenario that moves N prims (default 1,000:
   random position and XYZ rotation) with :class:`RandomizationEngine` -- drawing the values, clearing
   the previous frame, writing the new one, cleaning up -- against a bare loop of
   ``UsdGeom.XformCommonAPI.SetTranslate`` + ``SetRotate`` on the same prims in one ``Sdf.ChangeBlock``
   (values drawn beforehand, outside the timed region), editing an anonymous session sublayer too.
   Frames alternate between the two so both see the same machine load; medians are reported.
2. **Embedded render after the move** (target: <= 1.5x). ``EmbeddedBackend.render`` (rgb) of a frame
   in which the N objects moved, against a frame in which only the camera moved (the scene unchanged,
   so both frames cast their rays; an unchanged camera would reuse the last cast). Only the render is
   timed. What this shows depends on the renderer's cache handling (branch ``render``).

Run: ``python benchmarks/randomize_bench.py [--prims 1000] [--frames 15] [--no-render]``. Not run by pytest.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom
from rich.console import Console
from rich.table import Table

from omni.sdg_studio.core.randomize import RandomizationEngine, parse_scenario_text

console = Console(width=160)

MOVE = """\
randomizers:
  - type: pose
    select: {{glob: "Obj_*"}}
    position: {{uniform: [[-{half}, -{half}, 0], [{half}, {half}, 2]]}}
    rotation: {{euler: {{uniform: [[0, 0, 0], [360, 360, 360]]}}}}
"""
CAMERA = """\
  - type: camera
    select: /World/Camera
    jitter: {position: 0.05, rotation: 0.5}
"""


def build(count: int) -> Usd.Stage:
    """A Z-up stage with ``count`` cubes (each with a translate op, as scenes author them) and a camera."""
    stage = Usd.Stage.CreateInMemory("bench.usda")
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.Xform.Define(stage, "/World")
    UsdGeom.Xform.Define(stage, "/World/Objects")
    side = int(np.ceil(np.sqrt(count)))
    for i in range(count):
        cube = UsdGeom.Cube.Define(stage, f"/World/Objects/Obj_{i:05d}")
        cube.CreateSizeAttr(0.3)
        cube.CreateExtentAttr([(-0.15, -0.15, -0.15), (0.15, 0.15, 0.15)])
        cube.AddTranslateOp().Set(Gf.Vec3d(i % side - side / 2, i // side - side / 2, 0.15))
    camera = UsdGeom.Camera.Define(stage, "/World/Camera")
    camera.AddTransformOp().Set(
        Gf.Matrix4d().SetLookAt(Gf.Vec3d(0, -side, side), Gf.Vec3d(0, 0, 0), Gf.Vec3d(0, 0, 1)).GetInverse()
    )
    return stage


def bare_loop(stage: Usd.Stage, layer: Sdf.Layer, prims: list[Usd.Prim], values: list[tuple]) -> float:
    """Seconds for ``XformCommonAPI.SetTranslate`` + ``SetRotate`` on ``prims`` in one change block."""
    start = time.perf_counter()
    with Usd.EditContext(stage, Usd.EditTarget(layer)), Sdf.ChangeBlock():
        for prim, (translate, rotate) in zip(prims, values, strict=True):
            api = UsdGeom.XformCommonAPI(prim)
            api.SetTranslate(translate)
            api.SetRotate(rotate)
    return time.perf_counter() - start


def authoring(count: int, frames: int) -> tuple[float, float]:
    """Median seconds per frame: (engine, bare loop)."""
    engine_stage, bare_stage = build(count), build(count)
    engine = RandomizationEngine(engine_stage, parse_scenario_text(MOVE.format(half=count**0.5 / 2)), seed=1)
    layer = Sdf.Layer.CreateAnonymous("bare")
    bare_stage.GetSessionLayer().subLayerPaths.insert(0, layer.identifier)
    prims = [p for p in bare_stage.Traverse() if p.GetName().startswith("Obj_")]
    rng = np.random.default_rng(1)
    engine_times, bare_times = [], []
    for frame in range(frames + 1):  # frame 0 warms up (creates the specs) and is not counted
        positions = rng.uniform(-10, 10, (count, 3)).tolist()
        angles = rng.uniform(0, 360, (count, 3)).tolist()
        values = [(Gf.Vec3d(*p), Gf.Vec3f(*a)) for p, a in zip(positions, angles, strict=True)]
        bare = bare_loop(bare_stage, layer, prims, values)
        start = time.perf_counter()
        engine.apply(frame)
        ours = time.perf_counter() - start
        if frame:
            engine_times.append(ours)
            bare_times.append(bare)
    return statistics.median(engine_times), statistics.median(bare_times)


def render_after_move(count: int, frames: int, resolution: int) -> tuple[float, float, str]:
    """Median render seconds: (after moving ``count`` objects, after moving only the camera), engine name."""
    from omni.sdg_studio.backends.embedded import EmbeddedBackend

    timings = {}
    name = ""
    for label, text in (("camera", "randomizers:\n" + CAMERA), ("objects", MOVE.format(half=count**0.5 / 2) + CAMERA)):
        stage = build(count)
        backend = EmbeddedBackend(stage)
        name = backend.engine_name
        engine = RandomizationEngine(stage, parse_scenario_text(text), seed=2)
        times = []
        for frame in range(frames + 1):
            engine.apply(frame)
            start = time.perf_counter()
            backend.render("/World/Camera", (resolution, resolution), ["rgb"])
            if frame:  # frame 0 inserts the session sublayer: a full extraction, not counted
                times.append(time.perf_counter() - start)
        backend.close()
        timings[label] = statistics.median(times)
    return timings["objects"], timings["camera"], name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prims", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=15)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--no-render", action="store_true", help="skip the embedded-render half")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    ours, bare = authoring(args.prims, args.frames)
    table = Table(title=f"Moving {args.prims} prims per frame (median of {args.frames} frames)")
    for column in ("measure", "engine", "baseline", "ratio", "target"):
        table.add_column(column)
    table.add_row(
        "author a frame (engine vs XformCommonAPI loop)",
        f"{ours * 1e3:.1f} ms",
        f"{bare * 1e3:.1f} ms",
        f"{ours / bare:.2f}x",
        "<= 1.5x",
    )
    if not args.no_render:
        moved, still, name = render_after_move(args.prims, args.frames, args.resolution)
        table.add_row(
            f"embedded render ({name}, {args.resolution}²): objects moved vs camera only",
            f"{moved * 1e3:.1f} ms",
            f"{still * 1e3:.1f} ms",
            f"{moved / still:.2f}x",
            "<= 1.5x",
        )
    console.print(table)


if __name__ == "__main__":
    main()
