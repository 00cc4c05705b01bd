"""YoloWriter: label lines recomputed from the targets' boxes and masks, split, data.yaml, resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from frames import make_batch, make_frame
from online_scene import PALLET, TOP, label_warehouse, record
from test_targets_polygons import fill, without_holes

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.randomize import RandomizationEngine
from omni.sdg_studio.core.recorder.config import CameraJitter
from omni.sdg_studio.core.recorder.randomization import camera_jitter_scenario
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.targets import TargetClasses, frame_targets, mask_outlines
from omni.sdg_studio.core.writers.base import FrameBatch
from omni.sdg_studio.core.writers.params import WriterParamError
from omni.sdg_studio.core.writers.registry import get_writer
from omni.sdg_studio.core.writers.yolo_writer import YoloWriter, val_frame

JITTER = {"position": 0.3, "rotation": 3.0}


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return label_warehouse(tmp_path_factory.mktemp("scene"))


def read_yolo(folder: Path) -> tuple[list[str], dict[str, list[list[float]]]]:
    """``data.yaml`` names and every label file's rows (by ``<split>/<stem>``)."""
    data = yaml.safe_load((folder / "data.yaml").read_text())
    assert data["train"] == "images/train" and data["val"] == "images/val" and data["nc"] == len(data["names"])
    names = [data["names"][i] for i in range(len(data["names"]))]
    rows = {}
    for path in sorted((folder / "labels").rglob("*.txt")):
        image = folder / "images" / path.parent.name / (path.stem + ".png")
        assert image.is_file()
        lines = path.read_text().splitlines()
        rows[f"{path.parent.name}/{path.stem}"] = [[float(v) for v in line.split()] for line in lines]
    return names, rows


def recorded_targets(scene: Path, frames: int, size: tuple[int, int]):
    """The targets of what the recorder rendered (same seed, same jitter) per (render product, frame)."""
    stage = open_stage(scene)
    classes = TargetClasses.of_stage(stage)
    jitter = RandomizationEngine(stage, camera_jitter_scenario(CameraJitter(**JITTER), [TOP, PALLET]), seed=2)
    backend = EmbeddedBackend(stage)
    out = {}
    for frame in range(frames):
        jitter.apply(frame)
        for rp, camera in (("top", TOP), ("pallet", PALLET)):
            rendered = backend.render(camera, size, ["rgb", "instance_segmentation"])
            out[(rp, frame)] = frame_targets(rendered, classes, ("boxes", "masks"))
    return out, classes


def config(writer_params: dict, size: tuple[int, int], frames: int) -> dict:
    width, height = size
    return {
        "num_frames": frames,
        "writer_name": "YoloWriter",
        "rp_data": [[TOP, width, height, "top"], [PALLET, width, height, "pallet"]],
        "sdg_studio": {"seed": 2, "camera_jitter": JITTER, "writer_params": writer_params},
    }


def test_box_lines_are_the_targets_boxes_normalized(scene, tmp_path):
    size, frames = (160, 120), 4
    both_splits = [f for f in (0.5, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9) if len({val_frame(i, f) for i in range(frames)}) == 2]
    fraction = both_splits[0]
    out = record(scene, tmp_path / "yolo", config({"val_fraction": fraction}, size, frames), tmp_path)
    names, rows = read_yolo(out)
    targets, classes = recorded_targets(scene, frames, size)
    width, height = size
    assert len(rows) == 2 * frames
    for (rp, frame), target in targets.items():
        split = "val" if val_frame(frame, fraction) else "train"
        expected = sorted(
            [
                names.index(classes.names[int(label)]),
                round((x1 + x2) / 2 / width, 6),
                round((y1 + y2) / 2 / height, 6),
                round((x2 - x1) / width, 6),
                round((y2 - y1) / height, 6),
            ]
            for (x1, y1, x2, y2), label in zip(target.boxes.tolist(), target.labels.tolist(), strict=True)
        )
        np.testing.assert_allclose(np.array(sorted(rows[f"{split}/{rp}_{frame:06d}"])), np.array(expected), atol=1e-6)
    assert {"train", "val"} == {key.split("/")[0] for key in rows}


