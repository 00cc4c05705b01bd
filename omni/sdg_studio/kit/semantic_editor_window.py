"""The "Semantic Schema Editor" window: a thin omni.ui binding of :class:`SemanticEditorModel`.

Everything the panel shows and does is the host-neutral model's (rules table, preview rows and filter,
apply / undo, the selected prims' labels); this module builds widgets, forwards their edits, follows
the stage and its selection, and hands the model a :class:`KitCommandRunner` so each apply or
click-to-label is one ``omni.kit.commands`` command (Ctrl+Z undoes it).
"""

from __future__ import annotations

from collections.abc import Callable

import carb.eventdispatcher
import omni.ui as ui
import omni.usd
from omni.kit.menu.utils import MenuHelperWindow

from omni.sdg_studio.core.semantics.editor_model import RULE_COLUMNS, PrimLabelView, SemanticEditorModel
from omni.sdg_studio.core.semantics.plan import WRITE_ACTIONS, Action
from omni.sdg_studio.core.semantics.rules import HIERARCHIES, MODES
from omni.sdg_studio.kit.semantic_commands import KitCommandRunner

PREVIEW, APPLY, UNDO, LOAD, SAVE, ADD_RULE, UPGRADE = "Preview", "Apply", "Undo", "Load", "Save", "Add rule", "Upgrade"
#: Widget identifiers the omni.kit.test tests find.
RULES_PATH_FIELD, FILTER_FIELD, NEW_LABELS_FIELD, NEW_TAXONOMY_FIELD = (
    "sdg_rules_path",
    "sdg_preview_filter",
    "sdg_new_labels",
    "sdg_new_taxonomy",
)
TARGETS = {"Edit target": "edit_target", "Session layer": "session", "Labels sublayer": "sublayer"}
SHOW = {"All rows": set(Action), "Changes": set(WRITE_ACTIONS), "Warnings": {Action.WARN, Action.CONFLICT}}
ROW_HEIGHT = 22
MAX_PREVIEW_ROWS = 400
COLUMN_WIDTHS = {"id": 110, "action": 60, "on": 60, "kind": 60, "pattern": 0, "labels": 0, "priority": 40}


def _click(action: Callable[[], object]) -> Callable[[], None]:
    """A button callback running ``action`` (the model's actions return whether they worked)."""

    def run() -> None:
        action()

    return run


