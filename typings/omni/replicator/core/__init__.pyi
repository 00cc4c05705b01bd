# omni.replicator.core subset used by the Annotator Visualizer. Signatures:
# https://docs.omniverse.nvidia.com/py/replicator/latest/source/extensions/omni.replicator.core/docs/API.html;
# usage IS:source/extensions/isaacsim.test.utils/isaacsim/test/utils/image_capture.py
# (rep.create.render_product(camera_path, resolution); rep.AnnotatorRegistry.get_annotator(name); annot.attach(rp);
# annot.get_data(do_array_copy=...); annot.detach(); rp.destroy()),
# IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder.py
# (render_product(camera_path, resolution, name=..., force_new=True)),
# IS:source/extensions/isaacsim.replicator.writers/python/scripts/writers/ycb_video_writer.py
# (get_annotator(name, init_params={"semanticTypes": [...], "colorize": False})).
from collections.abc import Sequence
from typing import Any

from . import backends as backends
from . import create as create
from . import orchestrator as orchestrator

class HydraTexture:
    # IS:source/extensions/isaacsim.core.nodes/python/nodes/OgnIsaacAttachHydraTexture.py (set_updates_enabled(bool)).
    def set_updates_enabled(self, enabled: bool) -> None: ...

class RenderProduct:
    path: str
    hydra_texture: HydraTexture
    def destroy(self) -> None: ...

class Annotator:
    def attach(self, render_products: str | RenderProduct | Sequence[str | RenderProduct]) -> None: ...
    def detach(self, render_products: str | RenderProduct | Sequence[str | RenderProduct] | None = None) -> None: ...
    def get_data(self, device: str | None = None, do_array_copy: bool = True) -> Any: ...

class AnnotatorRegistry:
    @staticmethod
    def get_annotator(
        name: str, init_params: dict[str, Any] | None = None, render_product_idxs: list[int] | None = None,
        device: str | None = None, do_array_copy: bool = True,
    ) -> Annotator: ...

# Writers: IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder.py
# (writer = rep.WriterRegistry.get(writer_name); writer.initialize(**writer_params) with writer_params["backend"];
# writer.attach(render_products); writer.detach()); also IS:source/extensions/isaacsim.replicator.examples/python/tests/test_scene_based_sdg.py.
class Writer:
    def initialize(self, **kwargs: Any) -> None: ...
    def attach(self, render_products: str | RenderProduct | Sequence[str | RenderProduct], trigger: Any = ...) -> None: ...
    def detach(self) -> None: ...

class WriterRegistry:
    @staticmethod
    def get(writer_name: str, init_params: dict[str, Any] | None = None, render_products: Any = None) -> Writer: ...
    # IS:source/extensions/isaacsim.replicator.examples/python/tests/test_scene_based_sdg.py
    # (`writer_type not in rep.WriterRegistry.get_writers()`), IS:source/extensions/isaacsim.hsb.nodes/python/extension.py
    # (`for writer in rep.WriterRegistry.get_writers(category=...)`): a collection of registered names.
    @staticmethod
    def get_writers(category: str | None = None) -> dict[str, Any]: ...
