"""Benchmark the labeling engine against a bare traversal and against the naive script approach.

    python benchmarks/label_bench.py                      # 10k, 100k, 1M prims, flat and deep
    python benchmarks/label_bench.py --sizes 100000 1000000 --shapes flat --repeat 3

For every stage size and shape (a fresh process each, so peak memory is per run):

* floor: a bare ``Usd.PrimRange`` over the stage (instance proxies included), doing nothing;
* names: the same traversal reading each prim's name and type in a Python loop, the least any name
  rule needs (the baseline of the speed target);
* plan + apply: 20 rules planned, then written into an empty labels sublayer (one ChangeBlock);
* naive: what scripts do today: for each rule, traverse the stage and, per matching prim,
  ``LabelsAPI.Apply`` + ``Set`` outside a ChangeBlock (skipped above ``--naive-max`` prims);
* RSS stage: the process right after the stage is opened; peak: the most it held up to the end of
  plan + apply (the check that a second plan finds nothing to do, and naive, come after).

Targets (issue 12), each a ratio measured in the same run: plan + apply <= 3x the names pass at 1M
prims; >= 10x faster than naive at 100k prims; peak memory <= 1.5x the stage's own RSS.
With ``--repeat N`` each case runs N times (fresh processes) and the table shows medians. Times are this
process's CPU seconds by default (``--clock wall`` for elapsed time): on a shared, loaded machine the
waits for other processes would otherwise decide the ratios.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TypeVar

from pxr import Sdf, Usd, UsdSemantics
from rich.console import Console
from rich.table import Table

from omni.sdg_studio.core.semantics.apply import LabelTarget, apply
from omni.sdg_studio.core.semantics.matching import TRAVERSAL
from omni.sdg_studio.core.semantics.plan import plan
from omni.sdg_studio.core.semantics.rules_file import parse_rules_text

console = Console(highlight=False, width=240)
T = TypeVar("T")

# Asset kinds of a warehouse, shaped like SimReady assets: a root, its meshes, and a Looks scope with
# materials and shaders. (root name pattern, root type, meshes, materials)
ASSETS: list[tuple[str, str, list[str], int]] = [
    ("SM_PalletA_{n:05d}", "Xform", ["Deck", "Stringer_01", "Stringer_02", "Stringer_03", "Board_01", "Board_02"], 1),
    ("SM_CardBox{v}_{n:05d}", "Xform", ["Box", "Tape"], 2),
    ("SM_RackShelf_{n:04d}", "Xform", [*(f"SM_RackPost_{i:02d}" for i in range(1, 7)), "Board_01", "Board_02"], 2),
    ("S_TrafficCone_{n:04d}", "Xform", ["Base", "Body", "Stripe"], 2),
    ("Forklift_{n:03d}", "Xform", ["Body", "Seat", "Mast", "Fork_L", "Fork_R", "Wheel_FL", "Wheel_FR", "Wheel_RL"], 3),
    ("SM_Barrel_{n:05d}", "Xform", ["Body", "Lid"], 1),
    ("SM_Crate_{n:05d}", "Xform", ["Body", "Lid"], 1),
    ("Mattress_{n:03d}", "Mesh", [], 0),
    ("SteelMat_{n:03d}", "Mesh", [], 0),
    ("SM_Wall_{v}_{n:03d}", "Mesh", [], 0),
    ("LightFixture_{n:04d}", "Xform", ["Lamp", "Housing"], 1),
    ("Decal_{n:05d}", "Mesh", [], 0),
]
WEIGHTS = [6, 10, 2, 3, 1, 6, 4, 1, 1, 2, 3, 4]

RULES = """
version: 1
defaults: {taxonomy: class, mode: add, hierarchy: topmost}
scope: {roots: [/World], exclude: [/World/Looks]}
normalize: {strip_prefixes: [SM, S]}
rules:
  - {id: pallets, match: {regex: 'SM_Pallet[A-Z]_\\d+'}, labels: pallet}
  - {id: cardboxes, match: {regex: 'SM_CardBox(?P<v>[A-Z])_\\d+'}, labels: {class: cardbox, size: '{v|lower}'}}
  - {id: racks, match: {glob: 'SM_RackShelf_*'}, labels: rack}
  - {id: cones, match: {glob: 'S_TrafficCone_*'}, labels: traffic_cone}
  - {id: forklifts, match: {glob: 'Forklift_*'}, labels: forklift}
  - {id: barrels, match: {contains: barrel}, labels: barrel}
  - {id: crates, match: {glob: 'SM_Crate_*'}, labels: crate}
  - {id: mattresses, match: {glob: 'Mattress_*'}, labels: mattress}
  - {id: mats, match: {regex: 'SteelMat_\\d+'}, labels: floor_mat}
  - {id: walls, match: {regex: 'SM_Wall_[A-Z]_\\d+'}, labels: wall}
  - {id: lamps, match: {glob: 'LightFixture_*'}, labels: lamp}
  - {id: wheels, match: {glob: 'Wheel_*'}, labels: {part: wheel}}
  - {id: forks, match: {regex: 'Fork_[LR]'}, labels: {part: fork}}
  - {id: lids, match: {glob: Lid}, labels: {part: lid}}
  - {id: seats, match: {glob: Seat}, labels: {part: seat}}
  - {id: decals, match: {glob: 'Decal_*'}, action: exclude}
  - {id: zone-3, match: {glob: '/World/**/Zone_3/**/SM_*', on: path}, labels: {zone: three}}
  - {id: no-lamps-in-zone-9, match: [{glob: Lamp}, {glob: '/World/**/Zone_9/**', on: path}], action: exclude}
  - {id: unused, match: {glob: 'Helicopter_*'}, labels: helicopter}
  - {id: by-name, auto: true, isa: [Gprim], priority: -10}
