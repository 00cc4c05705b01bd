# omni.kit.commands: https://docs.omniverse.nvidia.com/kit/docs/omni.kit.commands/latest/API.html (class Command with
# do() / undo(); register(command_class); unregister(command_class: Type[Command]) from
# https://docs.omniverse.nvidia.com/kit/docs/omni.kit.commands/latest/omni.kit.commands/omni.kit.commands.unregister.html).
# execute(name, **kwargs) -> (success, result): IS:source/extensions/isaacsim.robot.surface_gripper/python/tests/test_commands.py
# (`success, gripper_prim = omni.kit.commands.execute("CreateSurfaceGripper", prim_path=...)`), IS@5.1:source/extensions/
# isaacsim.asset.gen.conveyor/python/tests/test_conveyor.py (`_, og_prim = omni.kit.commands.execute(...)`). Kit keeps the
# command *instance* on its undo stack and calls undo() / do() on it for Ctrl+Z / redo (same docs page); the
# builtin ChangeSettingCommand(path, value, prev=None) the tests use as "another tool's command":
# https://docs.omniverse.nvidia.com/kit/docs/omni.kit.commands/latest/omni.kit.commands.builtin/omni.kit.commands.builtin.ChangeSettingCommand.html. A class named
# "<Name>Command" is executed as "<Name>" (docs example: register(MyOrangeCommand); execute("MyOrange", ...)).
from typing import Any

class Command:
    def do(self) -> Any: ...
    def undo(self) -> Any: ...

def register(command_class: type[Command]) -> None: ...
def unregister(command_class: type[Command]) -> None: ...
def execute(command_name: str, **kwargs: Any) -> tuple[bool, Any]: ...
