-- Python-only extension: link the folders Kit needs into the build's extension folder.
local ext = get_current_extension_info()
project_ext(ext)

repo_build.prebuild_link {
    { "config", ext.target_dir .. "/config" },
    { "data", ext.target_dir .. "/data" },
    { "docs", ext.target_dir .. "/docs" },
    { "omni", ext.target_dir .. "/omni" },
}

repo_build.prebuild_copy {
    { "extension.toml", ext.target_dir .. "/extension.toml" },
}
