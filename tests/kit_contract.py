"""Checks code against the hand-written Kit stubs in ``typings/``: every omni/carb name used must be stubbed."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

OWN_PACKAGE = "omni.sdg_studio"
KIT_ROOTS = ("omni", "carb")


@dataclass(frozen=True)
class KitNameUse:
    """One use of a Kit module or name: ``module.name`` at ``file:line`` (``name`` empty for a bare import)."""

    file: str
    line: int
    module: str
    name: str

    def __str__(self) -> str:
        target = f"{self.module}.{self.name}" if self.name else self.module
        return f"{self.file}:{self.line}: {target}"


def is_kit_module(module: str) -> bool:
    """True for ``omni.*`` / ``carb*`` modules that are not this project's own package."""
    root = module.split(".")[0]
    return root in KIT_ROOTS and not (module == OWN_PACKAGE or module.startswith(OWN_PACKAGE + "."))


def _stub_file(typings: Path, module: str) -> Path | None:
    base = typings.joinpath(*module.split("."))
    for candidate in (base / "__init__.pyi", base.with_suffix(".pyi")):
        if candidate.is_file():
            return candidate
    return None


def stub_names(typings: Path, module: str) -> set[str] | None:
    """Names a stub module defines (top-level defs, classes, assignments, imports, submodules); None if no stub."""
    path = _stub_file(typings, module)
    if path is None:
        return None
    names: set[str] = set()
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    if path.name == "__init__.pyi":
        names.update(p.stem if p.suffix == ".pyi" else p.name for p in path.parent.iterdir() if p.name != path.name)
    return names


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def kit_name_uses(path: Path, source: str | None = None) -> list[KitNameUse]:
    """Every omni/carb module import, imported name and attribute of an imported module in ``path``."""
    text = path.read_text() if source is None else source
    tree = ast.parse(text, str(path))
    aliases: dict[str, str] = {}
    uses: list[KitNameUse] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_kit_module(alias.name):
                    uses.append(KitNameUse(str(path), node.lineno, alias.name, ""))
                    bound = alias.asname or alias.name.split(".")[0]
                    aliases[bound] = alias.name if alias.asname else bound
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and is_kit_module(node.module):
            for alias in node.names:
                uses.append(KitNameUse(str(path), node.lineno, node.module, alias.name))
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            parts = _dotted(node)
            if parts and parts[0] in aliases:
                full = aliases[parts[0]].split(".") + parts[1:]
                uses.append(KitNameUse(str(path), node.lineno, ".".join(full[:-1]), full[-1]))
    return uses


def missing_from_stubs(uses: list[KitNameUse], typings: Path) -> list[KitNameUse]:
    """The uses whose module has no stub or whose name the stub does not define."""
    missing = []
    for use in uses:
        dotted = [*use.module.split("."), *([use.name] if use.name else [])]
        # Resolve the longest stubbed module prefix, then require the next component to be defined in it.
        for cut in range(len(dotted), 0, -1):
            module = ".".join(dotted[:cut])
            names = stub_names(typings, module)
            if names is not None:
                if cut < len(dotted) and dotted[cut] not in names:
                    missing.append(use)
                break
        else:
            missing.append(use)
    return missing


def string_constants(path: Path) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments of a Python file (read without importing it)."""
    constants: dict[str, str] = {}
    for node in ast.parse(path.read_text(), str(path)).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            constants.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return constants


#: Window titles and menu entries of Isaac Sim's SDG tools, listed from isaac-sim/IsaacSim at v5.1.0 and v6.0.1
#: (``git grep "WINDOW_NAME =\|ui.Window(" -- source/extensions/isaacsim.replicator*`` and the Replicator and
#: "Action and Event Data Generation" submenus of ``isaacsim.gui.menu/isaacsim/gui/menu/tools_menu.py``, whose
#: ``MenuLayout.Item(name)`` entries are matched by name anywhere in the Tools menu). Value: where it is defined.
ISAAC_SIM_SDG_TITLES: dict[str, str] = {
    "Synthetic Data Recorder": "isaacsim.replicator.synthetic_recorder synthetic_recorder_extension.py (5.1.0, 6.0.1)",
    "Semantics Schema Editor": "semantics.schema.editor, named in isaacsim.app.setup layouts/sdg.json (5.1.0, 6.0.1)",
    "Replicator YAML": "isaacsim.gui.menu tools_menu.py, Tools > Replicator (5.1.0, 6.0.1)",
    "Grasping": "isaacsim.replicator.grasping.ui grasping_ui_extension.py (5.1.0, 6.0.1)",
    "Teleop": "isaacsim.replicator.teleop.ui teleop_ui_extension.py (6.0.1)",
    "Episode Recorder": "isaacsim.replicator.episode_recorder.ui episode_recorder_extension.py (6.0.1)",
    "MobilityGen": "isaacsim.replicator.mobility_gen.ui extension.py (5.1.0, 6.0.1)",
    "MobilityGen - Occupancy Map": "isaacsim.replicator.mobility_gen.ui extension.py (5.1.0, 6.0.1)",
    "Preview": "isaacsim.gui.menu tools_menu.py, Replicator orchestrator entries (5.1.0, 6.0.1)",
    "Start": "isaacsim.gui.menu tools_menu.py, Replicator orchestrator entries (5.1.0, 6.0.1)",
    "Step": "isaacsim.gui.menu tools_menu.py, Replicator orchestrator entries (5.1.0, 6.0.1)",
    "Pause": "isaacsim.gui.menu tools_menu.py, Replicator orchestrator entries (5.1.0, 6.0.1)",
    "Resume": "isaacsim.gui.menu tools_menu.py, Replicator orchestrator entries (5.1.0, 6.0.1)",
    "Stop": "isaacsim.gui.menu tools_menu.py, Replicator orchestrator entries (5.1.0, 6.0.1)",
    "Actor SDG": "isaacsim.gui.menu tools_menu.py, Action and Event Data Generation (5.1.0, 6.0.1)",
    "Command Injection": "isaacsim.gui.menu tools_menu.py, Action and Event Data Generation (5.1.0, 6.0.1)",
    "Command Setting": "isaacsim.gui.menu tools_menu.py, Action and Event Data Generation (5.1.0, 6.0.1)",
    "Object SDG": "isaacsim.gui.menu tools_menu.py, Action and Event Data Generation (5.1.0, 6.0.1)",
    "Distribution Visualizer": "isaacsim.gui.menu tools_menu.py, Action and Event Data Generation (5.1.0, 6.0.1)",
    "VLM Scene Captioning": "isaacsim.gui.menu tools_menu.py, Action and Event Data Generation (5.1.0, 6.0.1)",
    "Event Scene Tagger": "isaacsim.gui.menu tools_menu.py, Action and Event Data Generation (5.1.0, 6.0.1)",
    "Event Config File": "isaacsim.gui.menu tools_menu.py, Action and Event Data Generation (5.1.0, 6.0.1)",
}


def title_clashes(ours: dict[str, str], theirs: dict[str, str]) -> list[str]:
    """Every pair of equal titles among ours, and every title of ours that equals one of theirs."""
    clashes = []
    seen: dict[str, str] = {}
    for name, title in ours.items():
        if title in seen:
            clashes.append(f"{name} and {seen[title]} are both {title!r}")
        seen.setdefault(title, name)
        if title in theirs:
            clashes.append(f"{name} = {title!r} is Isaac Sim's title ({theirs[title]})")
    return clashes