class SemanticEditorWindow(MenuHelperWindow):
    """Rules, preview, apply / undo, and click-to-label on the stage selection."""

    def __init__(self, title: str) -> None:
        super().__init__(title, width=720, height=820)
        self.model = SemanticEditorModel(runner=KitCommandRunner())
        self._new_taxonomy = "class"
        self._build()
        self._unsubscribe_model = self.model.subscribe(self._refresh)
        context = omni.usd.get_context()
        dispatcher = carb.eventdispatcher.get_eventdispatcher()
        self._subscriptions = [
            dispatcher.observe_event(
                event_name=context.stage_event_name(omni.usd.StageEventType.SELECTION_CHANGED),
                on_event=lambda _: self.follow_selection(),
                observer_name="omni.sdg_studio.semantic_editor.selection",
            ),
            dispatcher.observe_event(
                event_name=context.stage_event_name(omni.usd.StageEventType.OPENED),
                on_event=lambda _: self.follow_stage(),
                observer_name="omni.sdg_studio.semantic_editor.stage_opened",
            ),
            dispatcher.observe_event(
                event_name=context.stage_event_name(omni.usd.StageEventType.CLOSING),
                on_event=lambda _: self.model.attach(None),
                observer_name="omni.sdg_studio.semantic_editor.stage_closing",
            ),
        ]
        self.follow_stage()

    # -- following Kit ------------------------------------------------------------------------
    def follow_stage(self) -> None:
        """Work on the context's current stage (and its selection)."""
        self.model.attach(omni.usd.get_context().get_stage())
        self.follow_selection()

    def follow_selection(self) -> None:
        self.model.set_selection(omni.usd.get_context().get_selection().get_selected_prim_paths())

    # -- widgets ------------------------------------------------------------------------------
    def _build(self) -> None:
        with self.frame, ui.ScrollingFrame(), ui.VStack(spacing=4, height=0):
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                ui.Label("Rules file", width=70)
                self._path = ui.StringField(identifier=RULES_PATH_FIELD, tooltip="A rules file (YAML or JSON)")
                ui.Button(
                    LOAD, width=60, clicked_fn=_click(lambda: self.model.load_rules_file(self._path.model.as_string))
                )
                ui.Button(
                    SAVE, width=60, clicked_fn=_click(lambda: self.model.save_rules_file(self._path.model.as_string))
                )
            self._defaults = ui.Frame(build_fn=self._build_defaults, height=ROW_HEIGHT)
            with ui.CollapsableFrame("Rules", height=0, collapsed=False):
                self._rules = ui.Frame(build_fn=self._build_rules)
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                ui.Label("Selection only", width=90, tooltip="Plan the selected prims (and below) instead of the scope")
                scope = ui.CheckBox(width=10, height=0)
                scope.model.set_value(self.model.scope_selection)
                scope.model.add_value_changed_fn(lambda m: setattr(self.model, "scope_selection", m.as_bool))
                ui.Spacer(width=12)
                ui.Label("Write to", width=60)
                names = list(TARGETS)
                target = ui.ComboBox(0, *names, width=130)
                target.model.add_item_changed_fn(
                    lambda m, _: setattr(self.model, "target_kind", TARGETS[names[m.get_item_value_model().as_int]])
                )
                sublayer = ui.StringField(tooltip="*_labels.usda, inserted as the strongest sublayer of the root layer")
                sublayer.model.add_end_edit_fn(lambda m: setattr(self.model, "sublayer_path", m.get_value_as_string()))
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                ui.Button(
                    PREVIEW, width=80, clicked_fn=_click(self.model.preview), tooltip="Plan the rules; writes nothing"
                )
                ui.Button(
                    APPLY, width=80, clicked_fn=_click(self.model.apply), tooltip="Write the preview (one undo step)"
                )
                ui.Button(
                    UNDO, width=80, clicked_fn=_click(self.model.undo), tooltip="Undo the last label edit (Ctrl+Z)"
                )
                ui.Spacer(width=12)
                ui.Label("Filter", width=40)
                text = ui.StringField(identifier=FILTER_FIELD, tooltip="Path, rule, taxonomy or label")
                text.model.add_end_edit_fn(lambda m: self.model.set_filter(text=m.get_value_as_string()))
                shows = list(SHOW)
                show = ui.ComboBox(0, *shows, width=100)
                show.model.add_item_changed_fn(
                    lambda m, _: self.model.set_filter(actions=SHOW[shows[m.get_item_value_model().as_int]])
                )
            self._status = ui.Label("", height=ROW_HEIGHT, word_wrap=True)
            with ui.CollapsableFrame("Preview", height=0, collapsed=False):
                self._preview = ui.Frame(build_fn=self._build_preview)
            with ui.CollapsableFrame("Selected prims", height=0, collapsed=False):
                self._selection = ui.Frame(build_fn=self._build_selection)
            with ui.CollapsableFrame("Output", height=0, collapsed=True):
                self._output = ui.Frame(build_fn=self._build_output)
        self._refresh()

    def _combo(self, current: str, choices: tuple[str, ...], on_pick: Callable[[str], None]) -> None:
        box = ui.ComboBox(choices.index(current) if current in choices else 0, *choices, width=90)
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

    def _build_rules(self) -> None:
        with ui.VStack(spacing=2, height=0):
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                for column in (*RULE_COLUMNS[:7], "hits"):
                    ui.Label(column, width=COLUMN_WIDTHS.get(column, 40) or None)
                ui.Spacer(width=72)
            for row in self.model.rule_rows():
                with ui.HStack(height=ROW_HEIGHT, spacing=4):
                    for column in RULE_COLUMNS[:7]:
                        field = ui.StringField(width=COLUMN_WIDTHS[column] or None)
                        field.model.set_value(row.cell(column))
                        field.enabled = row.editable or column in ("id", "labels", "priority")
                        field.model.add_end_edit_fn(
                            lambda m, i=row.index, c=column: self._edit_cell(i, c, m.get_value_as_string())
                        )
                    ui.Label("-" if row.hits is None else str(row.hits), width=40)
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
        views = self.model.selected_prims()
        with ui.VStack(spacing=4, height=0):
            if not views:
                ui.Label("Select prims in the viewport or the stage tree.", height=ROW_HEIGHT)
            for view in views:
                self._build_prim(view)
            with ui.HStack(height=ROW_HEIGHT, spacing=4):
                ui.Label("Add to selected", width=100)
                taxonomy = ui.StringField(width=90, identifier=NEW_TAXONOMY_FIELD)
                taxonomy.model.set_value(self._new_taxonomy)
                taxonomy.model.add_end_edit_fn(lambda m: setattr(self, "_new_taxonomy", m.get_value_as_string()))
                labels = ui.StringField(identifier=NEW_LABELS_FIELD, tooltip="Labels, comma separated; Enter adds them")
                labels.model.add_end_edit_fn(lambda m: self._add_labels(m.get_value_as_string()))

    def _add_labels(self, text: str) -> None:
        if text.strip():
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

    def _refresh(self) -> None:
        """Show the model: every section that depends on it is rebuilt."""
        error = f"rules: {self.model.rules_error}" if self.model.rules_error else ""
        self._status.text = "  ".join(t for t in (self.model.message, error) if t)
        for frame in (self._defaults, self._rules, self._preview, self._selection, self._output):
            frame.rebuild()

    def destroy(self) -> None:
        """Stop following the stage and the model."""
        self._subscriptions = []
        self._unsubscribe_model()
        super().destroy()
