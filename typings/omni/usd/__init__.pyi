# TY:typings/omni/usd/_usd.pyi (get_context(name: str = '') -> UsdContext; UsdContext.get_stage();
# UsdContext.stage_event_name(event: StageEventType) -> str; StageEventType.OPENED / CLOSING / CLOSED);
# usage IS:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/conveyor_builder_widget.py.
from pxr import Usd

class StageEventType:
    OPENED: StageEventType
    CLOSING: StageEventType
    CLOSED: StageEventType

class UsdContext:
    def get_stage(self) -> Usd.Stage | None: ...
    def stage_event_name(self, event: StageEventType) -> str: ...

def get_context(name: str = "") -> UsdContext: ...
