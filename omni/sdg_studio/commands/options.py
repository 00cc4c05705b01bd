"""The command line's vocabulary: one option name, short flag and metavar per concept, in every command.

| concept | option | used by |
|---|---|---|
| camera | ``--camera/-c`` | render, preview, record, view |
| image size | ``--resolution/-r WxH`` | render, preview, record |
| taxonomy (semantic type) | ``--taxonomy/-t`` | render, preview, view, labels |
| label ids and colors | ``--classes RULES`` | render, preview, record, view |
| scenario | ``--scenario FILE`` | randomize, record |
| annotators | ``--annotators/-a`` | render, preview, record, view |
| output | ``--out/-o`` | every command that writes |
| replace existing output | ``--overwrite`` | render, preview, view, label, upgrade-semantics |
| machine-readable output | ``--json`` | info, labels, label, upgrade-semantics |

Old spellings stay accepted, hidden from help, for one release (:data:`HIDDEN_ALIASES`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from omni.sdg_studio.core.classes import ClassTable
from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.rules_file import load_class_table

#: Old option spellings still accepted for one release, hidden from help: command -> {old: new}.
HIDDEN_ALIASES: dict[str, dict[str, str]] = {
    "render": {"--semantic-types": "--taxonomy"},
    "label": {"--force": "--overwrite"},
    "upgrade-semantics": {"--force": "--overwrite"},
}
CLASSES_HELP = "Rules file whose 'classes' give label ids and colors (default: colors hashed from the label)."


def stage_argument(help: str = "USD stage (.usd, .usda, .usdc, .usdz).") -> Any:
    return typer.Argument(metavar="STAGE", help=help, show_default=False)


def camera_option(help: str, metavar: str = "PATH") -> Any:
    return typer.Option("--camera", "-c", metavar=metavar, help=help)


def resolution_option(help: str) -> Any:
    return typer.Option("--resolution", "-r", metavar="WxH", help=help)


def taxonomy_option(help: str) -> Any:
    return typer.Option("--taxonomy", "-t", metavar="NAME", help=help)


def classes_option(help: str = CLASSES_HELP) -> Any:
    return typer.Option("--classes", metavar="RULES", help=help)


def scenario_option(help: str = "Scenario file (YAML or JSON) varying every frame; see docs/randomization.md.") -> Any:
    return typer.Option("--scenario", metavar="FILE", help=help)


def annotators_option(help: str) -> Any:
    return typer.Option("--annotators", "-a", metavar="NAMES", help=help)


def out_option(help: str, metavar: str = "DIR") -> Any:
    return typer.Option("--out", "-o", metavar=metavar, help=help)


def overwrite_option(help: str) -> Any:
    return typer.Option("--overwrite", help=help)


def json_option(help: str = "Print JSON instead of tables.") -> Any:
    return typer.Option("--json", help=help)


def parse_resolution(text: str) -> tuple[int, int]:
    """``"640x480"`` -> (640, 480), with an error naming ``--resolution``."""
    width, sep, height = text.strip().lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise SdgStudioError(f"--resolution {text!r}: expected WIDTHxHEIGHT, e.g. 640x480")
    if int(width) < 1 or int(height) < 1:
        raise SdgStudioError(f"--resolution {text!r}: width and height must be at least 1")
    return int(width), int(height)


def parse_names(text: str) -> list[str]:
    """Comma-separated names (``"a, b,,c"`` -> ``["a", "b", "c"]``)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def load_classes(path: Path | None) -> ClassTable | None:
    """The class table of ``--classes RULES`` (``None`` without it); errors name the option."""
    if path is None:
        return None
    if not path.is_file():
        raise SdgStudioError(f"--classes {path}: no such file (give the rules file whose 'classes' to use)")
    return load_class_table(path)
