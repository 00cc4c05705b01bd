"""``sdg-studio info`` against counts recomputed here directly through pxr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pxr import Usd, UsdGeom, UsdSemantics

from omni.sdg_studio.cli import main


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "import sys; from omni.sdg_studio.cli import main; sys.exit(main())", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _expected(path: Path) -> dict:
    stage = Usd.Stage.Open(str(path))
    every = list(Usd.PrimRange.Stage(stage, Usd.TraverseInstanceProxies()))
    cameras = sorted(str(p.GetPath()) for p in every if p.GetTypeName() == "Camera")
    legacy = [str(p.GetPath()) for p in every if any(n.startswith("semantic:") for n in p.GetPropertyNames())]

    def labeled(prim: Usd.Prim) -> bool:
        while prim and not prim.IsPseudoRoot():
            schemas = prim.GetPrimTypeInfo().GetAppliedAPISchemas()
            if any(s.startswith(("SemanticsLabelsAPI:", "SemanticsAPI:")) for s in schemas):
                return True
            prim = prim.GetParent()
        return False

    gprims = [p for p in every if p.IsA(UsdGeom.Gprim)]
    histogram: dict[str, int] = {}
    for prim in every:
        for tax in UsdSemantics.LabelsAPI.GetDirectTaxonomies(prim):
            for label in UsdSemantics.LabelsAPI(prim, tax).GetLabelsAttr().Get():
                histogram[label] = histogram.get(label, 0) + 1
        for name in prim.GetPropertyNames():
            if name.startswith("semantic:") and name.endswith(":params:semanticData"):
                label = prim.GetAttribute(name).Get()
                histogram[label] = histogram.get(label, 0) + 1
    return {
        "prim_count": len(list(stage.Traverse())),
        "cameras": cameras,
        "gprim_count": len(gprims),
        "labeled": sum(1 for g in gprims if labeled(g)),
        "legacy": sorted(legacy),
        "histogram": histogram,
    }


def test_info_json_matches_pxr(sample_scene: Path):
    result = _run(["info", str(sample_scene), "--json"])
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    want = _expected(sample_scene)
    assert got["prim_count"] == want["prim_count"]
    assert sorted(c["path"] for c in got["cameras"]) == want["cameras"]
    assert got["gprim_count"] == want["gprim_count"]
    assert got["gprims_labeled"] == want["labeled"]
    assert got["gprims_unlabeled"] == want["gprim_count"] - want["labeled"]
    assert sorted(got["legacy_prims"]) == want["legacy"]
    assert got["label_histogram"]["class"] == want["histogram"]
    assert got["up_axis"] == "Z" and got["meters_per_unit"] == 1.0
    top = next(c for c in got["cameras"] if c["path"].endswith("TopCam"))
    stage = Usd.Stage.Open(str(sample_scene))
    cam = UsdGeom.Camera(stage.GetPrimAtPath(top["path"]))
    assert top["focal_length"] == cam.GetFocalLengthAttr().Get()


def test_info_tables_name_every_camera(sample_scene: Path, capsys):
    assert main(["info", str(sample_scene)]) == 0
    out = capsys.readouterr().out.replace("\n", "")
    for name in ("TopCam", "DriverCam", "PalletCam"):
        assert name in out


def test_bad_input_is_one_line_and_nonzero(tmp_path: Path):
    not_usd = tmp_path / "notes.usda"
    not_usd.write_text("hello\n")
    cases = {
        str(tmp_path / "missing.usda"): "no such file",
        str(not_usd): "cannot be read as a USD layer",
        str(tmp_path): "is a directory",
        __file__: "not a USD file",
    }
    for arg, message in cases.items():
        result = _run(["info", arg])
        assert result.returncode == 2, (arg, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr, result.stderr
