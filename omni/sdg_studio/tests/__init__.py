"""omni.kit.test tests: they run inside Kit (``omni.kit.test`` discovers this module), not in the pytest suite."""

scan_for_test_modules = True
