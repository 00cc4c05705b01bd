"""Semantic Schema Editor in Kit, on the shipped sample scene: preview, apply and undo through the panel (its Undo
undoes its own edit, not another command on Kit's stack), click-to-label on the stage selection, the rules table
built, and the apply command on Kit's undo stack. On a small instancing stage written by the test: the instance
policy combo, conflicts and expanded instances, asset labels layers kept in step with Kit's Undo / Redo and saved,
and the sibling labels layer included, written and saved.

These run inside Kit through omni.kit.test (see ``__init__.py``), not in the pytest suite.
"""

import tempfile
from pathlib import Path

import carb.settings
import omni.kit.app
import omni.kit.commands
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.kit.undo
import omni.usd

from omni.sdg_studio.core.semantics.apply import LabelTarget
from omni.sdg_studio.core.semantics.editor_model import RULE_COLUMNS
from omni.sdg_studio.core.semantics.plan import Action
from omni.sdg_studio.core.semantics.prim_edits import label_prims
from omni.sdg_studio.core.semantics.rules import INSTANCE_POLICIES
from omni.sdg_studio.core.semantics.schema import direct_labels, labels_api_labels, legacy_instances
from omni.sdg_studio.kit.names import SEMANTIC_EDITOR_TITLE
from omni.sdg_studio.kit.semantic_commands import APPLY_LABEL_PLAN
from omni.sdg_studio.kit.semantic_editor_window import (
    APPLY,
    INCLUDE_SIBLING,
    LOAD,
    NEW_LABELS_FIELD,
    POLICY_COMBO,
    PREVIEW,
    RULES_PATH_FIELD,
    SAVE_ASSET_LAYERS,
    SAVE_LABELS_LAYER,
    TARGET_COMBO,
    TARGETS,
    UNDO,
    UPGRADE,
    SemanticEditorWindow,
    conflicts_line,
    expanded_line,
)
from omni.sdg_studio.resources import CONFIG_DIR, SAMPLE_SCENE
from omni.sdg_studio.tests.kit_ui import close_panels, open_panel, running_extension, updates

RULES = CONFIG_DIR / "rules" / "warehouse.yaml"
BARREL = "/World/Props/SM_Barrel_01"
MATTRESS = "/World/Props/Mattress_01"
SETTING = "/exts/omni.sdg_studio/tests/foreign_command"
MAX_UPDATES = 300


def _button(text: str) -> str:
    return f"{SEMANTIC_EDITOR_TITLE}//Frame/**/Button[*].text=='{text}'"


def _field(identifier: str) -> str:
    return f"{SEMANTIC_EDITOR_TITLE}//Frame/**/StringField[*].identifier=='{identifier}'"


def _combo(identifier: str) -> str:
    return f"{SEMANTIC_EDITOR_TITLE}//Frame/**/ComboBox[*].identifier=='{identifier}'"


