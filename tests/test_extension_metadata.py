"""extension.toml holds what Kit needs, points at files that exist, and depends on exactly what the code imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
from kit_contract import OWN_PACKAGE, kit_name_uses

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
TOML = ROOT / "extension.toml"
#: Modules an extension of another name ships (omni.kit.undo is part of the omni.kit.commands extension:
#: https://docs.omniverse.nvidia.com/kit/docs/omni.kit.commands/latest/API.html).
SHIPPED_BY = {"omni.kit.undo": "omni.kit.commands"}
#: Third-party packages and the extension that puts them on Kit's sys.path (None: Kit itself ships it).
THIRD_PARTY_PROVIDERS = {
    "numpy": "omni.kit.pip_archive",
    "PIL": "omni.kit.pip_archive",
    "yaml": "omni.pip.compute",
    "pxr": None,
}
#: Where Kit starts importing our code: the IExt module and the omni.kit.test tests.
KIT_ENTRY_POINTS = ("omni.sdg_studio.kit", "omni.sdg_studio.tests")


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
    unused = declared - needed - {p for p in THIRD_PARTY_PROVIDERS.values() if p is not None}
    assert not unused, f"declared but never imported: {sorted(unused)}"


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def kit_loaded_modules() -> dict[str, Path]:
    """Our modules Kit imports: everything reachable from the IExt module and the omni.kit.test tests."""
    loaded: dict[str, Path] = {}
    pending = list(KIT_ENTRY_POINTS)
    while pending:
        module = pending.pop()
        path = _module_file(module)
        if module in loaded or path is None:
            continue
        loaded[module] = path
        if path.name == "__init__.py" and module in KIT_ENTRY_POINTS:
            pending.extend(f"{module}.{p.stem}" for p in path.parent.glob("*.py") if p.name != "__init__.py")
        parts = module.split(".")
        pending.extend(".".join(parts[:i]) for i in range(2, len(parts)))  # parent packages run first
        pending.extend(name for name in _imports(path) if name.startswith(OWN_PACKAGE + "."))
    return loaded


def test_kit_never_loads_the_cli_or_the_embedded_renderer():
    loaded = kit_loaded_modules()
    assert "omni.sdg_studio.kit.extension" in loaded and "omni.sdg_studio.core.recorder.model" in loaded
    offenders = [m for m in loaded if m.startswith(("omni.sdg_studio.commands", "omni.sdg_studio.cli"))]
    offenders += [m for m in loaded if m.startswith("omni.sdg_studio.backends.embedded")]
    assert not offenders, offenders


def test_every_third_party_package_kit_loads_has_a_declared_provider(manifest: dict):
    declared = set(manifest["dependencies"])
    needed: dict[str, str] = {}
    for module, path in kit_loaded_modules().items():
        for name in _imports(path):
            root = name.split(".")[0]
            if root in sys.stdlib_module_names or root in ("omni", "carb"):
                continue
            assert root in THIRD_PARTY_PROVIDERS, f"{module} imports {root}: which Kit extension provides it?"
            needed[root] = module
    for package, importer in needed.items():
        provider = THIRD_PARTY_PROVIDERS[package]
        assert provider is None or provider in declared, f"{importer} imports {package}; declare {provider}"
    providers = {p for p in THIRD_PARTY_PROVIDERS.values() if p is not None}
    unused = {p for p in providers & declared if p not in {THIRD_PARTY_PROVIDERS[n] for n in needed}}
    assert not unused, f"declared but nothing Kit loads needs them: {sorted(unused)}"


def test_every_declared_setting_is_read(manifest: dict):
    code = "\n".join(path.read_text() for path in (ROOT / "omni" / "sdg_studio").rglob("*.py"))
    keys = list(_setting_keys(manifest.get("settings", {})))
    unread = [key for key in keys if key not in code]
    assert not unread, f"[settings] keys no code reads: {unread}"


def _setting_keys(table: dict, prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, value in table.items():
        path = f"{prefix}/{name}"
        keys.extend(_setting_keys(value, path) if isinstance(value, dict) else [path])
    return keys


def test_the_menu_bar_extension_is_a_test_dependency(manifest: dict):
    dependencies = {d for test in manifest["test"] for d in test.get("dependencies", [])}
    assert {"omni.kit.mainwindow", "omni.kit.ui_test"} <= dependencies


def test_test_section_uses_isaac_sim_sdg_args(manifest: dict):
    args = [arg for test in manifest["test"] for arg in test.get("args", [])]
    for required in (
        "--/app/asyncRendering=0",
        "--/omni/replicator/asyncRendering=0",
        "--/rtx/hydra/enableSemanticSchema=1",
    ):
        assert required in args
