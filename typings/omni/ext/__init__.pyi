# IS@5.1+6.0:source/extensions/isaacsim.replicator.synthetic_recorder/isaacsim/replicator/synthetic_recorder/synthetic_recorder_extension.py
# (class X(omni.ext.IExt, MenuHelperExtensionFull) with on_startup(ext_id) / on_shutdown()).
# https://docs.omniverse.nvidia.com/kit/docs/kit-manual/latest/guide/extensions_advanced.html (IExt lifecycle)

class IExt:
    def on_startup(self, ext_id: str) -> None: ...
    def on_shutdown(self) -> None: ...
