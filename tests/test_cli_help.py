"""The command line as one vocabulary: same names and short flags for the same things, clean help."""

from __future__ import annotations

import re

import pytest
import typer
from typer.core import TyperCommand

from omni.sdg_studio.cli import app, main
from omni.sdg_studio.commands.options import HIDDEN_ALIASES

COMMANDS = ["render", "preview", "record", "view", "label", "labels", "upgrade-semantics", "info", "demo"]
#: Concept (parameter name) -> the option strings every command that has it uses.
VOCABULARY = {
    "camera": ["--camera", "-c"],
    "resolution": ["--resolution", "-r"],
    "taxonomy": ["--taxonomy", "-t"],
    "classes": ["--classes"],
    "annotators": ["--annotators", "-a"],
    "out": ["--out", "-o"],
    "overwrite": ["--overwrite"],
    "as_json": ["--json"],
}
#: Commands that draw label colors take --classes.
DRAWS_COLORS = ["render", "preview", "record", "view"]


def commands() -> dict[str, TyperCommand]:
    group = typer.main.get_command(app)
    return {name: group.get_command(None, name) for name in COMMANDS}  # type: ignore[arg-type, attr-defined]


def options_of(command) -> dict[str, list[str]]:
    return {p.name: list(p.opts) for p in command.params if p.param_type_name == "option"}


def test_same_concept_same_option_everywhere():
    used_short: dict[str, set[str]] = {}
    for name, command in commands().items():
        for param, opts in options_of(command).items():
            if param in VOCABULARY:
                assert opts == VOCABULARY[param], f"{name}: {param} is {opts}"
            for short in (o for o in opts if not o.startswith("--")):
                used_short.setdefault(short, set()).add(param)
    # A short flag means one thing in every command.
    assert all(len(params) == 1 for params in used_short.values()), used_short
    for name in DRAWS_COLORS:
        assert "classes" in options_of(commands()[name]), name
    for name in ("render", "preview", "record"):
        assert {"camera", "resolution", "annotators", "out"} <= set(options_of(commands()[name])), name


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_no_type_noise(name, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    assert main([name, "--help"]) == 0
    text = capsys.readouterr().out
    assert not re.search(r"<(bool|str|int|float|path|list\[str\])>", text), text
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage and re.search(rf"sdg-studio {name} \[OPTIONS\]( [A-Z]+)?$", usage.strip()), usage
    for old in HIDDEN_ALIASES.get(name, {}):
        assert old not in text  # hidden aliases stay out of help


def test_root_help_has_no_type_noise(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "--version" in text and "<bool>" not in text


def test_render_help_tells_the_default_annotators(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    main(["render", "--help"])
    text = capsys.readouterr().out
    assert "every annotator" not in text and "[default: rgb,semantic_segmentation]" in text


def test_old_taxonomy_spelling_still_works_with_a_warning(sample_scene, tmp_path, capsys):
    out = tmp_path / "r"
    args = ["render", str(sample_scene), "-c", "/World/Cameras/TopCam", "-r", "32x24", "-o", str(out)]
    assert main([*args, "--semantic-types", "class"]) == 0
    assert "warning: --semantic-types is now --taxonomy" in capsys.readouterr().err
    assert main([*args, "--semantic-types=class", "--overwrite"]) == 0
    assert (out / "semantic_segmentation.png").exists()


def test_errors_name_the_flag_that_fixes_them(sample_scene, tmp_path, capsys):
    stage = str(sample_scene)
    cases = [
        (["render", stage, "-o", str(tmp_path / "a")], "--camera: the stage has 3 cameras"),
        (["render", stage, "-c", "/World/Cameras/TopCam", "-r", "10by10", "-o", str(tmp_path / "b")], "--resolution"),
        (
            ["preview", stage, "-c", "/World/Cameras/TopCam", "-a", "nope", "-o", str(tmp_path / "c.png")],
            "--annotators",
        ),
        (["view", str(tmp_path), "--classes", str(tmp_path / "none.yaml")], "--classes"),
        (["record", stage, "-r", "0x5", "-o", str(tmp_path / "d")], "--resolution"),
        (["record", stage, "--writer", "Nope", "-o", str(tmp_path / "e")], "--writer Nope: unknown writer"),
    ]
    for args, flag in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and flag in err and "Traceback" not in err, (args, err)


def test_view_errors_name_camera_and_frame(sample_scene, tmp_path, capsys):
    rec = tmp_path / "rec"
    args = ["record", str(sample_scene), "-c", "/World/Cameras/TopCam:8x8:top", "-n", "1", "-a", "rgb", "-o", str(rec)]
    assert main(args) == 0
    capsys.readouterr()
    for option, value in (("--camera", "nope"), ("--frame", "7")):
        assert main(["view", str(rec), option, value, "-o", str(tmp_path / "v.png")]) == 2
        assert capsys.readouterr().err.startswith(f"error: {option}: ")