class EditorTestCase(omni.kit.test.AsyncTestCase):
    """What the editor's tests share: opening a stage and the panel, clicking, waiting, loading rules."""

    async def _open_stage(self, path: Path) -> None:
        await omni.kit.app.get_app().next_update_async()
        opened, error = await omni.usd.get_context().open_stage_async(str(path))
        self.assertTrue(opened, error)
        await omni.kit.app.get_app().next_update_async()

    async def tearDown(self) -> None:
        await close_panels()
        omni.usd.get_context().close_stage()
        await omni.kit.app.get_app().next_update_async()
        while omni.usd.get_context().get_stage_loading_status()[2] > 0:
            await omni.kit.app.get_app().next_update_async()

    async def _open(self) -> SemanticEditorWindow:
        window = await open_panel(SEMANTIC_EDITOR_TITLE)
        self.assertIsInstance(window, SemanticEditorWindow, "the menu entry must open the editor window")
        assert isinstance(window, SemanticEditorWindow)
        return window

    async def _click(self, text: str) -> None:
        button = ui_test.find(_button(text))
        self.assertIsNotNone(button, f"no button {text!r}")
        assert button is not None
        await button.click()
        await updates(2)

    async def _until_idle(self, window: SemanticEditorWindow) -> None:
        """Preview and apply run as tasks (preview on a worker thread): wait until the panel is idle again."""
        for _ in range(MAX_UPDATES):
            await omni.kit.app.get_app().next_update_async()
            if not window.host.busy:
                return
        self.fail(f"still busy: {window.host.busy}")

    async def _load_rules(self, window: SemanticEditorWindow, rules: Path = RULES, first: str = "pallets") -> None:
        path = ui_test.find(_field(RULES_PATH_FIELD))
        self.assertIsNotNone(path, "no rules file field")
        assert path is not None
        await path.input(str(rules))
        await self._click(LOAD)
        self.assertEqual(window.model.rules_error, "", window.model.message)
        self.assertEqual(window.model.rule_rows()[0].id, first)

    async def _preview(self, window: SemanticEditorWindow) -> None:
        await self._click(PREVIEW)
        await self._until_idle(window)
        await updates(2)  # the refresh after the preview rebuilds the sections
        self.assertIsNotNone(window.model.plan, window.model.message)


