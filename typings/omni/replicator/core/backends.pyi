# rep.backends: IS:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder.py
# (backend = rep.backends.get(self.backend_type); backend.initialize(**self.backend_params), Disk: {"output_dir": ...},
# S3: {"key_prefix", "bucket", "region", "endpoint_url"}); IS:source/extensions/isaacsim.replicator.examples/python/tests/test_sdg_deformables.py
# (rep.backends.get("DiskBackend")). On 5.1 the recorder gives writers output_dir= instead, but rep.backends exists
# there too: IS@5.1:source/extensions/isaacsim.replicator.examples/python/tests/test_sdg_cosmos_writer.py
# (backend = rep.backends.get("DiskBackend"); backend.initialize(output_dir=...); writer.initialize(backend=backend, ...)).
from typing import Any

class BaseBackend:
    def initialize(self, **kwargs: Any) -> None: ...

def get(name: str) -> BaseBackend: ...
