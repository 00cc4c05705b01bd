"""The package graph's rule, checked by parsing imports: each layer imports nothing above it.

core (host-neutral models, writers, visualizer) < backends (embedded, Replicator) < kit and commands.
Every import counts, including one inside a function (a lazy import is still an upward import).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "omni.sdg_studio"
#: layer -> the packages it must not import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    f"{PACKAGE}.core": (f"{PACKAGE}.backends", f"{PACKAGE}.kit", f"{PACKAGE}.commands", f"{PACKAGE}.cli"),
    f"{PACKAGE}.backends": (f"{PACKAGE}.kit", f"{PACKAGE}.commands", f"{PACKAGE}.cli"),
}


@dataclass(frozen=True)
class UpwardImport:
    """``module`` imported at ``file:line`` although the file's layer must not import it."""

    file: str
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: imports {self.module}"


def module_name(root: Path, path: Path) -> str:
    """``omni/sdg_studio/core/x.py`` under ``root`` -> ``omni.sdg_studio.core.x`` (packages without __init__)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """``(line, module)`` of every import; ``from a import b`` counts as ``a`` and ``a.b`` (b may be a module)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def upward_imports(root: Path) -> list[UpwardImport]:
    """Every import under ``root`` (the folder holding ``omni/``) that breaks :data:`FORBIDDEN`."""
    out: list[UpwardImport] = []
    for path in sorted((root / "omni").rglob("*.py")):
        module = module_name(root, path)
        rules = [banned for layer, banned in FORBIDDEN.items() if _within(module, layer)]
        if not rules:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, imported in imported_modules(tree, module, path.name == "__init__.py"):
            if any(_within(imported, banned) for banned_list in rules for banned in banned_list):
                out.append(UpwardImport(str(path.relative_to(root)), line, imported))
    return sorted(set(out), key=lambda u: (u.file, u.line, u.module))