class TestSemanticEditor(EditorTestCase):
    async def setUp(self) -> None:
        await self._open_stage(SAMPLE_SCENE)

    async def test_the_rules_table_is_built(self) -> None:
        window = await self._open()
        await self._load_rules(window)
        await updates(3)
        fields = ui_test.find_all(f"{SEMANTIC_EDITOR_TITLE}//Frame/**/StringField[*]")
        # One editable cell per table column and rule (the pattern and labels cells share the free width).
        self.assertGreaterEqual(len(fields), len(RULE_COLUMNS[:7]) * len(window.model.rule_rows()))

    async def test_preview_apply_and_undo_through_the_panel(self) -> None:
        window = await self._open()
        stage = omni.usd.get_context().get_stage()
        assert stage is not None
        before = stage.GetRootLayer().ExportToString()
        await self._load_rules(window)
        await self._click(PREVIEW)
        await self._until_idle(window)
        plan = window.model.plan
        assert plan is not None, window.model.message
        self.assertGreater(len(plan.changes), 50)
        self.assertEqual(stage.GetRootLayer().ExportToString(), before, "preview must not write")
        await self._click(APPLY)
        await self._until_idle(window)
        self.assertEqual(direct_labels(stage.GetPrimAtPath(BARREL)), {"class": ("barrel",)})
        self.assertEqual(legacy_instances(stage.GetPrimAtPath("/World/Props/S_TrafficCone_01")), [])
        await self._click(UNDO)  # one step reverts the whole apply
        self.assertEqual(stage.GetRootLayer().ExportToString(), before)
        omni.kit.undo.undo()  # Kit's entry for that apply is inert now: nothing changes
        await updates(1)
        self.assertEqual(stage.GetRootLayer().ExportToString(), before)
        omni.kit.undo.redo()  # and redo writes it again
        await updates(1)
        self.assertEqual(direct_labels(stage.GetPrimAtPath(BARREL)), {"class": ("barrel",)})

    async def test_the_panels_undo_leaves_another_command_on_top_of_kits_stack_alone(self) -> None:
        window = await self._open()
        self.assertFalse(window.model.can_undo(), "a fresh stage has no label edit of this panel to undo")
        stage = omni.usd.get_context().get_stage()
        assert stage is not None
        before = stage.GetRootLayer().ExportToString()
        omni.usd.get_context().get_selection().set_selected_prim_paths([MATTRESS], False)
        await updates(2)
        field = ui_test.find(_field(NEW_LABELS_FIELD))
        assert field is not None
        await field.input("mattress")
        await updates(1)
        self.assertEqual(labels_api_labels(stage.GetPrimAtPath(MATTRESS)), {"class": ("mattress",)})
        settings = carb.settings.get_settings()
        omni.kit.commands.execute("ChangeSetting", path=SETTING, value=7)  # another tool's command, now on top
        await self._click(UNDO)
        self.assertEqual(stage.GetRootLayer().ExportToString(), before, "the label edit must be undone")
        self.assertEqual(settings.get(SETTING), 7, "the other command must not be undone by the panel")
        omni.kit.undo.undo()  # Kit's own Undo still walks its stack: the setting command first
        await updates(1)
        self.assertNotEqual(settings.get(SETTING), 7)

    async def test_click_to_label_follows_the_stage_selection(self) -> None:
        window = await self._open()
        stage = omni.usd.get_context().get_stage()
        assert stage is not None
        omni.usd.get_context().get_selection().set_selected_prim_paths([MATTRESS], False)
        await updates(2)
        self.assertEqual(window.model.selection, [MATTRESS])
        self.assertEqual([view.path for view in window.model.selected_prims()], [MATTRESS])
        field = ui_test.find(_field(NEW_LABELS_FIELD))
        self.assertIsNotNone(field, "no field for new labels")
        assert field is not None
        await field.input("mattress, bedding")  # typing and Enter labels the selection
        await omni.kit.app.get_app().next_update_async()
        self.assertEqual(labels_api_labels(stage.GetPrimAtPath(MATTRESS)), {"class": ("mattress", "bedding")})
        window.model.delete_label(MATTRESS, "class", "bedding")
        self.assertEqual(labels_api_labels(stage.GetPrimAtPath(MATTRESS)), {"class": ("mattress",)})
        omni.kit.undo.undo()
        omni.kit.undo.undo()
        await omni.kit.app.get_app().next_update_async()
        self.assertEqual(direct_labels(stage.GetPrimAtPath(MATTRESS)), {})

    async def test_legacy_upgrade_of_the_selection(self) -> None:
        window = await self._open()
        stage = omni.usd.get_context().get_stage()
        assert stage is not None
        cone = "/World/Props/S_TrafficCone_01"
        omni.usd.get_context().get_selection().set_selected_prim_paths([cone], False)
        await updates(3)
        (view,) = window.model.selected_prims()
        self.assertEqual([(i.semantic_type, i.semantic_data) for i in view.legacy], [("class", "traffic_cone")])
        await self._click(UPGRADE)
        self.assertEqual(legacy_instances(stage.GetPrimAtPath(cone)), [])
        self.assertEqual(labels_api_labels(stage.GetPrimAtPath(cone)), {"class": ("traffic_cone",)})

    async def test_apply_command_is_one_undo_step(self) -> None:
        stage = omni.usd.get_context().get_stage()
        assert stage is not None
        before = stage.GetRootLayer().ExportToString()
        plan = label_prims(stage, [BARREL, MATTRESS], {"class": "prop"})
        self.assertEqual({row.action for row in plan.changes}, {Action.ADD})
        success, undo = omni.kit.commands.execute(
            APPLY_LABEL_PLAN, stage=stage, plan=plan, target=LabelTarget.edit_target()
        )
        self.assertTrue(success)
        self.assertEqual(undo.written, 2)
        self.assertEqual(labels_api_labels(stage.GetPrimAtPath(BARREL)), {"class": ("prop",)})
        omni.kit.undo.undo()
        await omni.kit.app.get_app().next_update_async()
        self.assertEqual(stage.GetRootLayer().ExportToString(), before)


