# omni.replicator.core subset (Replicator ships inside Isaac Sim, not in isaac-sim/IsaacSim; its API is read from the
# calls Isaac Sim makes, at both v5.1.0 and v6.0.1 unless marked, and from
# https://docs.omniverse.nvidia.com/py/replicator/latest/source/extensions/omni.replicator.core/docs/API.html).
# Annotators: IS@5.1+6.0:source/extensions/isaacsim.test.utils/isaacsim/test/utils/image_capture.py
# (rep.create.render_product(camera_path, resolution); rep.AnnotatorRegistry.get_annotator(name); annot.attach(rp);
# annot.get_data(do_array_copy=...); annot.detach(); rp.destroy()),
# IS@5.1+6.0:source/extensions/isaacsim.replicator.examples/python/tests/test_sdg_useful_snippets.py
# (get_annotator("semantic_segmentation", init_params={"colorize": True})),
# IS@5.1+6.0:source/extensions/isaacsim.replicator.writers/python/scripts/writers/ycb_video_writer.py
# (get_annotator(name, init_params={"semanticTypes": [...], "colorize": False})).
from collections.abc import Sequence
from typing import Any

from . import backends as backends
from . import create as create
from . import orchestrator as orchestrator
from . import writers as writers

class RenderProduct:
    path: str
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

# Writers: IS@5.1+6.0:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder.py
# (writer = rep.WriterRegistry.get(writer_name); writer.initialize(**writer_params): with writer_params["backend"] on 6.0.1,
# with output_dir= on 5.1.0, see omni/sdg_studio/backends/replicator/writer_output.py; writer.attach(render_products);
# writer.detach()). `from omni.replicator.core import Writer` as a base class: IS@5.1+6.0:source/extensions/
# isaacsim.replicator.examples/python/tests/test_sdg_getting_started.py (class MyWriter(Writer) whose parameters are
# on __init__). Replicator's writer registry (omni.replicator.core scripts/writers.py, read in a public copy carrying
# NVIDIA's SPDX-2025 Apache-2.0 header through the code search index): Writer.initialize(**kwargs) calls
# self.__init__(**kwargs); WriterRegistry.register stores the writer *class*; register_node_writer stores the
# NodeWriter class for a node writer; get_writers(category=None) returns {name: that class}.
class Writer:
    def initialize(self, **kwargs: Any) -> None: ...
    def attach(self, render_products: str | RenderProduct | Sequence[str | RenderProduct], trigger: Any = ...) -> None: ...
    def detach(self) -> None: ...

class WriterRegistry:
    @staticmethod
    def get(writer_name: str, init_params: dict[str, Any] | None = None, render_products: Any = None) -> Writer: ...
    # Usage: IS:source/extensions/isaacsim.replicator.examples/python/tests/test_scene_based_sdg.py
    # (`writer_type not in rep.WriterRegistry.get_writers()`), IS:source/extensions/isaacsim.hsb.nodes/python/extension.py
    # and IS@5.1:source/extensions/isaacsim.sensors.rtx/python/impl/extension.py (get_writers(category=...)).
    @staticmethod
    def get_writers(category: str | None = None) -> dict[str, type]: ...
