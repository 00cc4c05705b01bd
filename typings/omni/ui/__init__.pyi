# omni.ui subset. Signatures: https://docs.omniverse.nvidia.com/kit/docs/omni.ui/latest/omni.ui.html and usage in
# IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py
# (ui.Window, window.frame, ui.VStack(spacing=), ui.Label(text, height=, alignment=, tooltip=)),
# IS:source/extensions/isaacsim.asset.transformer.ui/isaacsim/asset/transformer/ui/window.py (ui.Label(word_wrap=True)),
# IS:source/extensions/isaacsim.gui.components/isaacsim/gui/components/element_wrappers/ui_widget_wrappers.py
# (ui.Alignment.LEFT_TOP).
from typing import Any

from typing_extensions import Self

class Alignment:
    LEFT_TOP: Alignment
    LEFT_CENTER: Alignment
    CENTER: Alignment
    RIGHT_CENTER: Alignment

class Widget:
    visible: bool
    enabled: bool
    def destroy(self) -> None: ...

class Container(Widget):
    def __enter__(self) -> Self: ...
    def __exit__(self, *args: Any) -> None: ...

class Frame(Container):
    def __init__(self) -> None: ...

class Stack(Container): ...

class VStack(Stack):
    def __init__(self, *, spacing: float = 0, height: float | None = None) -> None: ...

class HStack(Stack):
    def __init__(self, *, spacing: float = 0, height: float | None = None) -> None: ...

class Label(Widget):
    text: str
    def __init__(
        self,
        text: str,
        *,
        height: float | None = None,
        width: float | None = None,
        alignment: Alignment = ...,
        word_wrap: bool = False,
        tooltip: str = "",

    ) -> None: ...

class Workspace:
    # IS:source/extensions/isaacsim.app.about/isaacsim/app/about/tests/test_window_about.py (ui.Workspace.get_window("About")).
    @staticmethod
    def get_window(title: str) -> Window | None: ...

class Window:
    title: str
    visible: bool
    @property
    def frame(self) -> Frame: ...
    def __init__(self, title: str, *, width: int = 400, height: int = 600) -> None: ...
    def destroy(self) -> None: ...
