"""KittiWriter: folder layout, KITTI label lines, class-index / MOTS instance / depth images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from frames import make_batch, make_frame
from PIL import Image

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.colors import stable_color
from omni.sdg_studio.core.writers.kitti_writer import KITTI_LABELS, KittiWriter
from omni.sdg_studio.core.writers.params import WriterParamError

#: config_kitti_writer.yaml's mapping, with our labels.
MAPPING = {"crate": [11, 110, 223, 255], "forklift": [211, 210, 223, 255]}


def record(out: Path, frames: int = 1, rp_names=("Replicator",), batches=None, **params) -> None:
    writer = KittiWriter(out, **params)
    for batch in batches or [make_batch(i, rp_names) for i in range(frames)]:
        writer.write(batch)
    writer.finish()


def files_under(root: Path) -> set[str]:
    """The dataset's files (the writer's hidden bookkeeping, e.g. the labels it numbered, left out)."""
    found = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
    return {p.as_posix() for p in found if not p.name.startswith(".")}


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def test_one_render_product_writes_under_the_camera_name_without_padding(tmp_path):
    batches = [make_batch(0), make_batch(10)]
    record(tmp_path, batches=batches)
    assert files_under(tmp_path) == {
        f"ReplicatorCam/{folder}/{i}.{ext}"
        for i in (0, 10)
        for folder, ext in (
            ("rgb", "png"),
            ("object_detection", "txt"),
            ("semantic", "png"),
            ("semantic_segmentation", "png"),
            ("instance_segmentation", "png"),
            ("depth", "png"),
        )
    }


def test_kitti_dir_names_and_colorized_instances_for_several_render_products(tmp_path):
    record(tmp_path, rp_names=("left", "right"), use_kitti_dir_names=True, colorize_instance_segmentation=True)
    assert files_under(tmp_path) == {
        f"{rp}/{rp}Cam/{folder}/0.{ext}"
        for rp in ("left", "right")
        for folder, ext in (
            ("image_02", "png"),
            ("label_02", "txt"),
            ("semantic", "png"),
            ("semantic_rgb", "png"),
            ("instance", "png"),
            ("instance_rgb", "png"),
            ("depth", "png"),
        )
    }


def expected_lines(frame, threshold=25, omit=False, partly=0.5, fully=0.95):
    """KITTI lines recomputed from the annotator data following recorder_writers.md section 3.4."""
    tight, loose = frame["bounding_box_2d_tight"], frame["bounding_box_2d_loose"]
    lines = []
    for row, loose_row in zip(tight["data"], loose["data"], strict=True):
        if row["y_max"] - row["y_min"] < threshold:
            continue
        label = tight["info"]["idToLabels"][int(row["semanticId"])]["class"]
        ratio = ((row["x_max"] - row["x_min"]) * (row["y_max"] - row["y_min"])) / (
            (loose_row["x_max"] - loose_row["x_min"]) * (loose_row["y_max"] - loose_row["y_min"])
        )
        occluded = 0 if ratio >= fully else 1 if ratio >= partly else 2
        box = [str(int(row[k])) for k in ("x_min", "y_min", "x_max", "y_max")]
        lines.append([label if omit else f"class:{label}", "0.00", str(occluded), "0.00", *box] + ["0.00"] * 7)
    return lines


def read_lines(path: Path) -> list[list[str]]:
    return [line.split(" ") for line in path.read_text().splitlines()]


def test_label_lines_have_15_columns_and_drop_short_boxes(tmp_path):
    record(tmp_path, omit_semantic_type=True)
    lines = read_lines(tmp_path / "ReplicatorCam/object_detection/0.txt")
    assert all(len(line) == 15 for line in lines)
    assert lines == expected_lines(make_frame(), omit=True)
    # the forklift is 23 px high: under the default 25 px threshold, present at 10 px
    assert [line[0] for line in lines] == ["crate", "crate"]
    record(tmp_path / "low", bbox_height_threshold=10)
    lines = read_lines(tmp_path / "low/ReplicatorCam/object_detection/0.txt")
    assert [line[0] for line in lines] == ["class:crate", "class:crate", "class:forklift"]
    assert lines == expected_lines(make_frame(), threshold=10)


def test_occlusion_state_follows_tight_over_loose_area(tmp_path):
    batch = make_batch(0)
    loose = batch.products["Replicator"]["bounding_box_2d_loose"]["data"]
    loose = loose.copy()
    loose[0]["x_max"] += (loose[0]["x_max"] - loose[0]["x_min"]) // 2  # ratio ~0.67 -> partly occluded
    loose[1]["x_max"] += 3 * (loose[1]["x_max"] - loose[1]["x_min"])  # ratio ~0.25 -> largely occluded
    batch.products["Replicator"]["bounding_box_2d_loose"]["data"] = loose
    record(tmp_path, batches=[batch])
    lines = read_lines(tmp_path / "ReplicatorCam/object_detection/0.txt")
    assert [line[2] for line in lines] == ["1", "2"]
    assert lines == expected_lines(batch.products["Replicator"])


def test_boxes_outside_the_image_are_dropped(tmp_path):
    batch = make_batch(0)
    rows = batch.products["Replicator"]["bounding_box_2d_tight"]["data"]
    rows["x_min"][0] = -5
    record(tmp_path, batches=[batch])
    assert len(read_lines(tmp_path / "ReplicatorCam/object_detection/0.txt")) == 1


def test_segmentation_images_follow_the_mapping(tmp_path):
    record(tmp_path, mapping_dict=MAPPING)
    frame = make_frame()
    semantic_ids = frame["semantic_segmentation"]["data"]
    crate, forklift = semantic_ids == 2, semantic_ids == 3
    other = ~(crate | forklift)
    folder = tmp_path / "ReplicatorCam"
    semantic = read_png(folder / "semantic/0.png")
    assert semantic.dtype == np.uint8
    # no "unlabelled" key in the mapping: 0 stays unlabelled, the listed classes count from 1
    assert (semantic[crate] == 1).all() and (semantic[forklift] == 2).all() and (semantic[other] == 0).all()
    colors = read_png(folder / "semantic_segmentation/0.png")
    assert (colors[crate] == MAPPING["crate"]).all() and (colors[forklift] == MAPPING["forklift"]).all()
    assert (colors[other] == 0).all()
    instance = read_png(folder / "instance_segmentation/0.png")
    assert instance.dtype == np.uint16
    ids = frame["instance_segmentation"]["data"]
    assert (instance[ids == 2] == 1 * 256 + 1).all()  # first crate
    assert (instance[ids == 3] == 1 * 256 + 2).all()  # second crate
    assert (instance[ids == 4] == 2 * 256 + 1).all()  # forklift
    assert (instance[ids < 2] == 0).all()


def test_default_mapping_is_cityscapes_with_the_scene_labels_appended(tmp_path):
    record(tmp_path)
    folder = tmp_path / "ReplicatorCam"
    semantic = read_png(folder / "semantic/0.png")
    ids = make_frame()["semantic_segmentation"]["data"]
    assert list(KITTI_LABELS).index("background") == 23 and len(KITTI_LABELS) == 35
    assert (semantic[ids == 0] == 23).all()  # BACKGROUND -> "background"
    assert (semantic[ids == 1] == 0).all()  # UNLABELLED -> "unlabelled"
    assert (semantic[ids == 2] == 35).all() and (semantic[ids == 3] == 36).all()  # crate, forklift in order met
    colors = read_png(folder / "semantic_segmentation/0.png")
    assert (colors[ids == 0] == KITTI_LABELS["background"]).all()
    assert (colors[ids == 3] == stable_color("forklift")).all()
    instance = read_png(folder / "instance_segmentation/0.png")
    assert (instance[make_frame()["instance_segmentation"]["data"] == 4] == 36 * 256 + 1).all()


def test_labels_missing_from_a_given_mapping_stay_unlabelled(tmp_path):
    record(tmp_path, mapping_dict={"forklift": [1, 2, 3, 255]})
    ids = make_frame()["semantic_segmentation"]["data"]
    semantic = read_png(tmp_path / "ReplicatorCam/semantic/0.png")
    assert (semantic[ids == 2] == 0).all() and (semantic[ids == 3] == 1).all()


def test_class_table_gives_indices_and_colors(tmp_path):
    table = ClassTable([LabelClass("crate", 5, (1, 2, 3, 255)), LabelClass("forklift", 12, (4, 5, 6, 255))])
    record(tmp_path, classes=table)
    ids = make_frame()["semantic_segmentation"]["data"]
    semantic = read_png(tmp_path / "ReplicatorCam/semantic/0.png")
    assert (semantic[ids == 2] == 5).all() and (semantic[ids == 3] == 12).all()
    colors = read_png(tmp_path / "ReplicatorCam/semantic_segmentation/0.png")
    assert (colors[ids == 3] == (4, 5, 6, 255)).all()


def test_labels_missing_from_the_class_table_join_it(tmp_path):
    table = ClassTable([LabelClass("crate", 5, (1, 2, 3, 255))])
    record(tmp_path, classes=table)
    ids = make_frame()["semantic_segmentation"]["data"]
    semantic = read_png(tmp_path / "ReplicatorCam/semantic/0.png")
    assert table.get("forklift").id == 6 and (semantic[ids == 3] == 6).all()


def test_depth_is_metres_times_256_and_zero_without_hit(tmp_path):
    record(tmp_path)
    depth = make_frame()["distance_to_camera"]
    written = read_png(tmp_path / "ReplicatorCam/depth/0.png")
    assert written.dtype == np.uint16
    hit = np.isfinite(depth)
    np.testing.assert_array_equal(written[hit], (depth[hit] * 256).astype(np.uint16))
    assert (written[~hit] == 0).all()


def test_mapping_path_is_read_and_its_errors_name_the_file(tmp_path):
    good = tmp_path / "mapping.json"
    good.write_text(json.dumps(MAPPING))
    record(tmp_path / "out", mapping_path=str(good))
    assert (read_png(tmp_path / "out/ReplicatorCam/semantic/0.png") == 2).any()
    bad = tmp_path / "bad.json"
    bad.write_text('{"crate": [1, 2, 3, 255],\n "forklift": }')
    with pytest.raises(WriterParamError, match=r"'mapping_path': .*bad\.json:2:"):
        KittiWriter(tmp_path, mapping_path=str(bad))
    with pytest.raises(WriterParamError, match=r"cannot read .*missing\.json"):
        KittiWriter(tmp_path, mapping_path=str(tmp_path / "missing.json"))


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"mapping_dict": {"crate": [1, 2, 3]}}, "mapping_dict"),
        ({"mapping_dict": MAPPING, "mapping_path": "m.json"}, "mapping_dict"),
        ({"s3_bucket": "b"}, "s3_bucket"),
        ({"partly_occluded_threshold": 0.99}, "partly_occluded_threshold"),
    ],
)
def test_invalid_parameters_name_the_parameter(tmp_path, params, param):
    with pytest.raises(WriterParamError) as caught:
        KittiWriter(tmp_path, **params)
    assert caught.value.param == param
