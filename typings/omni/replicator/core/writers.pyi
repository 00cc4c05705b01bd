# rep.writers: register_writer(cls) IS@5.1+6.0:source/extensions/isaacsim.replicator.examples/python/tests/
# test_sdg_getting_started.py; register_node_writer(name=, node_type_id=, annotators=, category=, **node inputs)
# IS@5.1+6.0:source/extensions/isaacsim.core.nodes/python/scripts/utils.py and IS@5.1:source/extensions/
# isaacsim.sensors.rtx/python/impl/extension.py; unregister_writer(name) IS@5.1:source/extensions/isaacsim.ros2.bridge/
# python/impl/extension.py, IS:source/extensions/isaacsim.hsb.nodes/python/extension.py.
from typing import Any

def register_writer(writer: type, category: str | None = None) -> None: ...
def register_node_writer(
    name: str, node_type_id: str, annotators: list[Any], category: str | None = None, **kwargs: Any
) -> None: ...
def unregister_writer(writer_name: str) -> None: ...
