"""The SDG Studio Kit extension: "Tools > SDG Studio" with the three panels and "Record N Frames".

The extension owns the three models (and what keeps them in step with Kit), so they outlive their windows:
``MenuHelperExtensionFull`` destroys a window one update after it is hidden and builds a new one when the menu
entry is clicked again (omni.kit.menu.utils ``extension_window_helper_full.py``: ``_visiblity_changed_func``
-> ``_destroy_window_async``; ``show_window`` calls the factory), and a new window shows the same rules,
preview, recording and visualizer settings. Every coroutine runs through one :class:`TaskKeeper`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import omni.ext
import omni.kit.actions.core
import omni.kit.app
import omni.ui as ui
import omni.usd
from omni.kit.menu.utils import MenuHelperExtensionFull, MenuItemDescription, add_menu_items, remove_menu_items

from omni.sdg_studio.backends.replicator.writer_output import ISAAC_SIM_6_0, ReplicatorSetupError, isaac_sim_line
from omni.sdg_studio.core.task_keeper import TaskKeeper
from omni.sdg_studio.core.visualize.model import VisualizerModel
from omni.sdg_studio.kit.events import observe_stage
from omni.sdg_studio.kit.names import (
    MENU_GROUP,
    MENU_ROOT,
    RECORD_N_FRAMES_ACTION,
    RECORD_N_FRAMES_MENU,
    RECORDER_TITLE,
    SEMANTIC_EDITOR_TITLE,
    VISUALIZER_TITLE,
)
from omni.sdg_studio.kit.recorder_host import RecorderHost
from omni.sdg_studio.kit.recorder_window import RecorderWindow
from omni.sdg_studio.kit.semantic_commands import register_commands, unregister_commands
from omni.sdg_studio.kit.semantic_editor_host import SemanticEditorHost
from omni.sdg_studio.kit.semantic_editor_window import SemanticEditorWindow
from omni.sdg_studio.kit.visualizer_window import VisualizerWindow

logger = logging.getLogger(__name__)

_running: SdgStudioExtension | None = None


def get_extension() -> SdgStudioExtension | None:
    """The enabled extension (its models, its id), or None when it is not enabled."""
    return _running


class SdgStudioExtension(omni.ext.IExt, MenuHelperExtensionFull):
    """Adds the SDG Studio panels and actions to Kit; removes everything it added on shutdown."""

    def on_startup(self, ext_id: str) -> None:
        global _running
        self.ext_id = ext_id
        self.tasks = TaskKeeper()
        register_commands()
        build = omni.kit.app.get_app().get_build_version()
        try:
            line = isaac_sim_line(build)
        except ReplicatorSetupError:
            line = ISAAC_SIM_6_0
            logger.warning("[SDG Studio] unknown Kit version %r: using the %s conventions", build, line.name)
        logger.info("[SDG Studio] writing with the %s conventions (Kit %s)", line.name, line.kit)
        self.recorder = RecorderHost(line, self.tasks)
        self.semantic_editor = SemanticEditorHost(self.tasks)
        self.visualizer = VisualizerModel()
        self._stage_closing = observe_stage(
            omni.usd.StageEventType.CLOSING, self.visualizer.clear, "omni.sdg_studio.visualizer_model.stage_closing"
        )
        for title, factory in self._window_factories():
            self.menu_startup(factory, title, title, MENU_GROUP)
        omni.kit.actions.core.get_action_registry().register_action(
            ext_id,
            RECORD_N_FRAMES_ACTION,
            self.recorder.record_last_config,
            display_name="SDG Studio: Record N Frames",
            description="Record frames with the Synthetic Data Recorder's last configuration.",
            tag="SDG Studio",
        )
        self._menu_items = [
            MenuItemDescription(
                name="SDG Studio",
                sub_menu=[
                    MenuItemDescription(name=RECORD_N_FRAMES_MENU, onclick_action=(ext_id, RECORD_N_FRAMES_ACTION))
                ],
            )
        ]
        add_menu_items(self._menu_items, MENU_ROOT)
        _running = self

    def _window_factories(self) -> list[tuple[str, Callable[[], ui.Window]]]:
        """Title and constructor of each panel, in menu order; every window shows a model owned here."""
        return [
            (SEMANTIC_EDITOR_TITLE, lambda: SemanticEditorWindow(SEMANTIC_EDITOR_TITLE, self.semantic_editor)),
            (RECORDER_TITLE, lambda: RecorderWindow(RECORDER_TITLE, self.recorder)),
            (VISUALIZER_TITLE, lambda: VisualizerWindow(VISUALIZER_TITLE, self.visualizer, self.tasks)),
        ]

    def on_shutdown(self) -> None:
        """Undo everything on_startup did; one failing step is logged and the others still run."""
        global _running
        _running = None
        steps: list[tuple[str, Callable[[], object]]] = [
            ("remove the Record N Frames menu", lambda: remove_menu_items(self._menu_items, MENU_ROOT)),
            (
                "deregister the Record N Frames action",
                lambda: omni.kit.actions.core.get_action_registry().deregister_action(
                    self.ext_id, RECORD_N_FRAMES_ACTION
                ),
            ),
            ("remove the panels and their menu entries", self.menu_shutdown),
            ("stop the recorder and remember its configuration", self.recorder.destroy),
            ("stop following the stage", self.semantic_editor.destroy),
            ("stop following stage closing", self._stage_closing.reset),
            ("cancel running tasks", self.tasks.cancel_all),
            ("unregister the label command", unregister_commands),
        ]
        for what, step in steps:
            try:
                step()
            except Exception:
                logger.exception("[SDG Studio] shutdown: could not %s", what)
