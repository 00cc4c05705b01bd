# TY:typings/omni/usd/_usd.pyi (get_context(name: str = '') -> UsdContext; UsdContext.get_stage();
# UsdContext.stage_event_name(event: StageEventType) -> str; StageEventType.OPENED / CLOSING / CLOSED);
# usage IS:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/conveyor_builder_widget.py.
# Test helpers (open_stage_async, new_stage_async, close_stage, get_stage_loading_status): TY:typings/omni/usd/_usd.pyi with `async`
# restored (awaited in IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/tests/test_recorder_ui.py).
from collections.abc import Callable
from pxr import Usd

class StageEventType:
    OPENED: StageEventType
    CLOSING: StageEventType
    CLOSED: StageEventType
    # IS:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/conveyor_builder_widget.py
    # (stage_event_name(omni.usd.StageEventType.SELECTION_CHANGED)).
    SELECTION_CHANGED: StageEventType

class Selection:
    # TY:typings/omni/usd/_usd.pyi (Selection.get_selected_prim_paths(self, source=...) -> list[str]); usage
    # IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py
    # (context.get_selection().get_selected_prim_paths()).
    # set_selected_prim_paths(paths: list[str], expand_in_stage: bool): TY:typings/omni/usd/_usd.pyi; usage
    # IS:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/conveyor_builder_widget.py.
    def get_selected_prim_paths(self) -> list[str]: ...
    def set_selected_prim_paths(self, paths: list[str], expand_in_stage: bool) -> bool: ...

class UsdContext:
    def get_stage(self) -> Usd.Stage | None: ...
    # IS:source/extensions/isaacsim.asset.gen.conveyor/python/commands/commands.py (get_context().get_selection()).
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
