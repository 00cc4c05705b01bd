"""The extension adds its menu entries and windows and removes them when disabled."""

import omni.kit.app
import omni.kit.test
import omni.kit.ui_test as ui_test
import omni.ui as ui

from omni.sdg_studio.kit.extension import MENU_GROUP, RECORDER, SEMANTIC_EDITOR, VISUALIZER

EXTENSION_NAME = "omni.sdg_studio"


class TestSdgStudioExtension(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        await omni.kit.app.get_app().next_update_async()

    async def test_menu_opens_each_panel(self) -> None:
        for title in (SEMANTIC_EDITOR, RECORDER, VISUALIZER):
            await ui_test.menu_click(f"{MENU_GROUP}/{title}")
            await ui_test.human_delay()
            window = ui.Workspace.get_window(title)
            self.assertIsNotNone(window, f"{title} window not created by its menu entry")
            assert window is not None
            self.assertTrue(window.visible, f"{title} window not visible")

    async def test_disable_removes_windows(self) -> None:
        await ui_test.menu_click(f"{MENU_GROUP}/{VISUALIZER}")
        await ui_test.human_delay()
        manager = omni.kit.app.get_app().get_extension_manager()
        manager.set_extension_enabled_immediate(EXTENSION_NAME, False)
        await omni.kit.app.get_app().next_update_async()
        try:
            window = ui.Workspace.get_window(VISUALIZER)
            self.assertTrue(window is None or not window.visible, "window left behind after shutdown")
        finally:
            manager.set_extension_enabled_immediate(EXTENSION_NAME, True)
            await omni.kit.app.get_app().next_update_async()
