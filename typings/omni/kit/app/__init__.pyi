# TY:typings/omni/kit/app/__init__.pyi (get_app, IApp, GLOBAL_EVENT_UPDATE = 'update'); next_update_async is a
# coroutine (awaited in IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/tests/test_recorder_ui.py;
# the generated stub lost `async`).

GLOBAL_EVENT_UPDATE: str

class ExtensionManager:
    # IS:source/extensions/isaacsim.core.experimental.utils/python/impl/app.py (set_extension_enabled_immediate(name, enabled)).
    def set_extension_enabled_immediate(self, extension_id: str, enabled: bool) -> bool: ...
    # IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py
    # (get_extension_manager().get_extension_path(self._ext_id) -> the extension folder, holding data/).
    def get_extension_path(self, ext_id: str) -> str: ...

class IApp:
    async def next_update_async(self) -> float: ...
    def get_extension_manager(self) -> ExtensionManager: ...

def get_app() -> IApp: ...
