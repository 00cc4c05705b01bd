# TY:typings/omni/usd/_usd.pyi (Kit 107.3: get_context(name: str = '') -> UsdContext; UsdContext.get_stage();
# UsdContext.stage_event_name(event: StageEventType) -> str; StageEventType.OPENED / CLOSING / CLOSED).
# Stage events through carb.eventdispatcher + stage_event_name on both lines: IS@5.1:source/extensions/isaacsim.gui.menu/
# isaacsim/gui/menu/edit_menu/edit_menu.py (SELECTION_CHANGED), IS@5.1:source/extensions/isaacsim.gui.sensors.icon/
# isaacsim/gui/sensors/icon/impl/model.py (OPENED, CLOSED), IS:source/extensions/isaacsim.replicator.synthetic_recorder/
# isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py (CLOSING; 5.1's copy used the older event stream
# for the same event), IS@5.1+6.0:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/
# conveyor_builder_widget.py.
# Test helpers (open_stage_async, new_stage_async, close_stage, get_stage_loading_status): TY with `async` restored
# (awaited in IS@5.1+6.0:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/tests/).
from collections.abc import Callable
from typing import Any

from pxr import Usd

class StageEventType:
    OPENED: StageEventType
    CLOSING: StageEventType
    CLOSED: StageEventType
    SELECTION_CHANGED: StageEventType

class Selection:
    # TY: Selection.get_selected_prim_paths(self, source: Selection.SourceType = ...) -> list[str];
    # usage IS@5.1+6.0:.../synthetic_recorder_window.py (context.get_selection().get_selected_prim_paths()).
    def get_selected_prim_paths(self, source: Any = ...) -> list[str]: ...
    # TY: set_selected_prim_paths(self, paths: list[str], expandInStage: bool = True, source: Selection.SourceType = ...)
    # -> bool (camelCase keyword); positional use IS@5.1+6.0:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/
    # asset/gen/conveyor/ui/impl/conveyor_builder_widget.py (set_selected_prim_paths([parent], False)).
    def set_selected_prim_paths(self, paths: list[str], expandInStage: bool = True, source: Any = ...) -> bool: ...

class UsdContext:
    def get_stage(self) -> Usd.Stage | None: ...
    # IS@5.1+6.0:source/extensions/isaacsim.asset.gen.conveyor/python/commands/commands.py (get_context().get_selection()).
    def get_selection(self) -> Selection: ...
    def stage_event_name(self, event: StageEventType) -> str: ...
    async def new_stage_async(self) -> tuple[bool, str]: ...
    async def open_stage_async(self, url: str) -> tuple[bool, str]: ...
    # IS:source/extensions/isaacsim.core.experimental.utils/python/impl/stage.py (open_stage:
    # `result = omni.usd.get_context().open_stage(usd_path)`, a bool, then `usd_context.get_stage()`).
    def open_stage(self, url: str) -> bool: ...
    def close_stage(self, on_finish_fn: Callable[[bool, str], None] | None = None) -> bool: ...
    def get_stage_loading_status(self) -> tuple[str, int, int]: ...

def get_context(name: str = "") -> UsdContext: ...
