-- Python-only extension. project_ext() sets the extension up in the build, its config/ folder (extension.toml,
-- rules and recorder presets) included; link the other folders Kit needs, as Isaac Sim's Python extensions do
-- (isaac-sim/IsaacSim source/extensions/isaacsim.replicator.synthetic_recorder/premake5.lua, 5.1.0 and 6.0.1).
local ext = get_current_extension_info()
project_ext(ext)

repo_build.prebuild_link {
    { "data", ext.target_dir .. "/data" },
    { "docs", ext.target_dir .. "/docs" },
    { "omni", ext.target_dir .. "/omni" },
}
