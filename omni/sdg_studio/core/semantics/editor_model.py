"""State and actions of the Semantic Schema Editor panel, host-neutral (the Kit window only binds to it).

The model holds the rules being edited (as rules-file data, validated on every edit), the stage
selection, the preview rows with their filter, and the labels of the selected prims for
click-to-label. Every change to the stage goes through a :class:`LabelEditRunner`: the default one
applies and keeps an undo stack here; in Kit each apply is an ``omni.kit.commands`` command, so
Ctrl+Z undoes it as one step.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from pxr import Sdf, Usd

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.apply import LabelTarget, LabelUndo
from omni.sdg_studio.core.semantics.label_edit import EditHistory, LabelEdit
from omni.sdg_studio.core.semantics.layers import (
    IncludedLayer,
    LabeledStage,
    include_labels_layer,
    insert_sublayer,
    labels_layers_in,
    open_label_view,
    open_labeled,
    save_asset_labels_layers,
    sibling_labels_path,
)
from omni.sdg_studio.core.semantics.plan import Action, LabelPlan, PlanRow, plan
from omni.sdg_studio.core.semantics.prim_edits import label_prims, remove_labels, set_labels
from omni.sdg_studio.core.semantics.rules import INSTANCE_POLICIES, MATCH_KINDS, InstancePolicy, RuleSet, Scope
from omni.sdg_studio.core.semantics.rules_file import dump_rules_data, load_rules_data, rules_from_data
from omni.sdg_studio.core.semantics.schema import (
    inherited_labels,
    labels_api_labels,
    legacy_semantics,
)
from omni.sdg_studio.core.stage_io import LoadProblem, export_layer_atomically, load_problems

TargetKind = Literal["edit_target", "session", "sublayer", "view"]
#: Rule columns the table edits as text.
RULE_COLUMNS = ("id", "action", "on", "kind", "pattern", "labels", "priority", "mode", "hierarchy")

DEFAULT_RULES: dict[str, Any] = {
    "version": 1,
    "defaults": {"taxonomy": "class", "mode": "add", "hierarchy": "topmost"},
    "rules": [{"id": "by-name", "auto": True, "isa": ["Gprim"]}],
}


class LabelEditRunner(Protocol):
    """Applies a plan as one undoable step (Kit: an omni.kit.commands command)."""

    #: Told when one of the runner's edits is undone or redone outside the panel (Kit's Edit > Undo / Redo).
    on_step: Callable[[LabelEdit], None] | None

    def run(self, stage: Usd.Stage, plan: LabelPlan, target: LabelTarget) -> LabelUndo: ...

    def undo(self) -> bool:
        """Undo the last edit this runner made (only that one); False when there is none."""
        ...

    def can_undo(self) -> bool: ...


class LocalRunner(EditHistory):
    """Applies directly and keeps the edits (outside Kit, and in tests)."""

    def run(self, stage: Usd.Stage, plan: LabelPlan, target: LabelTarget) -> LabelUndo:
        with self.acting():
            return LabelEdit(stage, plan, target, self.step_taken).do()


@dataclass(frozen=True)
class RuleRow:
    """One rule as the table shows it; ``editable`` is False for rules with several match clauses."""

    index: int
    id: str
    action: str
    on: str
    kind: str
    pattern: str
    labels: str
    priority: str
    mode: str
    hierarchy: str
    editable: bool
    hits: int | None = None

    def cell(self, column: str) -> str:
        return str(getattr(self, column))


@dataclass(frozen=True)
class LegacyView:
    instance: str
    semantic_type: str
    semantic_data: str


@dataclass(frozen=True)
class PrimLabelView:
    """What the "Selected prims" section shows for one prim: both schemas, own and inherited."""

    path: str
    type_name: str
    labels: dict[str, tuple[str, ...]]
    legacy: tuple[LegacyView, ...]
    inherited: dict[str, tuple[str, ...]]
    note: str = ""


#: What an edit of an instance proxy does, per instance policy (the "Selected prims" note).
PROXY_NOTES = {
    "root": "instance proxy: edits go to the instance root (instances: root)",
    "deinstance": "instance proxy: the instance is made non-instanceable to label this part (instances: deinstance)",
    "asset": "instance proxy: the label goes into its asset's labels layer, for every instance (instances: asset)",
    "skip": "instance proxy: edits are skipped (instances: skip)",
    "error": "instance proxy: edits are refused (instances: error)",
}


def _instance_note(result: LabelPlan) -> str:
    """What a plan does about instances, for the status line."""
    parts = []
    if result.conflicts:
        parts.append(f"{len(result.conflicts)} conflicts")
    if result.expanded_instances:
        parts.append(f"{len(result.expanded_instances)} instances expanded")
    if result.asset_layers:
        parts.append(f"part labels in {len(result.asset_layers)} asset labels layers")
    return f"; {', '.join(parts)}" if parts else ""


def labels_to_text(labels: Any, default_taxonomy: str) -> str:
    """``{class: [a, b], size: c}`` -> ``class: a, b; size: c``; the default taxonomy alone -> ``a, b``."""
    if labels is None:
        return ""
    if isinstance(labels, (str, list)):
        labels = {default_taxonomy: labels}
    parts = []
    for taxonomy, values in labels.items():
        items = ", ".join([values] if isinstance(values, str) else values)
        parts.append(items if len(labels) == 1 and taxonomy == default_taxonomy else f"{taxonomy}: {items}")
    return "; ".join(parts)


def text_to_labels(text: str, default_taxonomy: str) -> dict[str, list[str]]:
    """The inverse of :func:`labels_to_text` (commas separate labels, ``;`` taxonomies)."""
    out: dict[str, list[str]] = {}
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        taxonomy, _, values = part.rpartition(":") if ":" in part.split(",")[0] else ("", "", part)
        items = [v.strip() for v in values.split(",") if v.strip()]
        out.setdefault(taxonomy.strip() or default_taxonomy, []).extend(items)
    return out


class SemanticEditorModel:
    """Everything the Semantic Schema Editor panel shows and does."""

    def __init__(self, runner: LabelEditRunner | None = None) -> None:
        self.runner: LabelEditRunner = runner or LocalRunner()
        self.stage: Usd.Stage | None = None
        self.rules_data: dict[str, Any] = copy.deepcopy(DEFAULT_RULES)
        self.rules_path: Path | None = None
        self.ruleset: RuleSet | None = rules_from_data(self.rules_data)
        self.rules_error = ""
        self.selection: list[str] = []
        self.scope_selection = False
        self.target_kind: TargetKind = "edit_target"
        self.sublayer_path = ""
        self.plan: LabelPlan | None = None
        self.filter_text = ""
        self.filter_actions: set[Action] = set(Action)
        self.log: list[str] = []
        self.message = ""
        #: The stage as the CLI reads it (``open_file``); ``None`` when the host gave the stage (Kit).
        self.view: LabeledStage | None = None
        #: What the attached stage refers to but could not load (missing sublayers, references, ...).
        self.load_problems: list[LoadProblem] = []
        #: The labels layer of the view (``open_file``, ``include_sibling_labels``): target ``view`` writes it.
        self.labels_layer: Sdf.Layer | None = None
        #: Asset labels layers (``instances: asset``) written but not saved yet.
        self.unsaved_asset_layers: list[Sdf.Layer] = []
        self._listeners: list[Callable[[], None]] = []
        self.runner.on_step = self._history_stepped

    # observers ---------------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` after every change; returns the function that unsubscribes."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    def _fail(self, error: Exception) -> bool:
        self.message = f"error: {error}"
        self._changed()
        return False

    # stage and selection -----------------------------------------------------------------------

    def attach(self, stage: Usd.Stage | None) -> None:
        """Work on ``stage`` (``None`` when the host has no stage); drops a preview of another stage."""
        self.stage, self.plan, self.selection = stage, None, []
        self.view, self.labels_layer = None, None
        self.load_problems = load_problems(stage) if stage is not None else []
        self._changed()

    def open_file(self, path: str | Path, layer: str | Path | None = None, sibling: bool = True) -> bool:
        """Open a stage file as ``sdg-studio label`` reads it (its sibling ``_labels.usda`` included unless
        ``sibling`` is False, or ``layer``); labels are written into that labels layer (a new sibling when
        none exists yet), which :meth:`save_labels_layer` saves."""
        try:
            new_sibling = sibling_labels_path(path) if layer is None and sibling else None
            if new_sibling is not None and not new_sibling.exists():  # written where `label` writes by default
                shown = [IncludedLayer(str(new_sibling), "sibling", False)]
                view = open_labeled(path, new_sibling, shown)
            else:
                view = open_label_view(path, layer, sibling)
        except SdgStudioError as exc:
            return self._fail(exc)
        self.attach(view.stage)
        self.view, self.labels_layer = view, view.labels_layer
        self.target_kind = "view"
        self.message = f"opened {path}"
        self._changed()
        return True

    def labels_layers(self) -> list[IncludedLayer]:
        """The labels layers the attached stage holds (the same list the CLI prints)."""
        if self.view is not None:
            return list(self.view.included)
        return labels_layers_in(self.stage) if self.stage is not None else []

    def sibling_labels(self) -> str | None:
        """The stage file's sibling ``<stem>_labels.usda`` when it exists but the stage does not hold it."""
        if self.stage is None or self.view is not None:
            return None
        root = self.stage.GetRootLayer()
        if root.anonymous or not root.realPath:
            return None
        sibling = sibling_labels_path(root.realPath)
        held = {Path(i.path).resolve() for i in self.labels_layers()}
        return str(sibling) if sibling.exists() and sibling not in held else None

    def include_sibling_labels(self) -> bool:
        """Compose the sibling labels layer above the stage (as the CLI does) and write into it."""
        sibling = self.sibling_labels()
        if sibling is None or self.stage is None:
            return self._fail(SdgStudioError("no sibling *_labels.usda to include"))
        try:
            self.labels_layer = include_labels_layer(self.stage, sibling)
        except SdgStudioError as exc:
            return self._fail(exc)
        self.target_kind, self.plan = "view", None
        self.message = f"included {sibling}"
        self._changed()
        return True

    def save_labels_layer(self) -> bool:
        """Save the view's labels layer (``open_file`` / ``include_sibling_labels``) atomically."""
        if self.labels_layer is None or self.labels_layer.anonymous:
            return self._fail(SdgStudioError("no labels layer file to save"))
        try:
            saved = export_layer_atomically(
                self.labels_layer, self.labels_layer.realPath or self.labels_layer.identifier
            )
        except SdgStudioError as exc:
            return self._fail(exc)
        self.message = f"saved {saved}"
        self._changed()
        return True

    def set_selection(self, paths: Sequence[str]) -> None:
        self.selection = list(dict.fromkeys(paths))
        self._changed()

    # rules -------------------------------------------------------------------------------------

    @property
    def default_taxonomy(self) -> str:
        return str(self.rules_data.get("defaults", {}).get("taxonomy", "class"))

    def _revalidate(self) -> None:
        self.plan = None
        try:
            self.ruleset = rules_from_data(self.rules_data, str(self.rules_path) if self.rules_path else None)
            self.rules_error = ""
        except SdgStudioError as exc:
            self.ruleset, self.rules_error = None, str(exc)
        self._changed()

    def load_rules_file(self, path: str | Path) -> bool:
        """Replace the edited rules by a file's (validated; on error the current rules stay)."""
        try:
            self.rules_data, _ = load_rules_data(path)
        except SdgStudioError as exc:
            return self._fail(exc)
        self.rules_path = Path(path)
        self.message = f"loaded {path}"
        self._revalidate()
        return True

    def save_rules_file(self, path: str | Path | None = None) -> bool:
        """Write the rules as YAML (to a temporary file renamed into place)."""
        target = Path(path) if path else self.rules_path
        if target is None:
            return self._fail(SdgStudioError("choose a file to save the rules to"))
        temp = target.with_name(f".{target.name}.tmp")
        try:
            temp.write_text(dump_rules_data(self.rules_data), encoding="utf-8")
            os.replace(temp, target)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            return self._fail(SdgStudioError(f"{target}: cannot be written: {exc}"))
        self.rules_path = target
        self.message = f"saved {target}"
        self._changed()
        return True

    def rule_rows(self) -> list[RuleRow]:
        hits = self.plan.rule_hits if self.plan else {}
        rows = []
        for index, rule in enumerate(self.rules_data.get("rules", [])):
            match = rule.get("match")
            clauses = match if isinstance(match, list) else ([match] if match is not None else [])
            clause = clauses[0] if len(clauses) == 1 else {}
            if isinstance(clause, str):
                clause = {"glob": clause}
            kind = next((k for k in MATCH_KINDS if k in clause), "")
            rows.append(
                RuleRow(
                    index=index,
                    id=str(rule.get("id", "")),
                    action="auto" if rule.get("auto") else str(rule.get("action", "label")),
                    on=str(clause.get("on", "name")) if clauses else "",
                    kind=kind,
                    pattern=str(clause.get(kind, "")) if kind else ("(all prims)" if not clauses else "(several)"),
                    labels=labels_to_text(rule.get("labels"), self.default_taxonomy),
                    priority=str(rule.get("priority", 0)),
                    mode=str(rule.get("mode", "")),
                    hierarchy=str(rule.get("hierarchy", "")),
                    editable=len(clauses) <= 1 and "unless" not in rule,
                    hits=hits.get(str(rule.get("id", ""))),
                )
            )
        return rows

    def set_rule_cell(self, index: int, column: str, text: str) -> None:
        """Edit one table cell; the rules are re-validated (``rules_error`` says what is wrong)."""
        rule = self.rules_data["rules"][index]
        text = text.strip()
        if column in ("on", "kind", "pattern"):
            self._set_match(rule, column, text)
        elif column == "labels":
            if text:
                rule["labels"] = text_to_labels(text, self.default_taxonomy)
            else:
                rule.pop("labels", None)
            rule.pop("auto", None)
        elif column == "action":
            rule.pop("auto", None)
            if text == "auto":
                rule["auto"], rule["action"] = True, "label"
                rule.pop("labels", None)
            else:
                rule["action"] = text
        elif column == "priority":
            rule["priority"] = int(text) if text.lstrip("-").isdigit() else text
        elif column in ("id", "mode", "hierarchy"):
            if text or column == "id":
                rule[column] = text
            else:
                rule.pop(column, None)
        else:
            raise KeyError(column)
        self._revalidate()

    @staticmethod
    def _set_match(rule: dict[str, Any], column: str, text: str) -> None:
        """Edit the single match clause; an invalid kind or field shows up as a validation error."""
        match = rule.get("match")
        clause = dict(match) if isinstance(match, dict) else ({"glob": match} if isinstance(match, str) else {})
        kind = next((k for k in MATCH_KINDS if k in clause), "glob")
        pattern = clause.pop(kind, "")
        on = clause.pop("on", "name")
        if column == "kind":
            kind = text or kind
        elif column == "pattern":
            pattern = text
        else:
            on = text or "name"
        if not pattern:  # no pattern: the rule matches every prim (its type filters still apply)
            rule.pop("match", None)
            return
        clause[kind] = pattern
        if on != "name":
            clause["on"] = on
        rule["match"] = clause

    def add_rule(self) -> int:
        rules = self.rules_data.setdefault("rules", [])
        taken = {str(r.get("id")) for r in rules}
        number = len(rules) + 1
        while f"rule-{number}" in taken:
            number += 1
        rules.append({"id": f"rule-{number}", "match": {"glob": "*"}, "labels": "label"})
        self._revalidate()
        return len(rules) - 1

    def remove_rule(self, index: int) -> None:
        del self.rules_data["rules"][index]
        self._revalidate()

    def move_rule(self, index: int, offset: int) -> None:
        """Move a rule up (-1) or down (+1): earlier rules win ties."""
        rules = self.rules_data["rules"]
        other = index + offset
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
            self._revalidate()

    def set_default(self, key: str, value: Any) -> None:
        self.rules_data.setdefault("defaults", {})[key] = value
        self._revalidate()

    # instances ---------------------------------------------------------------------------------

    @property
    def instance_policy(self) -> str:
        """``defaults.instances`` of the edited rules: root, deinstance or asset (or skip, error)."""
        return str(self.rules_data.get("defaults", {}).get("instances", "root"))

    def set_instance_policy(self, policy: str) -> None:
        """Choose how matches inside instances are written; the preview is dropped."""
        if policy not in INSTANCE_POLICIES:
            self._fail(SdgStudioError(f"instances: expected one of {', '.join(INSTANCE_POLICIES)}, got {policy!r}"))
            return
        self.set_default("instances", policy)

    def conflicts(self) -> list[PlanRow]:
        """CONFLICT rows of the preview (labels the plan will not write, with the parts and labels)."""
        return self.plan.conflicts if self.plan is not None else []

    def expanded_instances(self) -> list[str]:
        """Instances the preview makes non-instanceable (``instances: deinstance``)."""
        return self.plan.expanded_instances if self.plan is not None else []

    def asset_layers(self) -> list[str]:
        """Asset labels layers the preview writes (``instances: asset``)."""
        return self.plan.asset_layers if self.plan is not None else []

    def save_asset_layers(self) -> bool:
        """Save the asset labels layers written so far (atomically; the host saves the stage's own layers)."""
        if not self.unsaved_asset_layers:
            self.message = "no asset labels layer to save"
            self._changed()
            return True
        try:
            saved = save_asset_labels_layers(self.unsaved_asset_layers)
        except SdgStudioError as exc:
            return self._fail(exc)
        self.unsaved_asset_layers = []
        self.message = "saved " + ", ".join(map(str, saved))
        self._changed()
        return True

    # preview and apply -------------------------------------------------------------------------

    def target(self) -> LabelTarget:
        """The write target chosen in the panel (a sublayer is created/inserted on first use)."""
        if self.stage is None:
            raise SdgStudioError("no stage is open")
        if self.target_kind == "session":
            return LabelTarget.session()
        if self.target_kind == "view":
            if self.labels_layer is None:
                raise SdgStudioError("no labels layer is included: include the sibling labels layer or pick a target")
            return LabelTarget.of_layer(self.labels_layer)
        if self.target_kind == "sublayer":
            if not self.sublayer_path:
                raise SdgStudioError("choose a *_labels.usda file for the sublayer target")
            return LabelTarget.of_layer(insert_sublayer(self.stage, self.sublayer_path))
        return LabelTarget.edit_target()

    def preview(self) -> bool:
        """Plan the rules on the stage (or the selection); nothing is written."""
        if self.stage is None:
            return self._fail(SdgStudioError("no stage is open"))
        if self.ruleset is None:
            return self._fail(SdgStudioError(f"the rules are invalid: {self.rules_error}"))
        if self.scope_selection and not self.selection:
            return self._fail(SdgStudioError("scope is the selection, but nothing is selected"))
        try:
            self.plan = plan(self.stage, self.ruleset, self.selection if self.scope_selection else None)
        except SdgStudioError as exc:
            return self._fail(exc)
        self.log = self.plan.log_lines(preview=True)
        counts = ", ".join(f"{a} {n}" for a, n in self.plan.counts().items()) or "no rows"
        self.message = f"preview: {len(self.plan.changes)} changes ({counts})" + _instance_note(self.plan)
        self._changed()
        return True

    def visible_rows(self) -> list[Any]:
        """Preview rows passing the action filter and the text filter (path and layer, rule, taxonomy, labels)."""
        if self.plan is None:
            return []
        needle = self.filter_text.strip().lower()
        out = []
        for row in self.plan.rows:
            if row.action not in self.filter_actions:
                continue
            text = " ".join((row.where, row.rule_id, row.taxonomy, *row.before, *row.after, row.message)).lower()
            if needle and needle not in text:
                continue
            out.append(row)
        return out

    def set_filter(self, text: str | None = None, actions: set[Action] | None = None) -> None:
        if text is not None:
            self.filter_text = text
        if actions is not None:
            self.filter_actions = set(actions)
        self._changed()

    def _run(self, result: LabelPlan, done: str) -> bool:
        if self.stage is None:
            return self._fail(SdgStudioError("no stage is open"))
        if not result.changes:
            self.message = "nothing to change"
            self.log = result.log_lines(preview=False)
            self._changed()
            return True
        try:
            undo = self.runner.run(self.stage, result, self.target())
        except SdgStudioError as exc:
            return self._fail(exc)
        self.log = result.log_lines(preview=False) + undo.hidden
        self.message = f"{done}: {len(result.changes)} changes on {undo.written} prims" + _instance_note(result)
        self._track_asset_layers(undo.asset_layers)
        self.plan = None
        self._changed()
        return True

    def apply(self) -> bool:
        """Write the previewed plan as one undoable step (preview first when there is none)."""
        if self.plan is None and not self.preview():
            return False
        assert self.plan is not None
        return self._run(self.plan, "applied")

    def can_undo(self) -> bool:
        return self.runner.can_undo()

    def _policy(self) -> InstancePolicy:
        policy = self.instance_policy
        return cast(InstancePolicy, policy) if policy in INSTANCE_POLICIES else "root"

    def undo(self) -> bool:
        """Undo this panel's last apply or click-to-label edit (labels, deinstancing and asset labels layers;
        never another tool's; refused when its labels were changed after it)."""
        try:
            undone = self.runner.undo()
        except SdgStudioError as exc:
            return self._fail(exc)
        if not undone:
            self.message = "nothing to undo"
            self._changed()
            return False
        self._track_asset_layers([])
        self.plan = None
        self.message = "undone"
        self._changed()
        return True

    def _track_asset_layers(self, written: Sequence[Sdf.Layer]) -> None:
        """Add the asset labels layers an edit wrote to the unsaved ones; drop those an undo emptied again."""
        layers = dict.fromkeys([*self.unsaved_asset_layers, *written])
        self.unsaved_asset_layers = [layer for layer in layers if not layer.empty]

    def _history_stepped(self, edit: LabelEdit) -> None:
        """One of this panel's edits was undone or redone outside it (Kit's Edit > Undo / Redo): its asset labels
        layers changed again, and the preview no longer shows the stage as it is."""
        if edit.stage != self.stage:  # an edit of a stage the panel left
            return
        self._track_asset_layers(edit.asset_layers)
        self.plan = None
        self.message = f"{'redone' if edit.applied else 'undone'} outside the panel: {len(edit.plan.changes)} changes"
        self._changed()

    # click-to-label ----------------------------------------------------------------------------

    def selected_prims(self, limit: int | None = None) -> list[PrimLabelView]:
        """Both schemas of every selected prim (the first ``limit`` ones), and what it inherits from its ancestors."""
        if self.stage is None:
            return []
        views = []
        for path in self.selection[:limit]:
            prim = self.stage.GetPrimAtPath(path)
            if not prim:
                continue
            parent = prim.GetParent()
            inherited = inherited_labels(parent) if parent and not parent.IsPseudoRoot() else {}
            legacy = tuple(LegacyView(i.instance, i.semantic_type, i.semantic_data) for i in legacy_semantics(prim))
            note = PROXY_NOTES.get(self.instance_policy, "") if prim.IsInstanceProxy() else ""
            views.append(PrimLabelView(path, prim.GetTypeName(), labels_api_labels(prim), legacy, inherited, note))
        return views

    def add_labels(self, taxonomy: str, text: str) -> bool:
        """Add comma-separated labels of ``taxonomy`` to every selected prim (the Enter key); a part of an
        instance follows the instance policy."""
        if self.stage is None or not self.selection:
            return self._fail(SdgStudioError("select prims first"))
        labels = [label.strip() for label in text.split(",") if label.strip()]
        try:
            result = label_prims(self.stage, self.selection, {taxonomy.strip(): labels}, instances=self._policy())
        except SdgStudioError as exc:
            return self._fail(exc)
        return self._run(result, "labeled")

    def rename_label(self, path: str, taxonomy: str, old: str, new: str) -> bool:
        """Replace one label of one prim by another (empty ``new`` deletes it)."""
        if self.stage is None:
            return self._fail(SdgStudioError("no stage is open"))
        prim = self.stage.GetPrimAtPath(path)
        current = list(labels_api_labels(prim).get(taxonomy, ())) if prim else []
        if old not in current:
            return self._fail(SdgStudioError(f"{path} has no '{taxonomy}' label {old!r}"))
        updated = [new.strip() if label == old else label for label in current]
        updated = [label for label in dict.fromkeys(updated) if label]
        try:
            result = set_labels(self.stage, {path: {taxonomy: updated}}, instances=self._policy())
        except SdgStudioError as exc:
            return self._fail(exc)
        return self._run(result, "edited")

    def delete_label(self, path: str, taxonomy: str, label: str | None = None) -> bool:
        """Delete one label (or the whole taxonomy, legacy instances of it included) from one prim."""
        if self.stage is None:
            return self._fail(SdgStudioError("no stage is open"))
        result = remove_labels(self.stage, [path], taxonomy, [label] if label else (), instances=self._policy())
        return self._run(result, "deleted")

    def upgrade_selected(self) -> bool:
        """Convert the selected prims' legacy labels to LabelsAPI."""
        if self.stage is None or not self.selection:
            return self._fail(SdgStudioError("select prims first"))
        rules = RuleSet(scope=Scope(include_descendants=False))
        try:
            result = plan(self.stage, rules, self.selection)
        except SdgStudioError as exc:
            return self._fail(exc)
        return self._run(result, "upgraded")
