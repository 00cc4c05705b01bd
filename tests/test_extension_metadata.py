"""extension.toml holds what Kit needs, points at files that exist, and depends on exactly what the code imports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from kit_contract import kit_name_uses

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
TOML = ROOT / "extension.toml"
#: Modules an extension of another name ships (omni.kit.undo is part of the omni.kit.commands extension:
#: https://docs.omniverse.nvidia.com/kit/docs/omni.kit.commands/latest/API.html).
SHIPPED_BY = {"omni.kit.undo": "omni.kit.commands"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return tomllib.loads(TOML.read_text())


def test_config_copy_is_identical():
    # Kit's tools look for config/extension.toml; the top-level file is the one we edit.
    assert (ROOT / "config" / "extension.toml").read_bytes() == TOML.read_bytes()


def test_package_section(manifest: dict):
    package = manifest["package"]
    assert package["title"] == "SDG Studio" and package["category"] == "SyntheticData"
    for key in ("readme", "changelog", "icon", "preview_image"):
        assert (ROOT / package[key]).is_file(), f"[package].{key} = {package[key]} does not exist"
    import omni.sdg_studio

    assert package["version"] == omni.sdg_studio.__version__


def test_python_modules_exist_and_kit_layer_has_the_iext(manifest: dict):
    names = [m["name"] for m in manifest["python"]["module"]]
    assert names[0] == "omni.sdg_studio"
    for name in names:
        assert (ROOT.joinpath(*name.split(".")) / "__init__.py").is_file()
    assert not (ROOT / "omni" / "__init__.py").exists(), "omni must stay an implicit namespace package"
    kit_init = (ROOT / "omni" / "sdg_studio" / "kit" / "__init__.py").read_text()
    assert "SdgStudioExtension" in kit_init


def test_dependencies_match_the_extensions_imported(manifest: dict):
    declared = set(manifest["dependencies"])
    kit_files = [p for p in (ROOT / "omni" / "sdg_studio").rglob("*.py") if "tests" not in p.parts]
    imported = {use.module for path in kit_files for use in kit_name_uses(path) if not use.name or use.module}
    # Map each imported module to the extension that provides it (longest declared prefix).
    needed = set()
    for module in imported:
        if module.startswith("carb") or module in ("omni", "omni.ext", "omni.kit", "omni.kit.app"):
            continue  # provided by the Kit core, not an extension dependency
        module = SHIPPED_BY.get(module, module)
        providers = [dep for dep in declared if module == dep or module.startswith(dep + ".")]
        assert providers, f"{module} is imported but no extension providing it is in [dependencies]"
        needed.add(max(providers, key=len))
    unused = declared - needed
    assert not unused, f"declared but never imported: {sorted(unused)}"


def test_settings_live_under_the_extension_namespace(manifest: dict):
    assert set(manifest["settings"]["exts"]) == {"omni.sdg_studio"}


def test_test_section_uses_isaac_sim_sdg_args(manifest: dict):
    args = [arg for test in manifest["test"] for arg in test.get("args", [])]
    for required in (
        "--/app/asyncRendering=0",
        "--/omni/replicator/asyncRendering=0",
        "--/rtx/hydra/enableSemanticSchema=1",
    ):
        assert required in args
