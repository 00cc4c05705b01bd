"""Output-folder policies, the manifest file and the pre-record check."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from pxr import Usd, UsdGeom, UsdSemantics

from omni.sdg_studio.core.recorder.config import OutputPolicy
from omni.sdg_studio.core.recorder.manifest import Manifest, ManifestError
from omni.sdg_studio.core.recorder.output_policy import (
    OutputFolderError,
    choose_output_folder,
    prepare_output_folder,
)
from omni.sdg_studio.core.recorder.precheck import IssueKind, PrecheckError, precheck
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.writers.base import AnnotatorRequest


def filled(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "rgb_0000.png").write_bytes(b"old")
    return path


def test_refuse_is_the_default_and_names_the_ways_out(tmp_path: Path):
    base = tmp_path / "_out_sdrec"
    assert choose_output_folder(base, OutputPolicy.REFUSE) == base  # missing is fine
    base.mkdir()
    assert choose_output_folder(base, OutputPolicy.REFUSE) == base  # empty is fine
    filled(base)
    with pytest.raises(OutputFolderError, match=r"not empty \(1 entries\).*overwrite, increment or timestamp"):
        choose_output_folder(base, OutputPolicy.REFUSE)
    (base / "sdg_manifest.json").write_text('{"state": "stopped"}')
    with pytest.raises(OutputFolderError, match="resume it"):
        choose_output_folder(base, OutputPolicy.REFUSE)
    (base / "sdg_manifest.json").write_text('{"state": "finished"}')
    with pytest.raises(OutputFolderError) as info:
        choose_output_folder(base, OutputPolicy.REFUSE)
    assert "resume" not in str(info.value)


def test_increment_picks_the_first_free_numbered_folder(tmp_path: Path):
    base = filled(tmp_path / "_out")
    assert choose_output_folder(base, OutputPolicy.INCREMENT) == tmp_path / "_out_0001"
    filled(tmp_path / "_out_0001")
    (tmp_path / "_out_0002").mkdir()  # empty: usable
    assert choose_output_folder(base, OutputPolicy.INCREMENT) == tmp_path / "_out_0002"


def test_timestamp_folder(tmp_path: Path):
    base = filled(tmp_path / "run")
    when = datetime(2025, 3, 4, 5, 6, 7)
    assert choose_output_folder(base, OutputPolicy.TIMESTAMP, when) == tmp_path / "run_20250304-050607"
    filled(tmp_path / "run_20250304-050607")
    assert choose_output_folder(base, OutputPolicy.TIMESTAMP, when) == tmp_path / "run_20250304-050607_1"


def test_overwrite_empties_the_folder_but_never_home_or_cwd(tmp_path: Path, monkeypatch):
    base = filled(tmp_path / "out")
    (base / "sub").mkdir()
    (base / "sub" / "x.npy").write_bytes(b"1")
    prepare_output_folder(base, OutputPolicy.OVERWRITE)
    assert base.is_dir() and list(base.iterdir()) == []
    monkeypatch.chdir(filled(tmp_path / "cwd"))
    with pytest.raises(OutputFolderError, match="refusing to empty"):
        prepare_output_folder(Path("."), OutputPolicy.OVERWRITE)
    assert (tmp_path / "cwd" / "rgb_0000.png").exists()


def test_output_folder_that_is_a_file(tmp_path: Path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputFolderError, match="is not a folder"):
        choose_output_folder(tmp_path / "f", OutputPolicy.INCREMENT)
    with pytest.raises(OutputFolderError, match="cannot create the output folder"):
        prepare_output_folder(tmp_path / "f" / "sub", OutputPolicy.REFUSE)


def test_manifest_round_trips_and_writes_atomically(tmp_path: Path):
    manifest = Manifest(tmp_path, "/s.usda", {"num_frames": 2}, 11, "embedded", [{"name": "rp"}], 2)
    (tmp_path / "a.npy").write_bytes(b"x")
    manifest.mark_done(0, [tmp_path / "a.npy"])
    manifest.save()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "sdg_manifest.json"]  # no temporary left
    data = json.loads((tmp_path / "sdg_manifest.json").read_text())
    assert data["frames"] == [{"index": 0, "status": "done", "files": ["a.npy"]}]
    assert set(data["versions"]) >= {"sdg_studio", "python", "usd", "numpy", "pillow"}
    loaded = Manifest.load(tmp_path)
    assert loaded.to_json() == data


def test_a_file_belongs_to_the_first_frame_that_wrote_it(tmp_path: Path):
    manifest = Manifest(tmp_path, "/s.usda", {}, 1, "embedded", [], 3)
    manifest.mark_done(0, [tmp_path / "metadata.txt", tmp_path / "rgb_0000.png"])
    manifest.mark_done(2, [tmp_path / "metadata.txt", tmp_path / "rgb_0002.png"])  # a resumed run rewrote it
    assert manifest.frames == {0: ["metadata.txt", "rgb_0000.png"], 2: ["rgb_0002.png"]}
    manifest.mark_done(1, [tmp_path / ".journal" / "1.json", tmp_path / "rgb_0001.png"])
    assert manifest.frames[1] == ["rgb_0001.png"]  # writers' hidden bookkeeping is not listed


def test_manifest_save_failure_keeps_the_previous_manifest(tmp_path: Path, monkeypatch):
    manifest = Manifest(tmp_path, "/s.usda", {}, 1, "embedded", [], 3)
    manifest.save()
    before = (tmp_path / "sdg_manifest.json").read_text()
    manifest.state = "running"

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError):
        manifest.save()
    assert (tmp_path / "sdg_manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sdg_manifest.json"]


def test_damaged_or_missing_manifest(tmp_path: Path):
    with pytest.raises(ManifestError, match="no manifest"):
        Manifest.load(tmp_path)
    (tmp_path / "sdg_manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="cannot read"):
        Manifest.load(tmp_path)
    (tmp_path / "sdg_manifest.json").write_text('{"format": "other"}')
    with pytest.raises(ManifestError, match="not an SDG Studio recording manifest"):
        Manifest.load(tmp_path)


# Pre-record check
SEMANTIC = [
    AnnotatorRequest("rgb"),
    AnnotatorRequest("semantic_segmentation"),
    AnnotatorRequest("bounding_box_2d_tight"),
]


def unlabeled_stage() -> Usd.Stage:
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Camera.Define(stage, "/World/Cam")
    UsdGeom.Cube.Define(stage, "/World/Box")
    UsdGeom.Xform.Define(stage, "/World/NotCam")
    return stage


def test_unlabeled_stage_names_the_annotators_and_suggests_label():
    report = precheck(unlabeled_stage(), [RenderProduct("/World/Cam", 64, 64)], SEMANTIC)
    assert [i.kind for i in report.issues] == [IssueKind.UNLABELED_STAGE]
    text = str(report.issues[0])
    assert "semantic_segmentation, bounding_box_2d_tight will be empty" in text
    assert "sdg-studio label" in text
    report.require(strict=False)
    with pytest.raises(PrecheckError, match="--strict"):
        report.require(strict=True)


def test_unused_taxonomy_is_named():
    stage = unlabeled_stage()
    UsdSemantics.LabelsAPI.Apply(stage.GetPrimAtPath("/World/Box"), "category").CreateLabelsAttr(["box"])
    products = [RenderProduct("/World/Cam", 64, 64)]
    requests = [AnnotatorRequest("semantic_segmentation", semantic_types=("class",))]
    report = precheck(stage, products, requests)
    assert [i.kind for i in report.issues] == [IssueKind.UNUSED_TAXONOMY]
    assert "taxonomy 'class'" in str(report.issues[0]) and "the stage uses category" in str(report.issues[0])
    both = [AnnotatorRequest("bounding_box_2d_tight", semantic_types=("class", "coco"))]
    assert "taxonomies 'class', 'coco'" in str(precheck(stage, products, both).issues[0])
    # One used semantic type is enough: the annotator takes labels from any of them (CocoWriter asks for
    # class, coco, stuff and thing; a stage labeled in one of them records complete data).
    for types in (("category",), ("class", "category"), ("coco", "stuff", "thing", "category")):
        requests = [AnnotatorRequest("semantic_segmentation", semantic_types=types)]
        assert precheck(stage, products, requests).issues == []


def test_legacy_labels_count_as_labels(sample_scene: Path):
    stage = Usd.Stage.Open(str(sample_scene))
    report = precheck(stage, [RenderProduct("/World/Cameras/TopCam", 64, 64)], SEMANTIC)
    assert report.issues == []


def test_cameras_and_resolution():
    stage = unlabeled_stage()
    products = [
        RenderProduct("/World/NotCam", 64, 64),
        RenderProduct("/OmniverseKit_Persp", 64, 64),
        RenderProduct("/World/Cam", 9000, 100),
    ]
    report = precheck(stage, products, [AnnotatorRequest("rgb")])
    kinds = [i.kind for i in report.issues]
    assert kinds == [IssueKind.NOT_A_CAMERA, IssueKind.NOT_A_CAMERA, IssueKind.LARGE_RESOLUTION]
    assert "a Xform, not a Camera" in str(report.issues[0]) and "cameras on this stage: /World/Cam" in str(
        report.issues[0]
    )
    assert "exist only inside Kit" in str(report.issues[1])
    assert "9000x100" in str(report.issues[2])
    assert report.render_products == [products[2]]
    only_bad = precheck(stage, products[:1], [AnnotatorRequest("rgb")])
    with pytest.raises(PrecheckError, match="nothing to record"):
        only_bad.require(strict=False)


def test_skeleton_data_without_skeleton():
    report = precheck(unlabeled_stage(), [RenderProduct("/World/Cam", 8, 8)], [AnnotatorRequest("skeleton_data")])
    assert [i.kind for i in report.issues] == [IssueKind.NO_SKELETON]
