"""Semantic Schema Editor in Kit, on the shipped sample scene: preview, apply and undo through the panel (its Undo
undoes its own edit, not another command on Kit's stack), click-to-label on the stage selection, the rules table
built, and the apply command on Kit's undo stack.

These run inside Kit through omni.kit.test (see ``__init__.py``), not in the pytest suite.
"""

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
from omni.sdg_studio.core.semantics.schema import direct_labels, labels_api_labels, legacy_instances
from omni.sdg_studio.kit.names import SEMANTIC_EDITOR_TITLE
from omni.sdg_studio.kit.semantic_commands import APPLY_LABEL_PLAN
from omni.sdg_studio.kit.semantic_editor_window import (
    APPLY,
    LOAD,
    NEW_LABELS_FIELD,
    PREVIEW,
    RULES_PATH_FIELD,
    UNDO,
    UPGRADE,
    SemanticEditorWindow,
)
from omni.sdg_studio.resources import CONFIG_DIR, SAMPLE_SCENE
from omni.sdg_studio.tests.kit_ui import close_panels, open_panel, updates

RULES = CONFIG_DIR / "rules" / "warehouse.yaml"
BARREL = "/World/Props/SM_Barrel_01"
MATTRESS = "/World/Props/Mattress_01"
SETTING = "/exts/omni.sdg_studio/tests/foreign_command"
MAX_UPDATES = 300


def _button(text: str) -> str:
    return f"{SEMANTIC_EDITOR_TITLE}//Frame/**/Button[*].text=='{text}'"


def _field(identifier: str) -> str:
    return f"{SEMANTIC_EDITOR_TITLE}//Frame/**/StringField[*].identifier=='{identifier}'"


class TestSemanticEditor(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        await omni.kit.app.get_app().next_update_async()
        opened, error = await omni.usd.get_context().open_stage_async(str(SAMPLE_SCENE))
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

    async def _load_rules(self, window: SemanticEditorWindow) -> None:
        path = ui_test.find(_field(RULES_PATH_FIELD))
        self.assertIsNotNone(path, "no rules file field")
        assert path is not None
        await path.input(str(RULES))
        await self._click(LOAD)
        self.assertEqual(window.model.rules_error, "", window.model.message)
        self.assertEqual(window.model.rule_rows()[0].id, "pallets")

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
