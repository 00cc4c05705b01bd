"""The SDG Studio Kit extension: "Tools > SDG Studio" menu with the three panels and "Record N Frames"."""

from __future__ import annotations

from collections.abc import Callable

import carb
import omni.ext
import omni.kit.actions.core
import omni.ui as ui
from omni.kit.menu.utils import MenuHelperExtensionFull, MenuItemDescription, add_menu_items, remove_menu_items

from omni.sdg_studio.kit.placeholder_window import PlaceholderWindow
from omni.sdg_studio.kit.semantic_commands import register_commands, unregister_commands
from omni.sdg_studio.kit.semantic_editor_window import SemanticEditorWindow
from omni.sdg_studio.kit.visualizer_window import VisualizerWindow

MENU_ROOT = "Tools"
MENU_GROUP = "Tools/SDG Studio"
RECORD_ACTION_ID = "record_n_frames"

SEMANTIC_EDITOR = "Semantic Schema Editor"
RECORDER = "Synthetic Data Recorder"
VISUALIZER = "Annotator Visualizer"


def _window_factories() -> list[tuple[str, Callable[[], ui.Window]]]:
    """Title and constructor of each panel, in menu order."""
    return [
        (SEMANTIC_EDITOR, lambda: SemanticEditorWindow(SEMANTIC_EDITOR)),
        (RECORDER, lambda: PlaceholderWindow(RECORDER, "Record annotated frames with Replicator writers.")),
        (VISUALIZER, lambda: VisualizerWindow(VISUALIZER)),
    ]


def record_last_config() -> None:
    """Action behind "Record N Frames": records with the recorder's last config."""
    carb.log_warn("[SDG Studio] Record N Frames: the recorder panel is not available yet.")


class SdgStudioExtension(omni.ext.IExt, MenuHelperExtensionFull):
    """Adds the SDG Studio panels and actions to Kit; removes everything it added on shutdown."""

    def on_startup(self, ext_id: str) -> None:
        self._ext_id = ext_id
        register_commands()
        for title, factory in _window_factories():
            self.menu_startup(factory, title, title, MENU_GROUP)
        registry = omni.kit.actions.core.get_action_registry()
        registry.register_action(
            ext_id,
            RECORD_ACTION_ID,
            record_last_config,
            display_name="SDG Studio: Record N Frames",
            description="Record frames with the Synthetic Data Recorder's last configuration.",
            tag="SDG Studio",
        )
        self._menu_items = [
            MenuItemDescription(
                name="SDG Studio",
                sub_menu=[MenuItemDescription(name="Record N Frames", onclick_action=(ext_id, RECORD_ACTION_ID))],
            )
        ]
        add_menu_items(self._menu_items, MENU_ROOT)

    def on_shutdown(self) -> None:
        remove_menu_items(self._menu_items, MENU_ROOT)
        self._menu_items = []
        omni.kit.actions.core.get_action_registry().deregister_action(self._ext_id, RECORD_ACTION_ID)
        self.menu_shutdown()
        unregister_commands()