# A two-part instanceable asset referenced twice, a plain prim, and rules that label the parts differently.
CRATE_USDA = """#usda 1.0
(
    defaultPrim = "Crate"
)

def Xform "Crate"
{
    def Cube "Box"
    {
        double size = 1
    }

    def Cube "Lid"
    {
        double size = 0.2
        double3 xformOp:translate = (0, 0, 0.6)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }
}
"""
SCENE_USDA = """#usda 1.0
(
    defaultPrim = "World"
    metersPerUnit = 1
    upAxis = "Z"
)

def Xform "World"
{
    def Cube "Floor"
    {
        double size = 1
    }

    def Xform "Crate_00" (
        instanceable = true
        prepend references = @./crate.usda@
    )
    {
        double3 xformOp:translate = (-2, 0, 1)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }

    def Xform "Crate_01" (
        instanceable = true
        prepend references = @./crate.usda@
    )
    {
        double3 xformOp:translate = (2, 0, 1)
        uniform token[] xformOpOrder = ["xformOp:translate"]
    }
}
"""
PART_RULES = """version: 1
defaults: {hierarchy: all}
rules:
  - {id: boxes, match: Box, labels: crate_box}
  - {id: lids, match: Lid, labels: crate_lid}
"""
CRATES = ("/World/Crate_00", "/World/Crate_01")
FLOOR = "/World/Floor"


