# carb.tokens: TY:typings/carb/tokens/__init__.pyi (get_tokens_interface() -> ITokens) and
# TY:typings/carb/tokens/_tokens.pyi (ITokens.resolve(self, str: str, flags: int = 0) -> str).
# ${data} = "system folder to store persistent data (Kit Application specific)":
# https://docs.omniverse.nvidia.com/kit/docs/kit-manual/latest/guide/tokens.html; resolved the same way in
# IS@5.1:source/standalone_examples/replicator/online_generation/shapenet_utils.py
# (carb.tokens.get_tokens_interface().resolve("${data}")) and IS@5.1:source/extensions/isaacsim.app.selector/
# isaacsim/app/selector/selector_window.py (resolve("${app}/../")); on 6.0.1 IS:source/extensions/isaacsim.app.about/
# isaacsim/app/about/extension.py (resolve("${fonts}/...")).

class ITokens:
    def resolve(self, str: str, flags: int = 0) -> str: ...

def get_tokens_interface() -> ITokens: ...
