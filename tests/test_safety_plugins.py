"""Plugins only by choice: a config naming ``module:Class`` imports nothing; ``--plugin MODULE`` (or
``WRITERS.load_plugin``) is the explicit choice; a class that is not a writer is one line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from safety_recordings import SCENE

from omni.sdg_studio.core.writers.registry import WRITERS, UnknownWriterError, WriterClassError, WriterRegistry

EVIL = """
import pathlib
pathlib.Path("IMPORTED").write_text("evil.py ran")
from omni.sdg_studio.core.writers.basic_writer import BasicWriter

class Writer(BasicWriter):
    name = "EvilWriter"

class NotAWriter:
    def __init__(self, output_dir):
        pass
"""


@dataclass
class Done:
    returncode: int
    stderr: str


@pytest.fixture
def evil_folder(tmp_path: Path, monkeypatch) -> Iterator[Path]:
    """A folder holding evil.py and a config naming it; the current folder, and on sys.path (as with
    ``python -c``, the case the issue found)."""
    (tmp_path / "evil.py").write_text(EVIL)
    config = {"writer_name": "evil:Writer", "rp_data": [["/World/Cameras/TopCam", 8, 6]]}
    config["sdg_studio"] = {"writer_params": {"rgb": True}}
    (tmp_path / "evil.json").write_text(json.dumps(config))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "evil", raising=False)
    yield tmp_path
    sys.modules.pop("evil", None)
    WRITERS.unregister("evil:Writer")
    WRITERS.unregister("evil:NotAWriter")


@pytest.fixture
def sdg(capsys):
    """``sdg-studio`` in this process; returns its exit code and stderr."""
    from omni.sdg_studio.cli import main

    def invoke(*args: str) -> Done:
        code = main(list(args))
        return Done(code, capsys.readouterr().err)

    return invoke


def test_a_config_cannot_import_code_and_says_how_to_allow_it(sdg, evil_folder: Path):
    done = sdg("record", str(SCENE), "--config", "evil.json", "--frames", "1", "--out", "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert not (evil_folder / "IMPORTED").exists() and not (evil_folder / "out").exists()
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert "a config never imports code by itself" in line and "--plugin evil" in line


def test_plugin_option_is_the_explicit_choice(sdg, evil_folder: Path):
    args = ("record", str(SCENE), "--config", "evil.json", "--frames", "1", "--out", "out", "--plugin", "evil")
    done = sdg(*args)
    assert done.returncode == 0, done.stderr
    assert (evil_folder / "IMPORTED").exists() and (evil_folder / "out" / "rgb_0000.png").is_file()


def test_a_class_that_is_not_a_writer_is_one_line(sdg, evil_folder: Path):
    config = json.loads((evil_folder / "evil.json").read_text())
    config["writer_name"] = "evil:NotAWriter"
    (evil_folder / "evil.json").write_text(json.dumps(config))
    args = ("record", str(SCENE), "--config", "evil.json", "--frames", "1", "--out", "out", "--plugin", "evil")
    done = sdg(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert "'evil:NotAWriter' lacks annotators, write, finish" in line


def test_the_python_api_loads_plugins_explicitly(evil_folder: Path):
    registry = WriterRegistry()
    with pytest.raises(UnknownWriterError, match="load_plugin"):
        registry.get("evil:Writer")
    assert "evil" not in sys.modules
    registry.load_plugin("evil")
    assert registry.get("evil:Writer").cls.__name__ == "Writer"
    with pytest.raises(WriterClassError):
        registry.get("evil:NotAWriter")
    with pytest.raises(UnknownWriterError, match="expected a module name"):
        registry.load_plugin("../evil")