"""
# What a script does today for (about) the same labels: (regex on the name, taxonomy, labels).
NAIVE_RULES: list[tuple[str, str, list[str]]] = [
    (r"SM_Pallet[A-Z]_\d+", "class", ["pallet"]),
    (r"SM_CardBox[A-Z]_\d+", "class", ["cardbox"]),
    (r"SM_RackShelf_.*", "class", ["rack"]),
    (r"S_TrafficCone_.*", "class", ["traffic_cone"]),
    (r"Forklift_.*", "class", ["forklift"]),
    (r".*barrel.*", "class", ["barrel"]),
    (r"SM_Crate_.*", "class", ["crate"]),
    (r"Mattress_.*", "class", ["mattress"]),
    (r"SteelMat_\d+", "class", ["floor_mat"]),
    (r"SM_Wall_[A-Z]_\d+", "class", ["wall"]),
    (r"LightFixture_.*", "class", ["lamp"]),
    (r"Wheel_.*", "part", ["wheel"]),
    (r"Fork_[LR]", "part", ["fork"]),
    (r"Lid", "part", ["lid"]),
    (r"Seat", "part", ["seat"]),
    (r"SM_CardBoxA_.*", "size", ["a"]),
    (r"SM_CardBoxB_.*", "size", ["b"]),
    (r"SM_CardBoxC_.*", "size", ["c"]),
    (r"SM_CardBoxD_.*", "size", ["d"]),
    (r"Helicopter_.*", "class", ["helicopter"]),
]


def build_layer(prims: int, shape: str) -> Sdf.Layer:
    """About ``prims`` prims of warehouse assets, flat (under /World) or deep (/World/Site/Building/Zone/Aisle/Bay)."""
    layer = Sdf.Layer.CreateAnonymous("bench_scene.usda")
    counters = [0] * len(ASSETS)
    pattern = [i for i, w in enumerate(WEIGHTS) for _ in range(w)]
    with Sdf.ChangeBlock():
        world = Sdf.PrimSpec(layer, "World", Sdf.SpecifierDef, "Xform")
        looks = Sdf.PrimSpec(world, "Looks", Sdf.SpecifierDef, "Scope")
        for i in range(20):
            Sdf.PrimSpec(looks, f"M_Material_{i:02d}", Sdf.SpecifierDef, "Material")
        count, assets, parent = 22, 0, world
        while count < prims:
            if shape == "deep" and assets % 40 == 0:  # 40 assets per bay, 10 bays per aisle, ...
                bay = assets // 40
                parent = world
                for name in (
                    f"Site_{bay // 8000}",
                    f"Building_{bay // 2000 % 4}",
                    f"Zone_{bay // 200 % 10}",
                    f"Aisle_{bay // 10 % 20}",
                    f"Bay_{bay % 10}",
                ):
                    child = parent.nameChildren.get(name)
                    if child is None:
                        child = Sdf.PrimSpec(parent, name, Sdf.SpecifierDef, "Xform")
                        count += 1
                    parent = child
            kind = pattern[assets % len(pattern)]
            name_format, root_type, meshes, materials = ASSETS[kind]
            counters[kind] += 1
            name = name_format.format(n=counters[kind], v="ABCD"[counters[kind] % 4])
            root = Sdf.PrimSpec(parent, name, Sdf.SpecifierDef, root_type)
            for mesh in meshes:
                Sdf.PrimSpec(root, mesh, Sdf.SpecifierDef, "Mesh")
            if materials:
                looks = Sdf.PrimSpec(root, "Looks", Sdf.SpecifierDef, "Scope")
                for m in range(materials):
                    material = Sdf.PrimSpec(looks, f"M_{name_format[:6].strip('_{')}_{m}", Sdf.SpecifierDef, "Material")
                    Sdf.PrimSpec(material, "Shader", Sdf.SpecifierDef, "Shader")
            count += 1 + len(meshes) + (1 + 2 * materials if materials else 0)
            assets += 1
    return layer


#: The clock of every measurement (``--clock``): this process's CPU time by default (all its threads), which
#: other processes on a shared machine do not inflate; ``wall`` is elapsed time.
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def timed(action: Callable[[], T]) -> tuple[float, T]:
    start = clock()
    result = action()
    return clock() - start, result


def labeled_stage(base: Sdf.Layer) -> tuple[Usd.Stage, Sdf.Layer]:
    labels = Sdf.Layer.CreateAnonymous("labels.usda")
    root = Sdf.Layer.CreateAnonymous("root.usda")
    root.subLayerPaths.append(labels.identifier)
    root.subLayerPaths.append(base.identifier)
    return Usd.Stage.Open(root), labels


def floor(stage: Usd.Stage) -> int:
    count = 0
    for _ in Usd.PrimRange.Stage(stage, TRAVERSAL):
        count += 1
    return count


def names_and_types(stage: Usd.Stage) -> None:
    for prim in Usd.PrimRange.Stage(stage, TRAVERSAL):
        prim.GetName()
        prim.GetTypeName()


def naive(stage: Usd.Stage) -> int:
    """What scripts do today: for each rule, traverse the stage and, per match, add the labels the way Isaac Sim's
    ``add_labels`` helper does (``LabelsAPI.Apply``, read the labels, append, ``Set``), outside any ChangeBlock."""
    written = 0
    for pattern, taxonomy, labels in NAIVE_RULES:
        compiled = re.compile(pattern, re.IGNORECASE)
        for prim in stage.Traverse():
            if compiled.fullmatch(prim.GetName()):
                attr = UsdSemantics.LabelsAPI.Apply(prim, taxonomy).GetLabelsAttr()
                existing = list(attr.Get() or [])
                attr.Set(existing + [label for label in labels if label not in existing])
                written += 1
    return written


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


@dataclass
class Result:
    size: int
    shape: str
    prims: int
    floor: float
    names: float
    plan: float
    apply: float
    rows: int
    naive: float | None
    rss_stage: float
    peak: float


def run_one(size: int, shape: str, naive_max: int) -> Result:
    base = build_layer(size, shape)
    stage, labels = labeled_stage(base)
    rss_stage = rss_mib()
    floor(stage)  # warm the prim cache the way any tool's first pass would
    floor_time, prims = min((timed(lambda: floor(stage)) for _ in range(3)), key=lambda t: t[0])
    names_time = min(timed(lambda: names_and_types(stage))[0] for _ in range(2))
    rules = parse_rules_text(RULES)
    plan_time, result = timed(lambda: plan(stage, rules))
    apply_time, _ = timed(lambda: apply(stage, result, LabelTarget.of_layer(labels)))
    rows = len(result.changes)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # plan + apply only, not the checks below
    assert not plan(stage, rules).changes, "apply must leave nothing to do"
    naive_time = None
    if size <= naive_max:
        naive_stage, naive_labels = labeled_stage(base)
        naive_stage.SetEditTarget(Usd.EditTarget(naive_labels))
        naive_time, _ = timed(lambda: naive(naive_stage))
    return Result(
        size,
        shape,
        int(prims),
        floor_time,
        names_time,
        plan_time,
        apply_time,
        rows,
        naive_time,
        rss_stage,
        peak,
    )


def _worker(args: tuple[int, str, int, str], queue: multiprocessing.Queue) -> None:
    global clock
    clock = CLOCKS[args[3]]
    queue.put(run_one(*args[:3]))


def median_result(results: list[Result]) -> Result:
    """Per field, the median of several runs of one case."""
    values = {}
    for f in fields(Result):
        column = [getattr(r, f.name) for r in results]
        if f.name == "shape":
            values[f.name] = column[0]
        elif any(v is None for v in column):
            values[f.name] = None
        else:
            values[f.name] = statistics.median(column)
    return Result(**values)


def run_case(size: int, shape: str, naive_max: int, repeat: int, clock_name: str) -> tuple[Result, list[Result]]:
    """``repeat`` runs of one case, each in a fresh process (peak memory is per run)."""
    context = multiprocessing.get_context("spawn")
    runs = []
    for _ in range(repeat):
        queue = context.Queue()
        worker = context.Process(target=_worker, args=((size, shape, naive_max, clock_name), queue))
        worker.start()
        runs.append(queue.get())
        worker.join()
    return median_result(runs), runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--shapes", nargs="+", default=["flat", "deep"], choices=["flat", "deep"])
    parser.add_argument("--naive-max", type=int, default=100_000, help="largest stage the naive approach runs on")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the table shows medians")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="cpu", help="cpu: this process's CPU time (default); wall: elapsed"
    )
    args = parser.parse_args(argv)
    table = Table(
        "prims",
        "shape",
        "runs",
        "floor s",
        "names s",
        "plan s",
        "apply s",
        "rows",
        "(plan+apply)/floor",
        "(plan+apply)/names",
        "naive s",
        "naive/(plan+apply)",
        "RSS stage MiB",
        "peak MiB",
        "peak/stage",
        title=f"label_bench (usd-core {'.'.join(map(str, Usd.GetVersion()))}; {args.clock} seconds; medians of runs)",
    )
    for size in args.sizes:
        for shape in args.shapes:
            r, runs = run_case(size, shape, args.naive_max, args.repeat, args.clock)
            both = r.plan + r.apply
            for run in runs:  # every run's same-run ratios, so the spread is visible
                ratio = (run.plan + run.apply) / run.names
                naive = f", naive/(plan+apply) {run.naive / (run.plan + run.apply):.1f}x" if run.naive else ""
                console.print(
                    f"run: {run.prims:,} prims {shape}: (plan+apply)/names {ratio:.2f}x{naive}, "
                    f"peak/stage {run.peak / run.rss_stage:.2f}"
                )
            table.add_row(
                f"{r.prims:,.0f}",
                r.shape,
                str(len(runs)),
                f"{r.floor:.3f}",
                f"{r.names:.3f}",
                f"{r.plan:.3f}",
                f"{r.apply:.3f}",
                f"{r.rows:,.0f}",
                f"{both / r.floor:.1f}x",
                f"{both / r.names:.2f}x",
                f"{r.naive:.2f}" if r.naive is not None else "skipped",
                f"{r.naive / both:.1f}x" if r.naive is not None else "-",
                f"{r.rss_stage:.0f}",
                f"{r.peak:.0f}",
                f"{r.peak / r.rss_stage:.2f}",
            )
    console.print(table)
    console.print("targets: (plan+apply)/names <= 3 at 1M; naive/(plan+apply) >= 10 at 100k; peak/stage <= 1.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
