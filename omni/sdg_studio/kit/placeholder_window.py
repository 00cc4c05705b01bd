"""A window that says which panel is coming, used until the panel itself exists."""

from __future__ import annotations

import omni.ui as ui
from omni.kit.menu.utils import MenuHelperWindow


class PlaceholderWindow(MenuHelperWindow):
    """Names the panel and what it will do."""

    def __init__(self, title: str, summary: str) -> None:
        super().__init__(title, width=420, height=160)
        with self.frame, ui.VStack(spacing=8):
            ui.Label(title, height=24, alignment=ui.Alignment.CENTER)
            ui.Label(summary, word_wrap=True, alignment=ui.Alignment.LEFT_TOP)
