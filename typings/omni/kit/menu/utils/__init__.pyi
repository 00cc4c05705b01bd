# TY:typings/omni/kit/menu/utils/builder_utils.pyi (MenuItemDescription.__init__),
# TY:typings/omni/kit/menu/utils/utils.pyi (add_menu_items / remove_menu_items),
# TY:typings/omni/kit/menu/utils/extension_window_helper_full.pyi (MenuHelperExtensionFull, MenuHelperWindow);
# usage: IS@5.1+6.0:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/
# synthetic_recorder_extension.py, IS@5.1+6.0:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/
# impl/extension.py (onclick_action, sub_menu).
# Behaviour from omni.kit.menu.utils extension_window_helper_full.py (see typings/README.md): menu_startup registers
# window_name in a process-wide dict and, when the name is taken, logs an error and returns None without a menu entry;
# the menu entry's action toggles the window (_toggle_window); a hidden window is destroyed one update later
# (_visiblity_changed_func -> _destroy_window_async) and show_window builds a new one with create_window_fn.
from collections.abc import Callable
from typing import Any

import omni.ui

class MenuItemDescription:
    def __init__(
        self,
        name: str = "",
        glyph: str = "",
        header: str | None = None,
        appear_after: list[str] | str = "",
        enabled: bool = True,
        ticked: bool = False,
        ticked_value: bool | None = None,
        radio_group: str | None = "",
        sub_menu: list[MenuItemDescription] | None = None,
        hotkey: tuple[int, int] | None = None,
        name_fn: Callable[..., Any] | None = None,
        show_fn: Callable[..., Any] | None = None,
        enable_fn: Callable[..., Any] | None = None,
        ticked_fn: Callable[..., Any] | None = None,
        onclick_action: tuple[str, str] | None = None,
        unclick_action: tuple[str, str] | None = None,
        onclick_fn: Callable[..., Any] | None = None,
    ) -> None: ...

def add_menu_items(
    menu: list[MenuItemDescription], name: str, menu_index: int = 0, can_rebuild_menus: bool = True, delegate: Any = None
) -> list[Any]: ...
def remove_menu_items(menu: list[MenuItemDescription], name: str, can_rebuild_menus: bool = True) -> None: ...

class MenuHelperExtensionFull:
    def menu_startup(
        self,
        create_window_fn: Callable[[], omni.ui.Window],
        window_name: str,
        menu_desc: str,
        menu_group: str,
        window_attr_name: str | None = None,
        verbose: bool = False,
    ) -> int | None: ...
    def menu_shutdown(self, index: int = -1) -> bool: ...

class MenuHelperWindow(omni.ui.Window):
    # MenuHelperWindow.__init__ calls set_visibility_changed_fn(self._visibility_changed_fn), which forwards to the
    # listener MenuHelperExtensionFull sets (set_visibility_changed_listener): omni.kit.menu.utils
    # extension_window_helper_full.py (TY:typings/omni/kit/menu/utils/extension_window_helper_full.pyi lists both).
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    def _visibility_changed_fn(self, visible: bool) -> None: ...
    def destroy(self) -> None: ...
