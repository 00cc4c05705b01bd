"""``sdg-studio label`` / ``labels`` / ``upgrade-semantics``: label a stage by rules, show coverage, upgrade legacy.

Where labels go (``label`` and ``upgrade-semantics``):

* default: ``<stem>_labels.usda`` (only the label opinions) and ``<stem>_labeled.usda`` (a small root
  that sublayers the labels above the stage) next to STAGE; the stage itself is not touched;
* ``--layer L``: the labels layer only; ``-o OUT``: a root holding the labels itself; both: L and a root
  sublayering L; ``--in-place``: the stage's own root layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pxr import Usd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from omni.sdg_studio.commands import options
from omni.sdg_studio.commands.output import console, echo, err_console, print_json
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.apply import LabelTarget, LabelUndo, apply
from omni.sdg_studio.core.semantics.coverage import Coverage, coverage
from omni.sdg_studio.core.semantics.layers import (
    LabeledStage,
    labeled_root_text,
    open_labeled,
    save_labeled_root,
    save_labels_layer,
)
from omni.sdg_studio.core.semantics.plan import Action, LabelPlan, plan
from omni.sdg_studio.core.semantics.prim_edits import upgrade_semantics
from omni.sdg_studio.core.semantics.rules_file import load_rules
from omni.sdg_studio.core.stage_io import open_stage

#: Stages with more prims than this get progress bars.
PROGRESS_FROM = 20_000
ACTION_STYLE = {
    Action.ADD: "green",
    Action.REPLACE: "cyan",
    Action.REMOVE: "red",
    Action.UPGRADE: "magenta",
    Action.SKIP: "dim",
    Action.REDIRECT: "blue",
    Action.CONFLICT: "bold red",
    Action.WARN: "yellow",
}


@dataclass
class Destination:
    """Where a run writes: the labels layer file, the small root file, or the stage itself."""

    stage_path: Path
    labels_path: Path | None
    root_path: Path | None
    in_place: bool = False

    @classmethod
    def from_options(cls, stage: Path, layer: Path | None, in_place: bool, out: Path | None) -> Destination:
        if in_place and (layer or out):
            raise SdgStudioError("--in-place writes into STAGE itself; it cannot be combined with --layer or --out")
        if in_place:
            return cls(stage, None, None, True)
        if layer is None and out is None:
            folder, stem = stage.resolve().parent, stage.stem
            return cls(stage, folder / f"{stem}_labels.usda", folder / f"{stem}_labeled.usda")
        return cls(stage, layer, out)

    def open(self) -> tuple[Usd.Stage, LabelTarget, LabeledStage | None]:
        """The stage to plan on and the target layer of the writes."""
        if self.in_place:
            stage = open_stage(self.stage_path)
            return stage, LabelTarget.of_layer(stage.GetRootLayer()), None
        labeled = open_labeled(self.stage_path, self.labels_path)
        return labeled.stage, LabelTarget.of_layer(labeled.labels_layer), labeled

    def save(self, stage: Usd.Stage, labeled: LabeledStage | None, force: bool) -> list[str]:
        """Write the files; a differing root is only replaced with ``force``. Returns what was written."""
        if labeled is None:
            if not stage.GetRootLayer().Save():
                raise SdgStudioError(f"{self.stage_path}: could not be saved")
            return [f"{self.stage_path} (in place)"]
        written = []
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


def print_plan(result: LabelPlan, max_rows: int, log: bool) -> None:
    """The plan as a table, the editor-style log lines, coverage numbers and rules that matched nothing."""
    shown = result.rows[:max_rows]
    table = Table("action", "prim", "taxonomy", "before", "after", "rule", title="Planned label changes")
    for row in shown:
        style = ACTION_STYLE[row.action]
        after = row.message if row.action in (Action.WARN, Action.CONFLICT, Action.REDIRECT) else ", ".join(row.after)
        table.add_row(
            Text(row.action.value, style=style),
            row.path,
            row.taxonomy,
            ", ".join(row.before),
            after,
            row.rule_id or "(legacy)",
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
    if result.gprim_count:
        before = result.gprim_count - len(result.unlabeled_before)
        after = result.gprim_count - len(result.unlabeled)
        echo(
            f"geometry with a '{result.taxonomy}' label: {before}/{result.gprim_count} before, "
            f"{after}/{result.gprim_count} after"
        )
    if result.unlabeled:
        listed = ", ".join(result.unlabeled[:8]) + (" ..." if len(result.unlabeled) > 8 else "")
        echo((f"still unlabeled ({len(result.unlabeled)}):", "yellow"), f" {listed}")
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
) -> None:
    """Plan, print, and unless ``dry_run`` apply and save (the shared body of label / upgrade-semantics)."""
    stage, target, labeled = destination.open()
    total = count_prims(stage)
    large = total > PROGRESS_FROM and not as_json
    with progress_bar("planning", total, large) as on_prims:
        result = make_plan(stage, on_prims)
    if not as_json:
        print_plan(result, max_rows, log)
    written: list[str] = []
    undo: LabelUndo | None = None
    if not dry_run and result.changes:
        with progress_bar("writing", len({r.path for r in result.changes}), large) as on_written:
            undo = apply(stage, result, target, on_written)
        written = destination.save(stage, labeled, force)
    if as_json:
        print_json({"dry_run": dry_run, "plan": result.to_json(), "written": written})
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
    as_json: Annotated[bool, options.json_option("Print the plan and written files as JSON.")] = False,
    force: Annotated[bool, options.overwrite_option("Replace a differing --out file.")] = False,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows of the plan table to print.")] = 60,
    log: Annotated[bool, typer.Option("--log", help="Print every row as the editor's log line.")] = False,
) -> None:
    """Label STAGE by a rules file: preview the plan, then write it.

    By default STAGE is not touched: its folder gets <stem>_labels.usda (the labels) and <stem>_labeled.usda
    (the stage with them; record or view that one).
    """
    ruleset = load_rules(rules)
    destination = Destination.from_options(stage, layer, in_place, out)
    run_plan(
        destination,
        lambda s, progress: plan(s, ruleset, select or None, progress),
        dry_run,
        as_json,
        force,
        max_rows,
        log,
    )


def upgrade_semantics_command(
    stage: Annotated[Path, options.stage_argument("USD stage whose legacy SemanticsAPI labels to upgrade.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and print; write nothing.")] = False,
    layer: Annotated[Path | None, typer.Option("--layer", help="Write into this *_labels.usda.")] = None,
    in_place: Annotated[bool, typer.Option("--in-place", help="Write into STAGE's root layer.")] = False,
    out: Annotated[Path | None, options.out_option("Write a root layer that sublayers STAGE.", "FILE")] = None,
    as_json: Annotated[bool, options.json_option("Print the plan and written files as JSON.")] = False,
    force: Annotated[bool, options.overwrite_option("Replace a differing --out file.")] = False,
    max_rows: Annotated[int, typer.Option("--max-rows", help="Rows of the plan table to print.")] = 60,
    log: Annotated[bool, typer.Option("--log", help="Print every row as the editor's log line.")] = False,
) -> None:
    """Convert legacy SemanticsAPI labels to UsdSemantics LabelsAPI (type -> taxonomy, data -> label).

    Where the result goes is chosen as for `label` (default: <stem>_labels.usda and <stem>_labeled.usda).
    """
    destination = Destination.from_options(stage, layer, in_place, out)
    run_plan(destination, lambda s, _: upgrade_semantics(s), dry_run, as_json, force, max_rows, log)


def print_coverage(report: Coverage, title: str = "", histogram: bool = True) -> None:
    """Coverage: a histogram table (optional), the unlabeled, legacy and conflicting prims."""
    if title:
        echo((title, "bold"))
    table = Table("taxonomy", "label", "prims", title="Labels (own, both schemas)")
    for taxonomy, counts in report.histogram.items():
        for name, count in counts.items():
            table.add_row(taxonomy, name, str(count))
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
    as_json: Annotated[bool, options.json_option()] = False,
) -> None:
    """Show label coverage: histogram, geometry left unlabeled, legacy and conflicting prims."""
    opened = open_stage(stage)
    with progress_bar("counting", None, not as_json and count_prims(opened) > PROGRESS_FROM) as on_prims:
        report = coverage(opened, taxonomy, progress=on_prims)
    if as_json:
        print_json(report.to_json())
    else:
        print_coverage(report, f"Labels of {stage}")


def register(app: typer.Typer) -> None:
    app.command()(label)
    app.command()(labels)
    app.command("upgrade-semantics")(upgrade_semantics_command)
