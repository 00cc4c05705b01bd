# TY:typings/omni/kit/viewport/utility/__init__.pyi (get_active_viewport(usd_context_name: str = '')); the viewport
# API's render_product_path / camera_path: IS:source/extensions/isaacsim.core.rendering_manager/python/impl/viewport_manager.py
# (viewport.render_product_path), IS:source/extensions/isaacsim.app.setup/isaacsim/app/setup/startup.py (import).

class ViewportAPI:
    render_product_path: str

def get_active_viewport(usd_context_name: str = "") -> ViewportAPI | None: ...
