"""The extension: its menu entries show the three panels, closed panels keep their models, user state stays out of
the extension folder. No test disables the extension it runs in."""

from pathlib import Path

import omni.kit.app
import omni.kit.test
import omni.kit.ui_test as ui_test

from omni.sdg_studio.backends.replicator.writer_output import isaac_sim_line
from omni.sdg_studio.kit.names import MENU_GROUP, RECORDER_TITLE, SEMANTIC_EDITOR_TITLE, VISUALIZER_TITLE
from omni.sdg_studio.kit.recorder_window import RecorderWindow
from omni.sdg_studio.kit.semantic_editor_window import SemanticEditorWindow
from omni.sdg_studio.kit.visualizer_window import VisualizerWindow
from omni.sdg_studio.tests.kit_ui import close_panels, open_panel, running_extension, shown_window, updates

WINDOW_CLASSES = {
    SEMANTIC_EDITOR_TITLE: SemanticEditorWindow,
    RECORDER_TITLE: RecorderWindow,
    VISUALIZER_TITLE: VisualizerWindow,
}


class TestSdgStudioExtension(omni.kit.test.AsyncTestCase):
    async def setUp(self) -> None:
        await omni.kit.app.get_app().next_update_async()

    async def tearDown(self) -> None:
        await close_panels()

    async def test_menu_shows_each_panel(self) -> None:
        for title, window_class in WINDOW_CLASSES.items():
            window = await open_panel(title)
            self.assertIsInstance(window, window_class, f"{title}: wrong window")

    async def test_the_menu_entry_toggles_and_a_reopened_panel_shows_the_same_model(self) -> None:
        extension = running_extension()
        first = await open_panel(SEMANTIC_EDITOR_TITLE)
        assert isinstance(first, SemanticEditorWindow)
        self.assertIs(first.model, extension.semantic_editor.model)
        first.model.set_filter(text="pallet")
        await ui_test.menu_click(f"{MENU_GROUP}/{SEMANTIC_EDITOR_TITLE}")  # visible: the click hides it
        await updates(5)
        self.assertIsNone(shown_window(SEMANTIC_EDITOR_TITLE), "a second click must hide the panel")
        second = await open_panel(SEMANTIC_EDITOR_TITLE)
        assert isinstance(second, SemanticEditorWindow)
        self.assertIsNot(second, first, "the menu helper builds a new window after a hide")
        self.assertIs(second.model, extension.semantic_editor.model)
        self.assertEqual(second.model.filter_text, "pallet", "closing the panel lost its state")

    async def test_user_state_is_not_written_into_the_extension_folder(self) -> None:
        extension = running_extension()
        manager = omni.kit.app.get_app().get_extension_manager()
        extension_folder = Path(manager.get_extension_path(extension.ext_id)).resolve()
        last_config = extension.recorder.model.last_config_path
        assert last_config is not None
        self.assertFalse(last_config.resolve().is_relative_to(extension_folder), str(last_config))

    async def test_the_writer_conventions_follow_this_kit(self) -> None:
        build = omni.kit.app.get_app().get_build_version()
        self.assertIs(running_extension().recorder.line, isaac_sim_line(build))
