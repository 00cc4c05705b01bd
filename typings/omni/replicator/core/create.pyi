# rep.create.render_product: https://docs.omniverse.nvidia.com/py/replicator/latest/source/extensions/omni.replicator.core/docs/API.html
# usage IS@5.1+6.0:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder.py
# (rep.create.render_product(camera_path, resolution, name=custom_name, force_new=True)).
from omni.replicator.core import RenderProduct

def render_product(
    camera: str, resolution: tuple[int, int], force_new: bool = False, name: str | None = None
) -> RenderProduct: ...
