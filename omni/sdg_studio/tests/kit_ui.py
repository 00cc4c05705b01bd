"""What the omni.kit.test tests share: the running extension, opening a panel from its menu entry, closing panels.

A ``MenuHelperExtensionFull`` menu entry *toggles* its window (omni.kit.menu.utils
``extension_window_helper_full.py``: ``_toggle_window`` hides a visible window), so :func:`open_panel` clicks it
only while the window is not shown and clicks again when a click did not show it (menus are built lazily;
Isaac Sim 6.0.1's own tests use ``isaacsim.test.utils.menu_utils.menu_click_with_retry`` for the same reason).
Every test closes the panels it opened in ``tearDown`` with :func:`close_panels`.
"""

import omni.kit.app
import omni.kit.ui_test as ui_test
import omni.ui as ui

from omni.sdg_studio.kit.extension import SdgStudioExtension, get_extension
from omni.sdg_studio.kit.names import (
    ISSUES_DIALOG_TITLE,
    MENU_GROUP,
    RECORDER_TITLE,
    SEMANTIC_EDITOR_TITLE,
    VISUALIZER_TITLE,
)

PANEL_TITLES = (SEMANTIC_EDITOR_TITLE, RECORDER_TITLE, VISUALIZER_TITLE)
CLICKS = 3
UPDATES_PER_CLICK = 30


def running_extension() -> SdgStudioExtension:
    """The enabled SDG Studio extension (tests get its id and models from it, never from a hard-coded name)."""
    extension = get_extension()
    if extension is None:
        raise AssertionError("SDG Studio is not enabled")
    return extension


def shown_window(title: str) -> ui.Window | None:
    window = ui.Workspace.get_window(title)
    return window if window is not None and window.visible else None


async def updates(count: int) -> None:
    for _ in range(count):
        await omni.kit.app.get_app().next_update_async()


async def open_panel(title: str) -> ui.Window:
    """Show the panel ``title`` through its menu entry and return its window."""
    for _ in range(CLICKS):
        window = shown_window(title)
        if window is not None:
            return window
        await ui_test.menu_click(f"{MENU_GROUP}/{title}")
        for _ in range(UPDATES_PER_CLICK):
            await omni.kit.app.get_app().next_update_async()
            window = shown_window(title)
            if window is not None:
                return window
    raise AssertionError(f"the menu entry {MENU_GROUP}/{title} did not show its window")


async def close_panels() -> None:
    """Hide every SDG Studio window (the menu helper destroys a hidden panel one update later)."""
    for title in (*PANEL_TITLES, ISSUES_DIALOG_TITLE):
        window = shown_window(title)
        if window is not None:
            window.visible = False
    await updates(3)