@pytest.mark.parametrize("tolerance", [0.0, 1.0])
def test_polygon_lines_outline_the_targets_masks(scene, tmp_path, tolerance):
    size, frames = (160, 120), 2
    params = {"segmentation": True, "polygon_tolerance": tolerance, "val_fraction": 0.0}
    out = record(scene, tmp_path / "seg", config(params, size, frames), tmp_path)
    names, rows = read_yolo(out)
    targets, classes = recorded_targets(scene, frames, size)
    width, height = size
    for (rp, frame), target in targets.items():
        lines = rows[f"train/{rp}_{frame:06d}"]
        assert len(lines) == len(target)
        unmatched = list(range(len(lines)))
        for box, label, mask in zip(target.boxes, target.labels.tolist(), target.masks, strict=True):
            for k in unmatched:
                polygon = np.asarray(lines[k][1:]).reshape(-1, 2) * (width, height)
                low, high = polygon.min(axis=0), polygon.max(axis=0)
                if np.abs(np.r_[low, high] - box).max() <= tolerance + 1e-3:  # polygon bounds = the box
                    break
            else:
                pytest.fail(f"no polygon of {rp} frame {frame} has the bounds of box {box}")
            unmatched.remove(k)
            assert int(lines[k][0]) == names.index(classes.names[label])
            vertices = {tuple(v) for v in np.round(polygon).astype(int).tolist()}
            assert np.abs(polygon - np.round(polygon)).max() < 1e-3  # pixel corners
            assert vertices <= {tuple(v) for outline in mask_outlines(mask) for v in outline.tolist()}
            if tolerance == 0:  # the exact outline: filling it gives the mask back (holes filled)
                np.testing.assert_array_equal(fill(np.round(polygon), mask.shape), without_holes(mask))


def test_split_is_by_frame_and_stable():
    picks = [val_frame(i, 0.2) for i in range(2000)]
    assert 0.17 < sum(picks) / 2000 < 0.23
    assert picks == [val_frame(i, 0.2) for i in range(2000)]
    assert not any(val_frame(i, 0.0) for i in range(100)) and all(val_frame(i, 1.0) for i in range(100))


def write(folder: Path, batches: list[FrameBatch], **kw) -> YoloWriter:
    writer = YoloWriter(folder, **kw)
    for batch in batches:
        writer.write(batch)
    writer.finish()
    return writer


def test_data_yaml_keeps_indices_on_resume_and_names_every_class_on_disk(tmp_path):
    table = ClassTable([LabelClass("forklift", 5, (1, 2, 3, 255))])
    write(tmp_path, [make_batch(0), make_batch(1)], classes=table, val_fraction=0.0)
    names, rows = read_yolo(tmp_path)
    assert names == ["forklift", "crate"]  # the rules file's class first (by id), the rest as met
    assert {int(r[0]) for lines in rows.values() for r in lines} == {0, 1}
    crate_only = make_frame()
    semantics = crate_only["instance_segmentation"]["info"]["idToSemantics"]
    for key, value in semantics.items():
        if value == {"class": "crate"}:
            semantics[key] = {"class": "pallet"}
    batch = FrameBatch(2, {"Replicator": crate_only}, {"Replicator": RenderProduct("/World/Cam", 64, 48)})
    write(tmp_path, [batch], classes=ClassTable([LabelClass("forklift", 5, (1, 2, 3, 255))]), resume=True)
    names, rows = read_yolo(tmp_path)
    assert names == ["forklift", "crate", "pallet"]
    assert {int(r[0]) for r in rows["train/000002"]} == {0, 2}


def test_a_resumed_run_refuses_a_class_order_it_cannot_keep(tmp_path):
    write(tmp_path, [make_batch(0)])
    with pytest.raises(Exception, match="class order differs"):
        write(tmp_path, [make_batch(1)], classes=ClassTable([LabelClass("forklift", 1, (1, 2, 3, 255))]), resume=True)


def test_labels_match_frame_targets_on_a_synthetic_frame(tmp_path):
    writer = write(tmp_path, [make_batch(0)], val_fraction=0.0)
    frame = make_frame()
    targets = frame_targets(frame, TargetClasses(writer.classes), ("boxes",))
    lines = (tmp_path / "labels/train/000000.txt").read_text().splitlines()
    assert len(lines) == len(targets) == 3
    for line, box in zip(lines, targets.boxes, strict=True):
        _, cx, cy, w, h = (float(v) for v in line.split())
        assert (cx * 64 - w * 32, cy * 48 - h * 24, cx * 64 + w * 32, cy * 48 + h * 24) == pytest.approx(box, abs=1e-4)


def test_registered_with_typed_parameters():
    entry = get_writer("YoloWriter")
    assert entry.param("segmentation").kind == "bool" and entry.param("val_fraction").kind == "float"
    assert entry.param("image_output_format").choices == ("png", "jpg")
    with pytest.raises(WriterParamError, match="val_fraction"):
        entry.create({"val_fraction": 1.5}, output_dir="unused")