class TestSemanticEditorInstances(EditorTestCase):
    """The controls bound to the instance policies and the labels layers (numbers as the pytest model tests give
    for this stage: 2 conflicts under root, 2 instances expanded under deinstance, 1 asset labels layer)."""

    async def setUp(self) -> None:
        self._folder = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        folder = Path(self._folder.name).resolve()
        (folder / "crate.usda").write_text(CRATE_USDA)
        (folder / "scene.usda").write_text(SCENE_USDA)
        (folder / "scene_labels.usda").write_text("#usda 1.0\n")  # the sibling labels layer `label` would write
        (folder / "parts.yaml").write_text(PART_RULES)
        self.folder = folder
        await self._open_stage(folder / "scene.usda")

    async def tearDown(self) -> None:
        await super().tearDown()
        running_extension().semantic_editor.model.target_kind = "edit_target"  # the model outlives the test
        self._folder.cleanup()

    def _label_texts(self) -> list[str]:
        return [ref.widget.text.strip() for ref in ui_test.find_all(f"{SEMANTIC_EDITOR_TITLE}//Frame/**/Label[*]")]

    async def _pick(self, identifier: str, index: int) -> None:
        combo = ui_test.find(_combo(identifier))
        self.assertIsNotNone(combo, f"no combo box {identifier!r}")
        assert combo is not None
        combo.model.get_item_value_model(None, 0).set_value(index)
        await updates(2)

    def _is_instance(self, path: str) -> bool:
        stage = omni.usd.get_context().get_stage()
        assert stage is not None
        return bool(stage.GetPrimAtPath(path).IsInstance())

    async def test_policy_combo_conflicts_and_expanded_instances(self) -> None:
        window = await self._open()
        await self._load_rules(window, self.folder / "parts.yaml", "boxes")
        await self._preview(window)
        self.assertEqual([row.where for row in window.model.conflicts()], list(CRATES))
        texts = self._label_texts()
        self.assertIn(conflicts_line(2), texts)
        self.assertIn(CRATES[0], texts, "each conflict row shows where it is")
        self.assertIn(expanded_line(0), texts)
        await self._pick(POLICY_COMBO, INSTANCE_POLICIES.index("deinstance"))
        self.assertEqual(window.model.instance_policy, "deinstance")
        self.assertIsNone(window.model.plan, "a new policy drops the preview")
        await self._preview(window)
        self.assertIn(expanded_line(2), self._label_texts())
        self.assertIn("2 instances expanded", window.model.message)
        await self._click(APPLY)
        await self._until_idle(window)
        self.assertFalse(self._is_instance(CRATES[0]))
        stage = omni.usd.get_context().get_stage()
        assert stage is not None
        self.assertEqual(direct_labels(stage.GetPrimAtPath(f"{CRATES[0]}/Lid")), {"class": ("crate_lid",)})
        await self._click(UNDO)  # the panel's Undo makes the instances instanceable again
        self.assertTrue(self._is_instance(CRATES[0]) and self._is_instance(CRATES[1]))
        omni.kit.undo.undo()  # Kit's entry is inert after the panel's Undo
        await updates(1)
        self.assertTrue(self._is_instance(CRATES[0]))
        omni.kit.undo.redo()  # Kit's redo deinstances again, and the panel hears of it
        await updates(2)
        self.assertFalse(self._is_instance(CRATES[0]))
        self.assertTrue(window.model.message.startswith("redone outside the panel"), window.model.message)
        omni.kit.undo.undo()
        await updates(2)
        self.assertTrue(self._is_instance(CRATES[0]))
        self.assertTrue(window.model.message.startswith("undone outside the panel"), window.model.message)

    async def test_asset_labels_layers_follow_kits_undo_and_redo_and_are_saved(self) -> None:
        window = await self._open()
        await self._load_rules(window, self.folder / "parts.yaml", "boxes")
        await self._pick(POLICY_COMBO, INSTANCE_POLICIES.index("asset"))
        await self._preview(window)
        crate_labels = self.folder / "crate_labels.usda"
        self.assertEqual([Path(path).resolve() for path in window.model.asset_layers()], [crate_labels])
        await self._click(APPLY)
        await self._until_idle(window)
        await updates(2)
        self.assertTrue(self._is_instance(CRATES[1]), "asset labels keep the instances instanced")
        self.assertEqual(len(window.model.unsaved_asset_layers), 1)
        self.assertIsNotNone(ui_test.find(_button(SAVE_ASSET_LAYERS)))
        omni.kit.undo.undo()  # Kit's Ctrl+Z of the apply empties the asset labels layer: nothing left to save
        await updates(3)
        self.assertEqual(window.model.unsaved_asset_layers, [])
        self.assertIsNone(ui_test.find(_button(SAVE_ASSET_LAYERS)))
        omni.kit.undo.redo()  # and its redo writes the part labels again: they must be saved again
        await updates(3)
        self.assertEqual(len(window.model.unsaved_asset_layers), 1)
        self.assertFalse(crate_labels.exists(), "Kit's redo writes in memory only")
        await self._click(SAVE_ASSET_LAYERS)
        await self._until_idle(window)
        self.assertIn("crate_lid", crate_labels.read_text())
        self.assertEqual(window.model.unsaved_asset_layers, [])

    async def test_the_sibling_labels_layer_is_included_written_and_saved(self) -> None:
        window = await self._open()
        sibling = self.folder / "scene_labels.usda"
        await updates(2)
        self.assertIsNotNone(ui_test.find(_button(INCLUDE_SIBLING)), "the sibling labels layer is offered")
        await self._click(INCLUDE_SIBLING)
        await self._until_idle(window)
        await updates(2)
        self.assertEqual([Path(layer.path).resolve() for layer in window.model.labels_layers()], [sibling])
        self.assertIsNone(ui_test.find(_button(INCLUDE_SIBLING)))
        self.assertEqual(window.model.target_kind, "view")
        combo = ui_test.find(_combo(TARGET_COMBO))
        assert combo is not None
        self.assertEqual(combo.model.get_item_value_model(None, 0).as_int, list(TARGETS.values()).index("view"))
        omni.usd.get_context().get_selection().set_selected_prim_paths([FLOOR], False)
        await updates(2)
        field = ui_test.find(_field(NEW_LABELS_FIELD))
        assert field is not None
        await field.input("floor")
        await updates(2)
        stage = omni.usd.get_context().get_stage()
        assert stage is not None
        self.assertEqual(labels_api_labels(stage.GetPrimAtPath(FLOOR)), {"class": ("floor",)})
        self.assertNotIn('["floor"]', stage.GetRootLayer().ExportToString(), "written into the labels layer")
        await self._click(SAVE_LABELS_LAYER)
        await self._until_idle(window)
        self.assertIn('["floor"]', sibling.read_text())
