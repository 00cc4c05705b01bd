# TY:typings/omni/kit/viewport/utility/__init__.pyi (get_active_viewport(usd_context_name: str = '')); the viewport
# API's render_product_path / camera_path: IS:source/extensions/isaacsim.core.rendering_manager/python/impl/viewport_manager.py
# (viewport.render_product_path), IS@5.1+6.0:source/extensions/isaacsim.test.utils/isaacsim/test/utils/image_capture.py
# (viewport_api.render_product_path), IS@5.1:source/extensions/isaacsim.core.utils/python/impl/viewports.py
# (viewport_api.get_active_camera()).

from typing import Any

class ViewportAPI:
    render_product_path: str
    # IS@5.1+6.0:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_window.py
    # (active_vp.get_active_camera(), a Sdf.Path turned into str for the render-product row).
    def get_active_camera(self) -> Any: ...

def get_active_viewport(usd_context_name: str = "") -> ViewportAPI | None: ...
