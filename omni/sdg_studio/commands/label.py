"""``sdg-studio label`` / ``labels`` / ``upgrade-semantics``: label a stage by rules, show coverage, upgrade legacy.

Where labels go (``label`` and ``upgrade-semantics``):

* default: ``<stem>_labels.usda`` (only the label opinions) and ``<stem>_labeled.usda`` (a small root
  that sublayers the labels above the stage) next to STAGE; the stage itself is not touched;
* ``--layer L``: the labels layer only; ``-o OUT``: a root holding the labels itself; both: L and a root
  sublayering L; ``--in-place``: the stage's own root layer.

Every command reads the stage as ``layers.open_label_view`` does (the sibling labels layer included
unless ``--no-sibling-labels``) and prints which labels layers it holds and what did not load.
Every file is written atomically (``core.atomic``); ``-o``/``--layer`` may not name the stage or
one of its layers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Annotated, cast

import typer
from pxr import Sdf, Usd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.output import console, echo, err_console, print_json
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.apply import LabelTarget, LabelUndo, apply
from omni.sdg_studio.core.semantics.coverage import Coverage, coverage
from omni.sdg_studio.core.semantics.layers import (
    IncludedLayer,
    LabeledStage,
    check_output,
    labeled_root_text,
    labels_layers_in,
    open_label_view,
    open_labeled,
    save_asset_labels_layers,
    save_labeled_root,
    save_labels_layer,
    sibling_labels_path,
    sweep_stale_temps,
)
from omni.sdg_studio.core.semantics.plan import Action, LabelPlan, plan
from omni.sdg_studio.core.semantics.prim_edits import upgrade_semantics
from omni.sdg_studio.core.semantics.rules import INSTANCE_POLICIES, InstancePolicy, RuleSet
from omni.sdg_studio.core.semantics.rules_file import load_rules
from omni.sdg_studio.core.stage_io import LoadProblem, export_layer_atomically, load_problems, open_stage

#: Stages with more prims than this get progress bars.
PROGRESS_FROM = 20_000
ACTION_STYLE = {
    Action.ADD: "green",
    Action.REPLACE: "cyan",
    Action.REMOVE: "red",
    Action.UPGRADE: "magenta",
    Action.SKIP: "dim",
    Action.REDIRECT: "blue",
    Action.DEINSTANCE: "yellow",
    Action.REFERENCE: "blue",
    Action.CONFLICT: "bold red",
    Action.WARN: "yellow",
}


@dataclass
class Destination:
    """Where a run writes: the labels layer file, the small root file, or the stage itself.

    The stage is read as every labeling tool reads it (``open_label_view``): the labels layer the run
    writes is part of the view, so a dry run shows exactly what the run would do.
    """

    stage_path: Path
    labels_path: Path | None
    root_path: Path | None
    in_place: bool = False
    #: The default labels layer exists but was left out (``--no-sibling-labels``): writing replaces it.
    replaces_sibling: bool = False

    @classmethod
    def from_options(
        cls, stage: Path, layer: Path | None, in_place: bool, out: Path | None, sibling: bool = True
    ) -> Destination:
        if in_place and (layer or out):
            raise SdgStudioError("--in-place writes into STAGE itself; it cannot be combined with --layer or --out")
        if in_place:
            if stage.suffix.lower() == ".usdz":
                raise SdgStudioError(
                    f"{stage}: a .usdz package cannot be written in place; leave out --in-place to write a labels layer"
                )
            return cls(stage, None, None, True)
        stage_file = stage.resolve()
        if layer is not None:
            check_output(stage_file, layer, "--layer")
        if out is not None:
            check_output(stage_file, out, "-o")
        if layer is None and out is None:
            labels = sibling_labels_path(stage)
            root = labels.with_name(f"{stage.stem}_labeled.usda")
            return cls(stage, labels, root, replaces_sibling=not sibling and labels.exists())
        return cls(stage, layer, out)

    def open(self) -> tuple[Usd.Stage, LabelTarget, LabeledStage | None, list[IncludedLayer]]:
        """The stage to plan on, the target layer of the writes, and the labels layers the view holds."""
        if self.in_place:
            stage = open_stage(self.stage_path)
            return stage, LabelTarget.of_layer(stage.GetRootLayer()), None, labels_layers_in(stage)
        if self.replaces_sibling:
            labeled = open_labeled(self.stage_path, self.labels_path, [], fresh=True)
        elif self.labels_path is not None and self.labels_path == sibling_labels_path(self.stage_path):
            shown = [IncludedLayer(str(self.labels_path), "sibling", self.labels_path.exists())]
            labeled = open_labeled(self.stage_path, self.labels_path, shown)
        else:
            labeled = open_labeled(self.stage_path, self.labels_path)
        return labeled.stage, LabelTarget.of_layer(labeled.labels_layer), labeled, labeled.included

    def save(self, stage: Usd.Stage, labeled: LabeledStage | None, undo: LabelUndo, force: bool) -> list[str]:
        """Write the files atomically; a differing root (or a replaced sibling) needs ``force``.

        Returns what was written. Leftover temporary files of an interrupted run are removed first.
        """
        if self.replaces_sibling and not force:
            raise SdgStudioError(
                f"{self.labels_path}: exists and was left out (--no-sibling-labels); pass --overwrite to replace it"
            )
        asset_files = [Path(layer.realPath or layer.identifier) for layer in undo.asset_layers]
        targets = [*asset_files, *(p for p in (self.labels_path, self.root_path) if p is not None)]
        if self.in_place:
            targets.append(self.stage_path)
        swept = sweep_stale_temps(targets)
        written = [f"{p} (leftover of an interrupted run, removed)" for p in swept]
        if labeled is None:
            export_layer_atomically(stage.GetRootLayer(), self.stage_path)
            written.append(f"{self.stage_path} (in place)")
        else:
            root = self.root_path
            differs = root is not None and root.exists() and root.read_text("utf-8") != labeled_root_text(labeled, root)
            if differs and not force:  # refused before anything is written
                raise SdgStudioError(f"{root}: exists and differs; pass --overwrite to replace it, or another --out")
            if self.labels_path is not None:
                written.append(f"{save_labels_layer(labeled)} (labels layer)")
            if self.root_path is not None:
                changed = save_labeled_root(labeled, self.root_path, overwrite=force)
                note = "open this one to record or view" if changed else "unchanged"
                written.append(f"{self.root_path.resolve()} (labeled stage: {note})")
        for path in save_asset_labels_layers(undo.asset_layers):
            written.append(f"{path} (part labels of the asset beside it)")
        return written


@contextmanager
def progress_bar(label: str, total: int | None, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on stderr when ``enabled``; yields the callback taking the count done."""
    if not enabled:
        yield None
        return
    columns = [TextColumn(f"[bold]{label}[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.update(task, completed=done)


def count_prims(stage: Usd.Stage) -> int:
    return sum(1 for _ in Usd.PrimRange.Stage(stage, Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)))


def print_view(included: Sequence[IncludedLayer], problems: Sequence[LoadProblem]) -> None:
    """Which labels layers the view of the stage holds, and what did not load."""
    shown = "; ".join(layer.describe() for layer in included) or "none"
    console.print(f"labels layers: {shown}", markup=False, soft_wrap=True)
    print_load_problems(problems)


def print_load_problems(problems: Sequence[LoadProblem]) -> None:
    if not problems:
        return
    echo((f"the stage did not load fully ({len(problems)} problems):", "yellow"))
    for problem in problems[:20]:
        console.print(f"  {problem.describe()}", markup=False, soft_wrap=True)
    if len(problems) > 20:
        console.print(f"  ... and {len(problems) - 20} more")


def check_strict(problems: Sequence[LoadProblem], result: LabelPlan | None = None) -> None:
    """``--strict``: a stage that did not load fully, or a plan with CONFLICT rows, is an error."""
    found = []
    if problems:
        found.append(f"{len(problems)} unresolved asset path(s) ({problems[0].describe()}, ...)")
    if result is not None and result.conflicts:
        first = result.conflicts[0]
        found.append(f"{len(result.conflicts)} CONFLICT row(s) (first: {first.where})")
    if found:
        raise SdgStudioError(f"--strict: {'; '.join(found)}; nothing written")


def check_selection(stage: Usd.Stage, paths: Sequence[str]) -> None:
    """Every ``--select`` path must name a prim of the stage."""
    for path in paths:
        if not Sdf.Path.IsValidPathString(path) or not Sdf.Path(path).IsAbsolutePath():
            raise SdgStudioError(f"--select {path!r}: not an absolute prim path (like /World/Props)")
        if not stage.GetPrimAtPath(path):
            raise SdgStudioError(f"--select {path}: no prim at this path")


#: Longest message shown in a table cell (WARN and CONFLICT rows are printed in full below the table).
TABLE_MESSAGE = 70


def _short(message: str) -> str:
    return message if len(message) <= TABLE_MESSAGE else message[: TABLE_MESSAGE - 1] + "…"


def print_plan(result: LabelPlan, max_rows: int, log: bool) -> None:
    """The plan as a table, the editor-style log lines, coverage numbers and rules that matched nothing."""
    shown = result.rows[:max_rows]
    table = Table("action", "prim", "taxonomy", "before", "after", "rule", title="Planned label changes")
    informs = (Action.WARN, Action.CONFLICT, Action.REDIRECT, Action.DEINSTANCE, Action.REFERENCE)
    for row in shown:
        style = ACTION_STYLE[row.action]
        after = _short(row.message) if row.action in informs else ", ".join(row.after)
        table.add_row(
            Text(row.action.value, style=style),
            Text(row.where),
            Text(row.taxonomy),
            Text(", ".join(row.before)),
            Text(after),
            Text(row.rule_id or ("(legacy)" if row.action in (Action.UPGRADE, Action.CONFLICT) else "")),
        )
    if shown:
        console.print(table)
    if len(result.rows) > len(shown):
        console.print(f"... {len(result.rows) - len(shown)} more rows (--max-rows N, --json, or --log for all)")
    lines = result.rows if log else [r for r in result.rows if r.action in (Action.WARN, Action.CONFLICT)]
    for row in lines:
        echo(row.log_line(preview=True))
    counts = ", ".join(f"{action} {count}" for action, count in result.counts().items()) or "no rows"
    echo((f"{len(result.changes)} changes", "bold"), f" ({counts}) over {result.prim_count} prims")
    if result.conflicts:
        echo(
            (f"{len(result.conflicts)} conflicts", "red"),
            f" (instances: {result.instance_policy}): labels not written; "
            "see the CONFLICT rows (instances: deinstance or asset label each part)",
        )
    if result.expanded_instances:
        echo(
            f"{len(result.expanded_instances)} instances expanded "
            "(made non-instanceable: each costs memory in Isaac Sim)"
        )
    for layer in result.asset_layers:
        echo(f"part labels go to {layer} (beside the asset; the asset is not touched)")
    if result.gprim_count:
        before = result.gprim_count - len(result.unlabeled_before_paths)
        after = result.gprim_count - len(result.unlabeled_paths)
        echo(
            f"geometry with a '{result.taxonomy}' label: {before}/{result.gprim_count} before, "
            f"{after}/{result.gprim_count} after"
        )
    if result.unlabeled_paths:
        listed = ", ".join(map(str, result.unlabeled_paths[:8])) + (" ..." if len(result.unlabeled_paths) > 8 else "")
        echo((f"still unlabeled ({len(result.unlabeled_paths)}):", "yellow"), f" {listed}")
    if result.unmatched_rules:
        echo(("rules that matched nothing:", "yellow"), f" {', '.join(result.unmatched_rules)}")


def run_plan(
    destination: Destination,
    make_plan: Callable[[Usd.Stage, Callable[[int], None] | None], LabelPlan],
    dry_run: bool,
    as_json: bool,
    force: bool,
    max_rows: int,
    log: bool,
    strict: bool = False,
) -> None:
    """Plan, print, and unless ``dry_run`` apply and save (the shared body of label / upgrade-semantics)."""
    stage, target, labeled, included = destination.open()
    problems = load_problems(stage)
    total = count_prims(stage)
    large = total > PROGRESS_FROM and not as_json
    with progress_bar("planning", total, large) as on_prims:
        result = make_plan(stage, on_prims)
    if not as_json:
        print_view(included, problems)
        print_plan(result, max_rows, log)
    if strict:
        check_strict(problems, result)
    written: list[str] = []
    undo: LabelUndo | None = None
    if not dry_run and result.changes:
        with progress_bar("writing", len({r.path for r in result.changes}), large) as on_written:
            undo = apply(stage, result, target, on_written)
        try:
            written = destination.save(stage, labeled, undo, force)
        except SdgStudioError:
            undo.revert()
            raise
    if as_json:
        report = {
            "dry_run": dry_run,
            "labels_layers": [asdict(layer) for layer in included],
            "load_problems": [asdict(problem) for problem in problems],
            "plan": result.to_json(),
            "written": written,
        }
        print_json(report)
        return
    if dry_run or not result.changes:
        echo(("nothing written" + (" (dry run)" if dry_run else ": no changes"), "dim"))
        return
    hidden = undo.hidden if undo else []
    for line in hidden[:10]:
        echo((line, "dim"))
    if len(hidden) > 10:
        echo((f"... and {len(hidden) - 10} more prims with hidden weaker-layer labels", "dim"))
    for line in written:
        echo(f"wrote {line}")


def with_instances(ruleset: RuleSet, instances: str | None) -> RuleSet:
    """The rules with ``defaults.instances`` replaced by ``--instances`` (when given)."""
    if instances is None:
        return ruleset
    if instances not in INSTANCE_POLICIES:
        raise SdgStudioError(f"--instances {instances!r}: expected one of {', '.join(INSTANCE_POLICIES)}")
    return replace(ruleset, defaults=replace(ruleset.defaults, instances=cast(InstancePolicy, instances)))


SiblingOption = Annotated[
    bool,
    typer.Option(
        "--sibling-labels/--no-sibling-labels",
        help="Include STAGE's sibling <stem>_labels.usda when it exists (the default), or leave it out.",
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Fail (exit 2, nothing written) on unresolved assets or CONFLICT rows.")
]
LayerOption = Annotated[
    Path | None,
    typer.Option("--layer", metavar="PATH", help="Read with this labels layer (instead of the sibling)."),
]


def label(
    stage: Annotated[Path, options.stage_argument("USD stage to label (.usd, .usda, .usdc, .usdz).")],
    rules: Annotated[Path, typer.Option("--rules", metavar="RULES", help="Rules file (YAML or JSON).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and print; write nothing.")] = False,
    layer: Annotated[Path | None, typer.Option("--layer", help="Write the labels into this *_labels.usda.")] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="Write into STAGE's root layer.")] = False,
    out: Annotated[
        Path | None, options.out_option("Write a root layer that sublayers STAGE (and --layer).", "FILE")
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", metavar="PATH", help="Only these prim paths (replaces the rules' scope roots)."),
    ] = None,
    instances: Annotated[
        str | None,
        typer.Option(
            "--instances",
            metavar="POLICY",
            help="Instance policy, overriding the rules file: root, deinstance or asset.",
        ),
    ] = None,
    sibling: SiblingOption = True,
    strict: StrictOption = False,
    as_json: Annotated[bool, options.json_option("Print the plan and written files as JSON.")] = False,
    force: Annotated[bool, options.overwrite_option("Replace a differing --out file.")] = False,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows of the plan table to print.")] = 60,
    log: Annotated[bool, typer.Option("--log", help="Print every row as the editor's log line.")] = False,
) -> None:
    """Label STAGE by a rules file: preview the plan, then write it.

    By default STAGE is not touched: its folder gets <stem>_labels.usda (the labels) and <stem>_labeled.usda
    (the stage with them; record or view that one). With instances: asset, part labels of instanced assets
    go to <asset>_labels.usda beside each asset file (the asset itself is not touched).
    """
    ruleset = with_instances(load_rules(rules), instances)
    destination = Destination.from_options(stage, layer, in_place, out, sibling)

    def make_plan(opened: Usd.Stage, progress: Callable[[int], None] | None) -> LabelPlan:
        check_selection(opened, select or [])
        return plan(opened, ruleset, select or None, progress)

    run_plan(destination, make_plan, dry_run, as_json, force, max_rows, log, strict)


def upgrade_semantics_command(
    stage: Annotated[Path, options.stage_argument("USD stage whose legacy SemanticsAPI labels to upgrade.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and print; write nothing.")] = False,
    layer: Annotated[Path | None, typer.Option("--layer", help="Write into this *_labels.usda.")] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="Write into STAGE's root layer.")] = False,
    out: Annotated[Path | None, options.out_option("Write a root layer that sublayers STAGE.", "FILE")] = None,
    sibling: SiblingOption = True,
    strict: StrictOption = False,
    as_json: Annotated[bool, options.json_option("Print the plan and written files as JSON.")] = False,
    force: Annotated[bool, options.overwrite_option("Replace a differing --out file.")] = False,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows of the plan table to print.")] = 60,
    log: Annotated[bool, typer.Option("--log", help="Print every row as the editor's log line.")] = False,
) -> None:
    """Convert legacy SemanticsAPI labels to UsdSemantics LabelsAPI (type -> taxonomy, data -> label).

    Where the result goes is chosen as for `label` (default: <stem>_labels.usda and <stem>_labeled.usda).
    """
    destination = Destination.from_options(stage, layer, in_place, out, sibling)
    run_plan(destination, lambda s, _: upgrade_semantics(s), dry_run, as_json, force, max_rows, log, strict)


