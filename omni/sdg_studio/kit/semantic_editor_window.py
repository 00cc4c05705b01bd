"""The "SDG Studio Semantic Schema Editor" window: a thin omni.ui view of the extension's editor model.

Everything the panel shows and does is the host-neutral model's (rules table with the instance policy, write
target, the labels layers and asset labels layers with their Save buttons, what the stage failed to load, the
preview's conflicts and expanded instances, preview rows and filter, apply / undo, the selected prims' labels),
owned by :class:`SemanticEditorHost` so it outlives this window. The window builds widgets and forwards their
edits. Model changes may arrive from the preview's worker thread: they only
schedule a refresh on Kit's loop, which runs once per app update and rebuilds only the sections whose content
changed (a selection change rebuilds the "Selected prims" section, not the rules or the preview).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import omni.kit.app
import omni.ui as ui
from omni.kit.menu.utils import MenuHelperWindow

from omni.sdg_studio.core.semantics.editor_model import RULE_COLUMNS, PrimLabelView, TargetKind
from omni.sdg_studio.core.semantics.plan import WRITE_ACTIONS, Action
from omni.sdg_studio.core.semantics.rules import HIERARCHIES, INSTANCE_POLICIES, MODES
from omni.sdg_studio.kit.semantic_editor_host import SemanticEditorHost

PREVIEW, APPLY, UNDO, LOAD, SAVE, ADD_RULE, UPGRADE = "Preview", "Apply", "Undo", "Load", "Save", "Add rule", "Upgrade"
INCLUDE_SIBLING = "Include sibling labels layer"
SAVE_LABELS_LAYER = "Save labels layer"
SAVE_ASSET_LAYERS = "Save asset labels layers"
#: Widget identifiers the omni.kit.test tests find.
RULES_PATH_FIELD, FILTER_FIELD, NEW_LABELS_FIELD, NEW_TAXONOMY_FIELD = (
    "sdg_rules_path",
    "sdg_preview_filter",
    "sdg_new_labels",
    "sdg_new_taxonomy",
)
POLICY_COMBO, TARGET_COMBO = "sdg_instance_policy", "sdg_write_target"
#: The "Write to" choices; "view" is the labels layer the panel included (the sibling ``<stem>_labels.usda``).
TARGETS: dict[str, TargetKind] = {
    "Edit target": "edit_target",
    "Session layer": "session",
    "Labels sublayer": "sublayer",
    "Labels layer": "view",
}
SHOW = {"All rows": set(Action), "Changes": set(WRITE_ACTIONS), "Warnings": {Action.WARN, Action.CONFLICT}}
ROW_HEIGHT = 22
LINE_HEIGHT = 18
MAX_PREVIEW_ROWS = 400
MAX_SELECTED_SHOWN = 20
MAX_CONFLICTS_SHOWN = 50
MAX_LISTED = 20
#: Warning text colour (omni.ui colours are 0xAABBGGRR): the yellow of Isaac Sim's own warning labels, see the
#: ui.Label entry in typings/omni/ui.
WARNING_STYLE = {"color": 0xFF00FFFF}
POLICY_TOOLTIP = (
    "How labels of parts inside instances are written: root (on the instance root; a CONFLICT row when its parts "
    "want different labels), deinstance (those instances are made non-instanceable: more memory in Isaac Sim), "
    "asset (into <asset>_labels.usda beside the referenced asset: every instance gets them and stays instanced), "
    "skip, error"
)
CONFLICTS_TOOLTIP = "Labels the rules want for parts of an instance but the plan does not write (see each message)"
TARGET_TOOLTIP = "Labels layer: the one included under Labels layers (Include sibling labels layer)"
#: Pixel widths of the rules table's columns; the others (pattern, labels) share the free space.
COLUMN_WIDTHS = {"id": 110, "action": 60, "on": 60, "kind": 60, "priority": 40}
HITS_WIDTH = 40


def column_width(column: str) -> float | ui.Length:
    """A column's width: its pixels, or an equal share of the free space (omni.ui has no "no width": a Length is
    a number or ui.Pixel / ui.Percent / ui.Fraction, see typings/omni/ui)."""
    return COLUMN_WIDTHS.get(column) or ui.Fraction(1)


def conflicts_line(count: int) -> str:
    return f"{count} conflicts"


def expanded_line(count: int) -> str:
    return f"{count} instances expanded (memory in Isaac Sim)"


def _warning(text: str, tooltip: str = "") -> None:
    ui.Label(text, height=LINE_HEIGHT, tooltip=tooltip, style=WARNING_STYLE)


def _click(action: Callable[[], object]) -> Callable[[], None]:
    """A button callback running ``action`` (the model's actions return whether they worked)."""

    def run() -> None:
        action()

    return run


class SemanticEditorWindow(MenuHelperWindow):
    """Rules, preview, apply / undo, and click-to-label on the stage selection."""

    def __init__(self, title: str, host: SemanticEditorHost) -> None:
        super().__init__(title, width=720, height=820)
        self.host = host
        self.model = host.model
        self._loop = asyncio.get_event_loop()
        self._alive = True
        self._refresh_pending = False
        self._shown: dict[str, Any] = {}
        self._shown_objects: tuple[object, ...] = ()
        self._new_taxonomy = "class"
        self._actions: list[ui.Button] = []
        self._build()
        self._unsubscribe = host.subscribe(self._changed)
        host.follow_stage()

    # -- change notification -----------------------------------------------------------------------
    def _changed(self) -> None:
        """Any thread: ask Kit's loop for a refresh (coalesced to one per app update)."""
        self._loop.call_soon_threadsafe(self._schedule_refresh)

    def _schedule_refresh(self) -> None:
        if self._refresh_pending or not self._alive:
            return
        self._refresh_pending = True
        self.host.tasks.start(self._refresh_next_update(), "semantic editor refresh")

    async def _refresh_next_update(self) -> None:
        await omni.kit.app.get_app().next_update_async()
        self._refresh_pending = False
        if self._alive:
            self._refresh()

    def _sections(self) -> dict[str, tuple[Any, ui.Frame]]:
        """Each rebuildable section with what it shows; it is rebuilt only when that changed."""
        model = self.model
        busy = bool(self.host.busy)
        layers = (
            tuple(layer.describe() for layer in model.labels_layers()),
            model.sibling_labels(),
            model.labels_layer is not None,
            tuple(layer.identifier for layer in model.unsaved_asset_layers),
        )
        return {
            "defaults": (repr(model.rules_data.get("defaults")), self._defaults),
            "rules": (tuple(model.rule_rows()), self._rules),
            "target": ((model.target_kind, model.sublayer_path, model.scope_selection), self._target),
            "problems": (tuple(model.load_problems), self._problems),
            "layers": ((layers, busy), self._layers),
            "instances": (id(model.plan), self._instances),
            "preview": ((id(model.plan), model.filter_text, frozenset(model.filter_actions)), self._preview),
            "selection": (
                (id(model.stage), len(model.selection), model.selected_prims(MAX_SELECTED_SHOWN)),
                self._selection,
            ),
            "output": ((id(model.log), len(model.log)), self._output),
        }

    def _refresh(self) -> None:
        """Show the model: the status line, the buttons, and the sections whose content changed."""
        error = f"rules: {self.model.rules_error}" if self.model.rules_error else ""
        self._status.text = "  ".join(t for t in (self.host.busy, self.model.message, error) if t)
        for button in self._actions:
            button.enabled = not self.host.busy
        for name, (shown, frame) in self._sections().items():
            if name not in self._shown or self._shown[name] != shown:
                self._shown[name] = shown
                frame.rebuild()
        # The sections compare these by id: keep them alive so that no new object can reuse an id shown.
        self._shown_objects = (self.model.plan, self.model.log, self.model.stage)

    # -- widgets -----------------------------------------------------------------------------------
    def _build(self) -> None:
        with self.frame, ui.ScrollingFrame(), ui.VStack(spacing=4, height=0):
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                ui.Label("Rules file", width=70)
                self._path = ui.StringField(identifier=RULES_PATH_FIELD, tooltip="A rules file (YAML or JSON)")
                self._actions += [
                    ui.Button(
                        LOAD,
                        width=60,
                        clicked_fn=_click(lambda: self.model.load_rules_file(self._path.model.as_string)),
                    ),
                    ui.Button(
                        SAVE,
                        width=60,
                        clicked_fn=_click(lambda: self.model.save_rules_file(self._path.model.as_string)),
                    ),
                ]
            self._defaults = ui.Frame(build_fn=self._build_defaults, height=ROW_HEIGHT)
            with ui.CollapsableFrame("Rules", height=0, collapsed=False):
                self._rules = ui.Frame(build_fn=self._build_rules)
            self._target = ui.Frame(build_fn=self._build_target, height=ROW_HEIGHT)
            self._build_action_row()
            self._status = ui.Label("", height=ROW_HEIGHT, word_wrap=True)
            self._problems = ui.Frame(build_fn=self._build_problems, height=0)
            with ui.CollapsableFrame("Labels layers", height=0, collapsed=False):
                self._layers = ui.Frame(build_fn=self._build_layers)
            with ui.CollapsableFrame("Instances", height=0, collapsed=False):
                self._instances = ui.Frame(build_fn=self._build_instances)
            with ui.CollapsableFrame("Preview", height=0, collapsed=False):
                self._preview = ui.Frame(build_fn=self._build_preview)
            with ui.CollapsableFrame("Selected prims", height=0, collapsed=False):
                self._selection = ui.Frame(build_fn=self._build_selection)
            with ui.CollapsableFrame("Output", height=0, collapsed=True):
                self._output = ui.Frame(build_fn=self._build_output)
        self._refresh()

    def _build_target(self) -> None:
        """Scope and write target (rebuilt when the model changes the target: including a labels layer picks it)."""
        with ui.HStack(height=ROW_HEIGHT, spacing=4):
            ui.Label("Selection only", width=90, tooltip="Plan the selected prims (and below) instead of the scope")
            scope = ui.CheckBox(width=10, height=0)
            scope.model.set_value(self.model.scope_selection)
            scope.model.add_value_changed_fn(lambda m: setattr(self.model, "scope_selection", m.as_bool))
            ui.Spacer(width=12)
            ui.Label("Write to", width=60, tooltip=TARGET_TOOLTIP)
            names = list(TARGETS)
            kinds = list(TARGETS.values())
            target = ui.ComboBox(kinds.index(self.model.target_kind), *names, width=130, identifier=TARGET_COMBO)
            target.model.add_item_changed_fn(
                lambda m, _: setattr(self.model, "target_kind", TARGETS[names[m.get_item_value_model().as_int]])
            )
            sublayer = ui.StringField(tooltip="*_labels.usda, inserted as the strongest sublayer of the root layer")
            sublayer.model.set_value(self.model.sublayer_path)
            sublayer.model.add_end_edit_fn(lambda m: setattr(self.model, "sublayer_path", m.get_value_as_string()))

    def _build_action_row(self) -> None:
        with ui.HStack(height=ROW_HEIGHT, spacing=4):
            self._actions += [
                ui.Button(PREVIEW, width=80, clicked_fn=self.host.preview, tooltip="Plan the rules; writes nothing"),
                ui.Button(APPLY, width=80, clicked_fn=self.host.apply, tooltip="Write the preview (one undo step)"),
                ui.Button(
                    UNDO,
                    width=80,
                    clicked_fn=_click(self.model.undo),
                    tooltip="Undo this panel's last label edit (Edit > Undo walks Kit's whole history)",
                ),
            ]
            ui.Spacer(width=12)
            ui.Label("Filter", width=40)
            text = ui.StringField(identifier=FILTER_FIELD, tooltip="Path, rule, taxonomy or label")
            text.model.set_value(self.model.filter_text)
            text.model.add_end_edit_fn(lambda m: self.model.set_filter(text=m.get_value_as_string()))
            shows = list(SHOW)
            show = ui.ComboBox(0, *shows, width=100)
            show.model.add_item_changed_fn(
                lambda m, _: self.model.set_filter(actions=SHOW[shows[m.get_item_value_model().as_int]])
            )

    def _combo(
        self, current: str, choices: tuple[str, ...], on_pick: Callable[[str], None], identifier: str = ""
    ) -> None:
        index = choices.index(current) if current in choices else 0
        box = ui.ComboBox(index, *choices, width=90, identifier=identifier)
        box.model.add_item_changed_fn(lambda m, _: on_pick(choices[m.get_item_value_model().as_int]))

    def _build_defaults(self) -> None:
        defaults = self.model.rules_data.get("defaults", {})
        with ui.HStack(height=ROW_HEIGHT, spacing=4):
            ui.Label("Taxonomy", width=70)
            taxonomy = ui.StringField(width=90)
            taxonomy.model.set_value(self.model.default_taxonomy)
            taxonomy.model.add_end_edit_fn(lambda m: self.model.set_default("taxonomy", m.get_value_as_string()))
            ui.Label("Mode", width=40)
            self._combo(defaults.get("mode", "add"), MODES, lambda v: self.model.set_default("mode", v))
            ui.Label("Hierarchy", width=65)
            self._combo(defaults.get("hierarchy", "all"), HIERARCHIES, lambda v: self.model.set_default("hierarchy", v))
            ui.Label("Instances", width=60, tooltip=POLICY_TOOLTIP)
            self._combo(self.model.instance_policy, INSTANCE_POLICIES, self.model.set_instance_policy, POLICY_COMBO)

    def _build_problems(self) -> None:
        problems = self.model.load_problems
        with ui.VStack(spacing=0, height=0):
            if problems:
                _warning(f"The stage did not load {len(problems)} things it refers to (their prims are not labeled):")
            for problem in problems[:MAX_LISTED]:
                _warning(f"    {problem.describe()}", tooltip=problem.message)
            if len(problems) > MAX_LISTED:
                _warning(f"    ... {len(problems) - MAX_LISTED} more")

    def _write_button(self, text: str, width: float, action: Callable[[], object], tooltip: str) -> None:
        """A button for a write that runs through the host (disabled while the panel is busy)."""
        button = ui.Button(text, width=width, clicked_fn=lambda: self.host.write(text.lower(), action), tooltip=tooltip)
        button.enabled = not self.host.busy

    def _build_layers(self) -> None:
        """The labels layers the stage holds (as the CLI lists them), and the layers Kit's Save does not write."""
        model = self.model
        included = "; ".join(layer.describe() for layer in model.labels_layers()) or "none"
        sibling = model.sibling_labels()
        unsaved = model.unsaved_asset_layers
        with ui.VStack(spacing=2, height=0):
            ui.Label(f"Labels layers: {included}", height=ROW_HEIGHT, word_wrap=True)
            if sibling is not None or model.labels_layer is not None:
                with ui.HStack(height=ROW_HEIGHT, spacing=4):
                    if sibling is not None:
                        self._write_button(
                            INCLUDE_SIBLING,
                            190,
                            model.include_sibling_labels,
                            f"Compose {sibling} above the stage (as sdg-studio label does) and write labels into it",
                        )
                    if model.labels_layer is not None:
                        self._write_button(
                            SAVE_LABELS_LAYER,
                            130,
                            model.save_labels_layer,
                            "Write the included labels layer to its file (Kit's Save does not: it is composed "
                            "in the session layer)",
                        )
            if unsaved:
                names = ", ".join(layer.realPath or layer.identifier for layer in unsaved[:MAX_LISTED])
                _warning(f"{len(unsaved)} asset labels layers not saved: {names}")
                self._write_button(
                    SAVE_ASSET_LAYERS,
                    190,
                    model.save_asset_layers,
                    "Write the <asset>_labels.usda files the stage references (Kit's Save does not write them)",
                )

    def _build_instances(self) -> None:
        """What the preview does about instances: conflicts, expanded instances, asset labels layers."""
        model = self.model
        with ui.VStack(spacing=0, height=0):
            if model.plan is None:
                ui.Label("Preview shows conflicts, expanded instances and asset labels layers.", height=ROW_HEIGHT)
                return
            conflicts = model.conflicts()
            if conflicts:
                _warning(conflicts_line(len(conflicts)), tooltip=CONFLICTS_TOOLTIP)
            else:
                ui.Label(conflicts_line(0), height=LINE_HEIGHT, tooltip=CONFLICTS_TOOLTIP)
            for row in conflicts[:MAX_CONFLICTS_SHOWN]:
                with ui.HStack(height=LINE_HEIGHT, spacing=4):
                    ui.Label(f"    {row.where}", width=ui.Fraction(1), tooltip=row.where)
                    ui.Label(row.taxonomy, width=70)
                    ui.Label(row.message, width=ui.Fraction(2), tooltip=row.message)
            if len(conflicts) > MAX_CONFLICTS_SHOWN:
                ui.Label(f"    ... {len(conflicts) - MAX_CONFLICTS_SHOWN} more (Show: Warnings)", height=LINE_HEIGHT)
            expanded = model.expanded_instances()
            ui.Label(expanded_line(len(expanded)), height=LINE_HEIGHT, tooltip="\n".join(expanded[:MAX_LISTED]))
            for path in model.asset_layers():
                ui.Label(f"part labels go into {path}", height=LINE_HEIGHT, tooltip=path)

    def _build_rules(self) -> None:
        with ui.VStack(spacing=2, height=0):
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                for column in RULE_COLUMNS[:7]:
                    ui.Label(column, width=column_width(column))
                ui.Label("hits", width=HITS_WIDTH)
                ui.Spacer(width=72)
            for row in self.model.rule_rows():
                with ui.HStack(height=ROW_HEIGHT, spacing=4):
                    for column in RULE_COLUMNS[:7]:
                        field = ui.StringField(width=column_width(column))
                        field.model.set_value(row.cell(column))
                        field.enabled = row.editable or column in ("id", "labels", "priority")
                        field.model.add_end_edit_fn(
                            lambda m, i=row.index, c=column: self._edit_cell(i, c, m.get_value_as_string())
                        )
                    ui.Label("-" if row.hits is None else str(row.hits), width=HITS_WIDTH)
                    ui.Button("^", width=22, clicked_fn=lambda i=row.index: self.model.move_rule(i, -1))
                    ui.Button("v", width=22, clicked_fn=lambda i=row.index: self.model.move_rule(i, +1))
                    ui.Button("x", width=22, clicked_fn=lambda i=row.index: self.model.remove_rule(i))
            ui.Button(ADD_RULE, width=90, height=ROW_HEIGHT, clicked_fn=_click(self.model.add_rule))

    def _edit_cell(self, index: int, column: str, text: str) -> None:
        if self.model.rule_rows()[index].cell(column) != text.strip():
            self.model.set_rule_cell(index, column, text)

    def _build_preview(self) -> None:
        rows = self.model.visible_rows()
        with ui.VStack(spacing=0, height=0):
            if self.model.plan is None:
                ui.Label("Press Preview to see what the rules would change.", height=ROW_HEIGHT)
            for row in rows[:MAX_PREVIEW_ROWS]:
                ui.Label(row.log_line(preview=True), height=18, tooltip=row.message)
            if len(rows) > MAX_PREVIEW_ROWS:
                ui.Label(f"... {len(rows) - MAX_PREVIEW_ROWS} more rows (narrow the filter)", height=18)

    def _build_selection(self) -> None:
        views = self.model.selected_prims(MAX_SELECTED_SHOWN)
        with ui.VStack(spacing=4, height=0):
            if not views:
                ui.Label("Select prims in the viewport or the stage tree.", height=ROW_HEIGHT)
            for view in views:
                self._build_prim(view)
            hidden = len(self.model.selection) - len(views)
            if hidden > 0:
                ui.Label(f"... and {hidden} more selected prims (labels typed below go to all of them)", height=18)
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                ui.Label("Add to selected", width=100)
                taxonomy = ui.StringField(width=90, identifier=NEW_TAXONOMY_FIELD)
                taxonomy.model.set_value(self._new_taxonomy)
                taxonomy.model.add_end_edit_fn(lambda m: setattr(self, "_new_taxonomy", m.get_value_as_string()))
                labels = ui.StringField(identifier=NEW_LABELS_FIELD, tooltip="Labels, comma separated; Enter adds them")
                labels.model.add_end_edit_fn(lambda m: self._add_labels(m.get_value_as_string()))

    def _add_labels(self, text: str) -> None:
        if text.strip() and not self.host.busy:
            self.model.add_labels(self._new_taxonomy, text)

    def _build_prim(self, view: PrimLabelView) -> None:
        with ui.VStack(spacing=2, height=0):
            ui.Label(f"{view.path}  ({view.type_name})  {view.note}", height=ROW_HEIGHT)
            if not view.labels and not view.legacy:
                ui.Label("    no labels of its own", height=18)
            for taxonomy, labels in view.labels.items():
                with ui.HStack(height=ROW_HEIGHT, spacing=4):
                    ui.Label(f"    {taxonomy}", width=110)
                    for label in labels:
                        field = ui.StringField(width=110, tooltip="Edit and press Enter; empty deletes it")
                        field.model.set_value(label)
                        field.model.add_end_edit_fn(
                            lambda m, t=taxonomy, old=label: self._rename(view.path, t, old, m.get_value_as_string())
                        )
                        ui.Button(
                            "x",
                            width=22,
                            clicked_fn=_click(lambda t=taxonomy, x=label: self.model.delete_label(view.path, t, x)),
                        )
            for legacy in view.legacy:
                with ui.HStack(height=ROW_HEIGHT, spacing=4):
                    ui.Label(
                        f"    legacy SemanticsAPI '{legacy.instance}': {legacy.semantic_type} = {legacy.semantic_data}"
                    )
                    ui.Button(UPGRADE, width=70, clicked_fn=_click(self.model.upgrade_selected))
            if view.inherited:
                text = "; ".join(f"{t}: {', '.join(v)}" for t, v in view.inherited.items())
                ui.Label(f"    inherited: {text}", height=18)

    def _rename(self, path: str, taxonomy: str, old: str, new: str) -> None:
        if new.strip() != old:
            self.model.rename_label(path, taxonomy, old, new)

    def _build_output(self) -> None:
        with ui.VStack(spacing=0, height=0):
            for line in self.model.log[-200:]:
                ui.Label(line, height=18)

    def destroy(self) -> None:
        """Stop showing the model (which lives on in the extension)."""
        self._alive = False
        self._unsubscribe()
        self._actions = []
        super().destroy()
