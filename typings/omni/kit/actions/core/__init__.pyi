# TY:typings/omni/kit/actions/core/actions.pyi (get_action_registry) and
# TY:typings/omni/kit/actions/core/_kit_actions_core.pyi (IActionRegistry.register_action / deregister_action);
# usage: IS@5.1+6.0:source/extensions/isaacsim.asset.gen.conveyor.ui/isaacsim/asset/gen/conveyor/ui/impl/extension.py.
from typing import Any

class Action: ...

class IActionRegistry:
    def register_action(
        self,
        extension_id: str,
        action_id: str,
        python_object: Any,
        display_name: str = "",
        description: str = "",
        icon_url: str = "",
        tag: str = "",
    ) -> Action: ...
    def deregister_action(self, extension_id: str, action_id: str, invalidate: bool = True) -> Action | None: ...

def get_action_registry() -> IActionRegistry: ...
