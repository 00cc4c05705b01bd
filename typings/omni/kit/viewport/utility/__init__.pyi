# TY:typings/omni/kit/viewport/utility/__init__.pyi (get_active_viewport(usd_context_name: str = '')); the viewport
# API's render_product_path / camera_path: IS:source/extensions/isaacsim.core.rendering_manager/python/impl/viewport_manager.py
# (viewport.render_product_path), IS:source/extensions/isaacsim.app.setup/isaacsim/app/setup/startup.py (import).

from typing import Any

class ViewportAPI:
    render_product_path: str
    # IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py
    # (active_vp.get_active_camera(), a Sdf.Path turned into str for the render-product row).
    def get_active_camera(self) -> Any: ...

def get_active_viewport(usd_context_name: str = "") -> ViewportAPI | None: ...
