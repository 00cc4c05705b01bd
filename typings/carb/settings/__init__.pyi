# TY:typings/carb/settings/__init__.pyi (get_settings() -> ISettings) and TY:typings/carb/settings/_settings.pyi
# (ISettings.get(self, path: str) -> typing.Any); usage IS@5.1+6.0:source/extensions/isaacsim.replicator.synthetic_recorder/
# isaacsim/replicator/synthetic_recorder/synthetic_recorder.py (carb.settings.get_settings().get("/omni/replicator/captureOnPlay")).
from typing import Any

class ISettings:
    def get(self, path: str) -> Any: ...

def get_settings() -> ISettings: ...
