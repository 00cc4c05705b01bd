"""torch is optional: only ``omni.sdg_studio.torch`` imports it, and everything else imports without it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "omni" / "sdg_studio"
OPTIONAL = {"torch", "torchvision", "webdataset"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_the_torch_package_imports_torch():
    offenders = [
        f"{path.relative_to(PACKAGE)}: {sorted(imported_roots(path) & OPTIONAL)}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.is_relative_to(PACKAGE / "torch") and imported_roots(path) & OPTIONAL
    ]
    assert not offenders, "modules outside omni/sdg_studio/torch import optional packages:\n" + "\n".join(offenders)
    assert "torch" in imported_roots(PACKAGE / "torch" / "stream.py")


BLOCKED_IMPORT = """
import importlib, pkgutil, sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "torchvision", "webdataset"}:
            raise ImportError(f"{name} is blocked")

sys.meta_path.insert(0, Blocker())
import omni.sdg_studio as package
skipped = tuple("omni.sdg_studio." + name for name in ("torch", "kit", "backends.replicator", "tests"))
count = 0
for info in pkgutil.walk_packages(package.__path__, "omni.sdg_studio."):
    if not info.name.startswith(skipped):
        importlib.import_module(info.name)
        count += 1
try:
    import omni.sdg_studio.torch
except ImportError as exc:
    print("torch package refused:", exc)
print("imported", count)
"""


def test_the_package_imports_without_torch():
    result = subprocess.run([sys.executable, "-c", BLOCKED_IMPORT], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "torch package refused: torch is blocked" in result.stdout
    assert int(result.stdout.split("imported")[-1]) > 50
