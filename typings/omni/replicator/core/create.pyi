# rep.create.render_product: https://docs.omniverse.nvidia.com/py/replicator/latest/source/extensions/omni.replicator.core/docs/API.html
# usage IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder.py.
from omni.replicator.core import RenderProduct

def render_product(
    camera: str, resolution: tuple[int, int], force_new: bool = False, name: str | None = None
) -> RenderProduct: ...
