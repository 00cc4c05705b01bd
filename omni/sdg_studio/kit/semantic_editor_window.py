"""The "SDG Studio Semantic Schema Editor" window: a thin omni.ui view of the extension's editor model.

Everything the panel shows and does is the host-neutral model's (rules table, preview rows and filter, apply /
undo, the selected prims' labels), owned by :class:`SemanticEditorHost` so it outlives this window. The window
builds widgets and forwards their edits. Model changes may arrive from the preview's worker thread: they only
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

from omni.sdg_studio.core.semantics.editor_model import RULE_COLUMNS, PrimLabelView
from omni.sdg_studio.core.semantics.plan import WRITE_ACTIONS, Action
from omni.sdg_studio.core.semantics.rules import HIERARCHIES, MODES
from omni.sdg_studio.kit.semantic_editor_host import SemanticEditorHost

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
MAX_SELECTED_SHOWN = 20
#: Pixel widths of the rules table's columns; the others (pattern, labels) share the free space.
COLUMN_WIDTHS = {"id": 110, "action": 60, "on": 60, "kind": 60, "priority": 40}
HITS_WIDTH = 40


def column_width(column: str) -> float | ui.Length:
    """A column's width: its pixels, or an equal share of the free space (omni.ui has no "no width": a Length is
    a number or ui.Pixel / ui.Percent / ui.Fraction, see typings/omni/ui)."""
    return COLUMN_WIDTHS.get(column) or ui.Fraction(1)


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
        return {
            "defaults": (repr(model.rules_data.get("defaults")), self._defaults),
            "rules": (tuple(model.rule_rows()), self._rules),
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
            self._build_scope_row()
            self._build_action_row()
            self._status = ui.Label("", height=ROW_HEIGHT, word_wrap=True)
            with ui.CollapsableFrame("Preview", height=0, collapsed=False):
                self._preview = ui.Frame(build_fn=self._build_preview)
            with ui.CollapsableFrame("Selected prims", height=0, collapsed=False):
                self._selection = ui.Frame(build_fn=self._build_selection)
            with ui.CollapsableFrame("Output", height=0, collapsed=True):
                self._output = ui.Frame(build_fn=self._build_output)
        self._refresh()

    def _build_scope_row(self) -> None:
        with ui.HStack(height=ROW_HEIGHT, spacing=4):
            ui.Label("Selection only", width=90, tooltip="Plan the selected prims (and below) instead of the scope")
            scope = ui.CheckBox(width=10, height=0)
            scope.model.set_value(self.model.scope_selection)
            scope.model.add_value_changed_fn(lambda m: setattr(self.model, "scope_selection", m.as_bool))
            ui.Spacer(width=12)
            ui.Label("Write to", width=60)
            names = list(TARGETS)
            kinds = list(TARGETS.values())
            target = ui.ComboBox(kinds.index(self.model.target_kind), *names, width=130)
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
