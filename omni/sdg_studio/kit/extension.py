"""The SDG Studio Kit extension: "Tools > SDG Studio" menu with the three panels and "Record N Frames"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import carb
import omni.ext
import omni.kit.actions.core
import omni.ui as ui
from omni.kit.menu.utils import MenuHelperExtensionFull, MenuItemDescription, add_menu_items, remove_menu_items

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.recorder.model import RecorderModel
from omni.sdg_studio.kit.recorder_setup import make_recorder_model
from omni.sdg_studio.kit.recorder_window import RecorderWindow
from omni.sdg_studio.kit.semantic_commands import register_commands, unregister_commands
from omni.sdg_studio.kit.semantic_editor_window import SemanticEditorWindow
from omni.sdg_studio.kit.visualizer_window import VisualizerWindow

MENU_ROOT = "Tools"
MENU_GROUP = "Tools/SDG Studio"
RECORD_ACTION_ID = "record_n_frames"

SEMANTIC_EDITOR = "Semantic Schema Editor"
RECORDER = "Synthetic Data Recorder"
VISUALIZER = "Annotator Visualizer"


def _window_factories(recorder: RecorderModel) -> list[tuple[str, Callable[[], ui.Window]]]:
    """Title and constructor of each panel, in menu order."""
    return [
        (SEMANTIC_EDITOR, lambda: SemanticEditorWindow(SEMANTIC_EDITOR)),
        (RECORDER, lambda: RecorderWindow(RECORDER, recorder)),
        (VISUALIZER, lambda: VisualizerWindow(VISUALIZER)),
    ]


async def record_last_config(recorder: RecorderModel) -> None:
    """Action behind "Record N Frames": records with the recorder's last config (its window need not be open)."""
    if recorder.running:
        carb.log_warn("[SDG Studio] Record N Frames: a recording is already running")
        return
    try:
        state = await recorder.record_last_config_async()
    except SdgStudioError as exc:
        carb.log_warn(f"[SDG Studio] Record N Frames: {exc}")
        return
    carb.log_info(f"[SDG Studio] Record N Frames: {state.value}; {recorder.message}")


class SdgStudioExtension(omni.ext.IExt, MenuHelperExtensionFull):
    """Adds the SDG Studio panels and actions to Kit; removes everything it added on shutdown."""

    def on_startup(self, ext_id: str) -> None:
        self._ext_id = ext_id
        register_commands()
        self._recorder = make_recorder_model(ext_id)
        for title, factory in _window_factories(self._recorder):
            self.menu_startup(factory, title, title, MENU_GROUP)
        registry = omni.kit.actions.core.get_action_registry()
        registry.register_action(
            ext_id,
            RECORD_ACTION_ID,
            lambda: asyncio.ensure_future(record_last_config(self._recorder)),
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
        self._recorder.stop()
        self._recorder.save_last_config()
        unregister_commands()
