"""The Kit layer calls only names the hand-written stubs define; the host-neutral core never imports Kit."""

from __future__ import annotations

import shutil
from pathlib import Path

from kit_contract import is_kit_module, kit_name_uses, missing_from_stubs

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "omni" / "sdg_studio"
TYPINGS = ROOT / "typings"
KIT_LAYERS = (PACKAGE / "kit", PACKAGE / "backends" / "replicator", PACKAGE / "tests")


def _python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _all_uses():
    return [use for path in _python_files() for use in kit_name_uses(path)]


def test_every_kit_name_used_is_stubbed():
    uses = _all_uses()
    assert uses, "the Kit layer should use Kit names"
    missing = missing_from_stubs(uses, TYPINGS)
    assert not missing, "names missing from typings/:\n" + "\n".join(map(str, missing))


def test_only_the_kit_layer_imports_kit():
    offenders = [
        str(use)
        for path in _python_files()
        if not any(path.is_relative_to(layer) for layer in KIT_LAYERS)
        for use in kit_name_uses(path)
    ]
    assert not offenders, "host-neutral modules import Kit:\n" + "\n".join(offenders)


def test_removing_a_stub_entry_is_caught(tmp_path: Path):
    typings = tmp_path / "typings"
    shutil.copytree(TYPINGS, typings)
    uses = _all_uses()
    menu_stub = typings / "omni" / "kit" / "menu" / "utils" / "__init__.pyi"
    text = menu_stub.read_text()
    menu_stub.write_text(text.replace("def add_menu_items(", "def _gone_add_menu_items("))
    assert any(u.name == "add_menu_items" for u in missing_from_stubs(uses, typings))
    (typings / "omni" / "kit" / "actions" / "core" / "__init__.pyi").unlink()
    missing = {u.module + "." + u.name for u in missing_from_stubs(uses, typings)}
    assert "omni.kit.actions.core.get_action_registry" in missing or "omni.kit.actions.core." in missing


def test_checker_sees_attribute_uses_through_aliases(tmp_path: Path):
    source = (
        "import omni.ui as ui\nimport carb\nfrom omni.kit.app import get_app\nui.NoSuchWidget()\ncarb.log_warn('x')\n"
    )
    uses = kit_name_uses(tmp_path / "m.py", source)
    names = {(u.module, u.name) for u in uses}
    assert ("omni.ui", "NoSuchWidget") in names and ("carb", "log_warn") in names
    assert ("omni.kit.app", "get_app") in names
    missing = {(u.module, u.name) for u in missing_from_stubs(uses, TYPINGS)}
    assert missing == {("omni.ui", "NoSuchWidget")}


def test_own_package_is_not_kit():
    assert not is_kit_module("omni.sdg_studio.core")
    assert is_kit_module("omni.ui") and is_kit_module("carb.settings")
