"""The Kit layer calls only names the hand-written stubs define; the host-neutral core never imports Kit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from kit_contract import (
    ISAAC_SIM_SDG_TITLES,
    is_kit_module,
    kit_name_uses,
    missing_from_stubs,
    string_constants,
    title_clashes,
)

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
        "import omni.ui as ui\nimport carb.settings\nfrom omni.kit.app import get_app\nui.NoSuchWidget()\n"
        "carb.settings.get_settings()\n"
    )
    uses = kit_name_uses(tmp_path / "m.py", source)
    names = {(u.module, u.name) for u in uses}
    assert ("omni.ui", "NoSuchWidget") in names and ("carb.settings", "get_settings") in names
    assert ("omni.kit.app", "get_app") in names
    missing = {(u.module, u.name) for u in missing_from_stubs(uses, TYPINGS)}
    assert missing == {("omni.ui", "NoSuchWidget")}


def test_own_package_is_not_kit():
    assert not is_kit_module("omni.sdg_studio.core")
    assert is_kit_module("omni.ui") and is_kit_module("carb.settings")


# -- the stubs are strict enough to catch what the source forbids ---------------------------------------------------

PROBE = """\
import omni.kit.ui_test as ui_test
import omni.ui as ui
import omni.usd

ui.Label("pattern", width=ui.Fraction(1))
ui.Label("pattern", width=120)
ui.Label("pattern", width=None)  # REJECT: omni.ui Length has no None form
ui.StringField(width=None)  # REJECT
selection = omni.usd.get_context().get_selection()
selection.set_selected_prim_paths(["/A"], expandInStage=False)
selection.set_selected_prim_paths(["/A"], expand_in_stage=False)  # REJECT: the keyword is expandInStage
ui_test.find("W//Frame/**/Button[*]")
ui_test.find("W//Frame/**/Button[*]", window=None)  # REJECT: find takes the query only
"""


def pyright_errors(folder: Path, files: list[str]) -> dict[str, set[int]]:
    """Run pyright with the project's stubs on ``files`` in ``folder``; 1-based error lines per file name."""
    pyright = shutil.which("pyright")
    if pyright is None:
        pytest.skip("pyright is not installed (pip install -e '.[test]')")
    config = {
        "include": files,
        "stubPath": str(TYPINGS),
        "extraPaths": [str(ROOT)],
        "typeCheckingMode": "standard",
        "pythonVersion": "3.10",
        "reportMissingModuleSource": False,
    }
    (folder / "pyrightconfig.json").write_text(json.dumps(config))
    run = subprocess.run(
        [pyright, "--outputjson", "-p", str(folder / "pyrightconfig.json"), "--pythonpath", sys.executable],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stdout)
    errors: dict[str, set[int]] = {name: set() for name in files}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            errors[Path(diagnostic["file"]).name].add(diagnostic["range"]["start"]["line"] + 1)
    return errors


def test_the_stubs_reject_none_widths_and_keywords_the_source_lacks(tmp_path: Path):
    """pyright against typings/ flags exactly the probe lines marked REJECT (R2 and the signature findings);
    the equivalent correct calls next to them pass."""
    (tmp_path / "probe.py").write_text(PROBE)
    window = (PACKAGE / "kit" / "semantic_editor_window.py").read_text()
    fixed = "return COLUMN_WIDTHS.get(column) or ui.Fraction(1)"
    assert fixed in window
    # The bug this guards against: R2's `COLUMN_WIDTHS[...] or None` passed to ui.Label / ui.StringField.
    (tmp_path / "window_with_none.py").write_text(window.replace(fixed, "return COLUMN_WIDTHS.get(column) or None"))
    (tmp_path / "window.py").write_text(window)
    errors = pyright_errors(tmp_path, ["probe.py", "window_with_none.py", "window.py"])
    marked = {number for number, line in enumerate(PROBE.splitlines(), 1) if "# REJECT" in line}
    assert errors["probe.py"] == marked
    assert errors["window.py"] == set(), "the Kit window itself must type-check against the stubs"
    returns_none = next(n for n, line in enumerate(window.splitlines(), 1) if fixed in line)
    assert errors["window_with_none.py"] == {returns_none}


# -- window titles ------------------------------------------------------------------------------------------------


def our_titles() -> dict[str, str]:
    names = string_constants(PACKAGE / "kit" / "names.py")
    return {name: value for name, value in names.items() if name.endswith(("_TITLE", "_MENU"))}


def test_our_titles_are_distinct_prefixed_and_none_is_isaac_sims():
    titles = our_titles()
    assert len(titles) >= 4, titles
    assert all(t.startswith("SDG Studio ") for n, t in titles.items() if n.endswith("_TITLE")), titles
    assert title_clashes(titles, ISAAC_SIM_SDG_TITLES) == []


def test_the_title_check_fails_on_a_clash():
    ours = {"A_TITLE": "SDG Studio X", "B_TITLE": "SDG Studio X", "C_TITLE": "Synthetic Data Recorder"}
    clashes = title_clashes(ours, ISAAC_SIM_SDG_TITLES)
    assert clashes == [
        "B_TITLE and A_TITLE are both 'SDG Studio X'",
        "C_TITLE = 'Synthetic Data Recorder' is Isaac Sim's title "
        "(isaacsim.replicator.synthetic_recorder synthetic_recorder_extension.py (5.1.0, 6.0.1))",
    ]
