# TY:typings/omni/kit/app/__init__.pyi (get_app, IApp, GLOBAL_EVENT_UPDATE = 'update',
# GLOBAL_EVENT_POST_QUIT = 'omni.kit.app:post_quit'; Kit 107.3, i.e. Isaac Sim 5.x); next_update_async is a
# coroutine (awaited in IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder.py
# and in 5.1's copy; the generated stub lost `async`).
# GLOBAL_EVENT_UPDATE observed through carb.eventdispatcher on both lines: IS@5.1:source/extensions/isaacsim.core.throttling/
# isaacsim/core/throttling/extension.py, IS:source/extensions/isaacsim.core.nodes/python/impl/base_writer_node.py.
# GLOBAL_EVENT_POST_QUIT: IS:.../synthetic_recorder/synthetic_recorder_window.py (observe_event(..., order=0)); on 5.1 the
# recorder still used the older shutdown event stream, but Kit 107.3 defines the name (TY above).

GLOBAL_EVENT_UPDATE: str
GLOBAL_EVENT_POST_QUIT: str

class ExtensionManager:
    # IS:.../synthetic_recorder/synthetic_recorder_window.py (get_extension_manager().get_extension_path(self._ext_id),
    # an extension *id*, as on_startup receives it; same in 5.1's copy).
    def get_extension_path(self, ext_id: str) -> str: ...

class IApp:
    async def next_update_async(self) -> float: ...
    def get_extension_manager(self) -> ExtensionManager: ...
    # "107.3.3+isaac...." / "110.1.2+production...": IS@5.1+6.0:source/extensions/isaacsim.app.about/isaacsim/app/about/
    # extension.py (get_build_version().split("+")) and deps/kit-sdk.packman.xml of tags v5.1.0 / v6.0.1.
    def get_build_version(self) -> str: ...

def get_app() -> IApp: ...