def print_coverage(report: Coverage, title: str = "", histogram: bool = True) -> None:
    """Coverage: a histogram table (optional), the unlabeled, legacy and conflicting prims."""
    if title:
        echo((title, "bold"))
    table = Table("taxonomy", "label", "prims", title="Labels (own, both schemas)")
    for taxonomy, counts in report.histogram.items():
        for name, count in counts.items():
            table.add_row(Text(taxonomy), Text(name), str(count))
    if histogram:
        console.print(table if report.histogram else "no labels on this stage")
    echo(
        f"geometry with a '{report.taxonomy}' label (own or inherited): "
        f"{report.labeled_count}/{report.gprim_count} ({report.ratio:.0%})"
    )
    if report.unlabeled:
        listed = ", ".join(report.unlabeled[:10]) + (" ..." if len(report.unlabeled) > 10 else "")
        echo((f"unlabeled ({len(report.unlabeled)}):", "yellow"), f" {listed}")
    if report.legacy_prims:
        echo(
            f"legacy SemanticsAPI on {len(report.legacy_prims)} prims (sdg-studio upgrade-semantics converts them): "
            + ", ".join(report.legacy_prims[:10])
        )
    if report.conflicts:
        echo(("both schemas disagree on:", "red"), f" {', '.join(report.conflicts)}")


def labels(
    stage: Annotated[Path, options.stage_argument()],
    taxonomy: Annotated[str, options.taxonomy_option("Taxonomy counted as 'labeled'.")] = "class",
    layer: LayerOption = None,
    sibling: SiblingOption = True,
    strict: StrictOption = False,
    as_json: Annotated[bool, options.json_option()] = False,
) -> None:
    """Show label coverage: histogram, geometry left unlabeled, legacy and conflicting prims."""
    view = open_label_view(stage, layer, sibling)
    problems = load_problems(view.stage)
    if strict:
        check_strict(problems)
    with progress_bar("counting", None, not as_json and count_prims(view.stage) > PROGRESS_FROM) as on_prims:
        report = coverage(view.stage, taxonomy, progress=on_prims)
    if as_json:
        data = report.to_json()
        data["labels_layers"] = [asdict(included) for included in view.included]
        data["load_problems"] = [asdict(problem) for problem in problems]
        print_json(data)
    else:
        print_view(view.included, problems)
        print_coverage(report, f"Labels of {stage}")


def register(app: typer.Typer) -> None:
    app.command()(label)
    app.command()(labels)
    app.command("upgrade-semantics")(upgrade_semantics_command)
