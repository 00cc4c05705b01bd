# TY:typings/carb/eventdispatcher/_eventdispatcher.pyi (IEventDispatcher.observe_event(..., event_name, on_event,
# filter=None, observer_name='<python>') -> ObserverGuard; the generated stub puts `order` first, which is not valid
# Python, so keyword use is written here); get_eventdispatcher from TY:typings/carb/eventdispatcher/__init__.pyi.
# Usage at both tags: IS@5.1+6.0:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/
# conveyor_builder_widget.py, IS@5.1:source/extensions/isaacsim.gui.menu/isaacsim/gui/menu/edit_menu/edit_menu.py;
# `order=` as in IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py.
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
