# TY:typings/carb/eventdispatcher/_eventdispatcher.pyi (IEventDispatcher.observe_event(..., event_name, on_event,
# filter=None, observer_name='<python>') -> ObserverGuard; the generated stub puts `order` first, which is not valid
# Python, so keyword use is written here); get_eventdispatcher from TY:typings/carb/eventdispatcher/__init__.pyi.
# Usage: IS:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/conveyor_builder_widget.py.
from collections.abc import Callable
from typing import Any

class Event:
    event_name: str

class ObserverGuard:
    def reset(self) -> None: ...

class IEventDispatcher:
    def observe_event(
        self,
        *,
        event_name: str,
        on_event: Callable[[Event], None],
        order: int = 0,
        filter: Any = None,
        observer_name: str = "<python>",
    ) -> ObserverGuard: ...

def get_eventdispatcher() -> IEventDispatcher: ...
