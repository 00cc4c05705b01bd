"""``label`` never loses or corrupts a user's files: atomic saves (full disk), refused outputs, SIGKILL,
one-line errors for .usdz in place, unwritable folders, missing --select paths."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pxr import Sdf

from omni.sdg_studio.cli import main
from omni.sdg_studio.core import atomic
from omni.sdg_studio.core.atomic import TEMP_PREFIX

RULES = (Path(__file__).parent / "data" / "semantics" / "label_every_gprim.yaml").read_text()
MORE = "version: 1\nrules:\n  - {id: boxes, match: '*Box*', labels: {kind: box}}\n"


def write_rules(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def full_disk(monkeypatch, after: int = 0) -> None:
    """Every fsync of the write path fails with ENOSPC (after ``after`` successful ones)."""
    calls = {"n": 0}
    real = os.fsync

    def failing(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] > after:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", failing)


def test_in_place_on_a_full_disk_leaves_the_stage_byte_identical(scene, tmp_path, monkeypatch, capsys):
    rules = write_rules(tmp_path, RULES)
    before = snapshot(scene.parent)
    full_disk(monkeypatch)
    assert main(["label", str(scene), "--rules", str(rules), "--in-place"]) == 2
    line = one_line_error(capsys)
    assert str(scene) in line and "the disk is full" in line
    assert snapshot(scene.parent) == before  # the stage whole, and no temporary file left
    assert Sdf.Layer.OpenAsAnonymous(str(scene)) is not None


def test_resaving_a_labels_layer_on_a_full_disk_keeps_the_old_one(scene, tmp_path, monkeypatch, capsys):
    assert main(["label", str(scene), "--rules", str(write_rules(tmp_path, RULES))]) == 0
    capsys.readouterr()
    before = snapshot(scene.parent)
    full_disk(monkeypatch)
    assert main(["label", str(scene), "--rules", str(write_rules(tmp_path, MORE, "more.yaml"))]) == 2
    line = one_line_error(capsys)
    assert "warehouse_labels.usda" in line and "the disk is full" in line
    assert snapshot(scene.parent) == before
    assert "thing" in Sdf.Layer.OpenAsAnonymous(str(scene.with_name("warehouse_labels.usda"))).ExportToString()


def test_a_failure_after_the_labels_layer_leaves_every_file_whole(scene, tmp_path, monkeypatch, capsys):
    """The labels layer is saved, then the root fails: both files are each old or new, never partial."""
    rules = write_rules(tmp_path, RULES)
    full_disk(monkeypatch, after=1)
    assert main(["label", str(scene), "--rules", str(rules)]) == 2
    one_line_error(capsys)
    assert not any(p.name.startswith(TEMP_PREFIX) for p in scene.parent.iterdir())
    labels = scene.with_name("warehouse_labels.usda")
    assert labels.exists() and Sdf.Layer.OpenAsAnonymous(str(labels)) is not None
    assert not scene.with_name("warehouse_labeled.usda").exists()


@pytest.mark.parametrize("option", ["-o", "--layer"])
def test_outputs_that_are_the_stage_or_its_layers_are_refused_even_with_force(tmp_path, option, capsys):
    folder = tmp_path / "scene"
    shutil.copytree(Path(__file__).parent / "data" / "semantics", folder)
    scene = folder / "referencing_scene.usda"
    rules = write_rules(tmp_path, RULES)
    before = {p: p.read_bytes() for p in folder.rglob("*.usda")}
    for target, why in ((scene, "is the stage itself"), (folder / "assets" / "Pallet" / "pallet.usda", "own layers")):
        assert main(["label", str(scene), "--rules", str(rules), option, str(target), "--overwrite"]) == 2
        assert why in one_line_error(capsys)
    assert {p: p.read_bytes() for p in folder.rglob("*.usda")} == before


def test_in_place_on_a_usdz_is_one_line(tmp_path, capsys):
    package = tmp_path / "scene.usdz"
    package.write_bytes(b"PK\x03\x04")
    assert main(["label", str(package), "--rules", str(write_rules(tmp_path, RULES)), "--in-place"]) == 2
    assert ".usdz package cannot be written in place" in one_line_error(capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_output_folder_is_one_line(scene, tmp_path, capsys):
    out = tmp_path / "locked"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert (
            main(["label", str(scene), "--rules", str(write_rules(tmp_path, RULES)), "--layer", str(out / "l.usda")])
            == 2
        )
        assert "permission denied" in one_line_error(capsys)
    finally:
        out.chmod(0o700)


def test_a_permission_error_while_saving_is_one_line(scene, tmp_path, monkeypatch, capsys):
    def refused(src: str, dst: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", dst)

    before = snapshot(scene.parent)
    monkeypatch.setattr(atomic.os, "replace", refused)
    assert main(["label", str(scene), "--rules", str(write_rules(tmp_path, RULES))]) == 2
    line = one_line_error(capsys)
    assert "warehouse_labels.usda" in line and "permission denied" in line
    assert snapshot(scene.parent) == before


def test_an_output_path_under_a_file_is_one_line(scene, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    rules = write_rules(tmp_path, RULES)
    assert main(["label", str(scene), "--rules", str(rules), "--layer", str(blocker / "x_labels.usda")]) == 2
    line = one_line_error(capsys)
    assert "x_labels.usda" in line


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("/World/NoSuchPrim", "--select /World/NoSuchPrim: no prim at this path"), ("World", "not an absolute prim path")],
)
def test_select_paths_must_exist(scene, tmp_path, path, fragment, capsys):
    rules = write_rules(tmp_path, RULES)
    assert main(["label", str(scene), "--rules", str(rules), "--select", path, "--dry-run"]) == 2
    assert fragment in one_line_error(capsys)


def test_leftovers_of_an_interrupted_run_are_swept_by_the_next_one(scene, tmp_path, capsys):
    rules = write_rules(tmp_path, RULES)
    for name in ("warehouse_labels.usda", "warehouse_labeled.usda"):
        (scene.parent / f"{TEMP_PREFIX}0123456789ab-{name}").write_text("half a layer")
    unrelated = scene.parent / f"{TEMP_PREFIX}0123456789ab-other.usda"
    unrelated.write_text("someone else's")
    assert main(["label", str(scene), "--rules", str(rules)]) == 0
    assert "leftover of an interrupted run, removed" in capsys.readouterr().out
    left = sorted(p.name for p in scene.parent.iterdir() if p.name.startswith(TEMP_PREFIX))
    assert left == [unrelated.name]


def test_sigkill_during_label_never_corrupts_the_stage_or_the_labels_layer(tmp_path):
    """Kill ``label`` at several points of a run on a large stage: the stage and an existing labels layer are
    always whole (old or new), leftovers only carry the temporary prefix, and the next run removes them."""
    scene = tmp_path / "big.usda"
    body = "".join(f'    def Mesh "Box_{i:05d}"\n    {{\n    }}\n' for i in range(20000))
    scene.write_text(f'#usda 1.0\ndef Xform "World"\n{{\n{body}}}\n')
    rules = write_rules(tmp_path, RULES)
    command = [sys.executable, "-m", "omni.sdg_studio.cli", "label", str(scene), "--rules", str(rules), "--overwrite"]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    labels = scene.with_name("big_labels.usda")
    stage_bytes, labels_text = scene.read_bytes(), labels.read_text()
    more = write_rules(tmp_path, MORE, "more.yaml")
    killed_after = []
    for delay in (0.5, 1.5, 2.5, 4.0):
        process = subprocess.Popen([*command[:-3], "--rules", str(more), "--overwrite"], stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed_after.append(delay)
        assert scene.read_bytes() == stage_bytes
        text = labels.read_text()
        assert text == labels_text or "kind" in text  # the old layer or the complete new one
        assert Sdf.Layer.OpenAsAnonymous(str(labels)) is not None
        strays = [p for p in tmp_path.iterdir() if p.name.startswith(".") and not p.name.startswith(TEMP_PREFIX)]
        assert strays == []
    subprocess.run([*command[:-3], "--rules", str(more), "--overwrite"], check=True, capture_output=True, timeout=600)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
    assert killed_after == [0.5, 1.5, 2.5, 4.0]
