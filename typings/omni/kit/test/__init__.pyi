# https://docs.omniverse.nvidia.com/kit/docs/kit-sdk/latest/source/extensions/omni.kit.test/docs/index.html and
# IS@5.1+6.0:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/tests/
# (class T(omni.kit.test.AsyncTestCase) with `async def setUp/tearDown/test_*`: setUp and tearDown are coroutines).
import unittest

class AsyncTestCase(unittest.TestCase):
    async def setUp(self) -> None: ...  # type: ignore[override]
    async def tearDown(self) -> None: ...  # type: ignore[override]
