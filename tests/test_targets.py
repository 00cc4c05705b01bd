"""Training targets from annotator outputs (core/targets, numpy only), checked against the annotators themselves."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from online_scene import CAMERAS, RULES, TOP, label_warehouse

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.targets import (
    TARGET_KINDS,
    TargetClasses,
    TargetError,
    frame_targets,
    stage_labels,
    target_annotators,
)

RESOLUTION = (128, 96)
ANNOTATORS = (
    "rgb",
    "instance_segmentation",
    "instance_id_segmentation",
    "bounding_box_2d_tight",
    "semantic_segmentation",
    "distance_to_image_plane",
    "normals",
    "occlusion",
)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return label_warehouse(tmp_path_factory.mktemp("scene"))


@pytest.fixture(scope="module")
def rendered(scene):
    """Every camera's annotators, raw and colorized, and the stage's class table."""
    stage = open_stage(scene)
    backend = EmbeddedBackend(stage)
    raw = {camera: backend.render(camera, RESOLUTION, ANNOTATORS) for camera in CAMERAS}
    colorized = {
        camera: backend.render(camera, RESOLUTION, ["instance_segmentation", "semantic_segmentation"], colorize=True)
        for camera in CAMERAS
    }
    return raw, colorized, TargetClasses.of_stage(stage)


def expected_objects(frame, classes):
    """Independently: one object per labeled instance id with pixels, its class from idToSemantics."""
    ids = frame["instance_segmentation"]["data"]
    info = frame["instance_segmentation"]["info"]
    by_name = {name: class_id for class_id, name in classes.names.items()}
    found = {}
    for instance_id, path in info["idToLabels"].items():
        label = info["idToSemantics"][instance_id].get("class", "")
        if path in ("BACKGROUND", "UNLABELLED") or not label:
            continue
        name = next(part for part in label.split(",") if part in by_name)
        ys, xs = np.nonzero(ids == instance_id)
        if len(xs):
            box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            found[(path, box)] = (by_name[name], ids == instance_id)
    return found


def test_targets_equal_a_recomputation_from_the_annotators(rendered):
    raw, _, classes = rendered
    total = 0
    for camera, frame in raw.items():
        targets = frame_targets(frame, classes, TARGET_KINDS)
        expected = expected_objects(frame, classes)
        objects = zip(targets.prim_paths, targets.boxes, targets.labels, targets.masks, strict=True)
        got = {(path, tuple(int(v) for v in box)): (int(label), mask) for path, box, label, mask in objects}
        assert got.keys() == expected.keys(), camera
        for key, (label, mask) in got.items():
            assert label == expected[key][0]
            np.testing.assert_array_equal(mask, expected[key][1])
        total += len(got)
        assert targets.image.shape == (RESOLUTION[1], RESOLUTION[0], 3) and targets.image.dtype == np.uint8
        np.testing.assert_array_equal(targets.image, frame["rgb"][:, :, :3])
        assert targets.masks.dtype == bool and (targets.masks.sum(axis=(1, 2)) > 0).all()  # no empty mask
        assert (targets.masks.sum(axis=0) <= 1).all()  # instances do not overlap
        assert (targets.boxes[:, 2:] > targets.boxes[:, :2]).all()  # no zero-area box
        assert list(targets.class_names) == [classes.names[int(c)] for c in targets.labels]
    assert total > 40  # three cameras see the whole warehouse


def test_every_box_is_its_masks_bounds_and_within_1px_of_the_box_annotator(rendered):
    raw, _, classes = rendered
    for frame in raw.values():
        targets = frame_targets(frame, classes, ("boxes", "masks"))
        rows = frame["bounding_box_2d_tight"]["data"]
        paths = frame["bounding_box_2d_tight"]["info"]["primPaths"]
        compared = 0
        for path, box, mask in zip(targets.prim_paths, targets.boxes, targets.masks, strict=True):
            ys, xs = np.nonzero(mask)
            assert tuple(box) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            matches = [r for r, p in zip(rows, paths, strict=True) if p == path]
            if len(matches) == 1:  # point-instancer instances share a path
                row = matches[0]
                annotated = (row["x_min"], row["y_min"], row["x_max"] + 1, row["y_max"] + 1)
                assert np.abs(np.asarray(annotated, float) - box).max() <= 1.0, path
                compared += 1
        assert compared >= len(targets) // 2


def test_extras_equal_the_annotators(rendered):
    raw, _, classes = rendered
    by_name = {name: class_id for class_id, name in classes.names.items()}
    for frame in raw.values():
        targets = frame_targets(frame, classes, TARGET_KINDS)
        np.testing.assert_array_equal(targets.depth, frame["distance_to_image_plane"])
        np.testing.assert_array_equal(targets.normals, frame["normals"][:, :, :3])
        semantic = frame["semantic_segmentation"]
        expected = np.zeros(semantic["data"].shape, np.int64)
        for key, labels in semantic["info"]["idToLabels"].items():
            names = [p for p in labels.get("class", "").split(",") if p in by_name]
            if names:
                expected[semantic["data"] == int(key)] = by_name[names[0]]
        np.testing.assert_array_equal(targets.semantic, expected)
        occlusion = frame["occlusion"]
        ratio = dict(zip(occlusion["info"]["primPaths"], occlusion["data"]["occlusionRatio"], strict=True))
        assert targets.occlusion.tolist() == pytest.approx([ratio[p] for p in targets.prim_paths])


def test_colorized_segmentations_give_the_same_targets(rendered):
    raw, colorized, classes = rendered
    for camera, frame in raw.items():
        a = frame_targets(frame, classes, ("boxes", "masks", "semantic"))
        b = frame_targets({**frame, **colorized[camera]}, classes, ("boxes", "masks", "semantic"))
        assert a.prim_paths == b.prim_paths
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.masks, b.masks)
        np.testing.assert_array_equal(a.semantic, b.semantic)


def test_leaf_instances_grouped_under_the_boxes_give_the_same_targets(rendered):
    raw, _, classes = rendered
    for camera, frame in raw.items():
        a = frame_targets(frame, classes, ("boxes", "masks"))
        leaves = {k: v for k, v in frame.items() if k != "instance_segmentation"}
        b = frame_targets(leaves, classes, ("boxes", "masks"))
        assert a.prim_paths == b.prim_paths, camera
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_array_equal(a.masks, b.masks)


def test_instances_without_semantics_match_boxes_without_paths_by_bounds(rendered):
    """KITTI's case: an instance image and label boxes, nothing linking them but their bounds."""
    raw, _, classes = rendered
    for frame in raw.values():
        full = frame_targets(frame, classes, ("boxes", "masks"))
        instance = frame["instance_segmentation"]
        boxes = frame["bounding_box_2d_tight"]
        bare = {
            "rgb": frame["rgb"],
            "instance_segmentation": {"data": instance["data"], "info": {"idToLabels": instance["info"]["idToLabels"]}},
            "bounding_box_2d_tight": {"data": boxes["data"], "info": {"idToLabels": boxes["info"]["idToLabels"]}},
        }
        matched = frame_targets(bare, classes, ("boxes", "masks"))
        assert set(matched.prim_paths) == {""}
        full_objects = {tuple(b): (int(c), m) for b, c, m in zip(full.boxes, full.labels, full.masks, strict=True)}
        for box, label, mask in zip(matched.boxes, matched.labels, matched.masks, strict=True):
            assert tuple(box) in full_objects
            assert full_objects[tuple(box)][0] == int(label)
            np.testing.assert_array_equal(full_objects[tuple(box)][1], mask)
        assert len(matched) >= 0.8 * len(full)


def test_boxes_alone_come_from_the_box_rows(rendered):
    raw, _, classes = rendered
    frame = raw[TOP]
    only = {"rgb": frame["rgb"], "bounding_box_2d_tight": frame["bounding_box_2d_tight"]}
    targets = frame_targets(only, classes, ("boxes",))
    rows = frame["bounding_box_2d_tight"]["data"]
    expected = sorted(
        (p, (float(r["x_min"]), float(r["y_min"]), float(r["x_max"] + 1), float(r["y_max"] + 1)))
        for r, p in zip(rows, frame["bounding_box_2d_tight"]["info"]["primPaths"], strict=True)
    )
    assert sorted(zip(targets.prim_paths, map(tuple, targets.boxes.tolist()), strict=True)) == expected
    assert targets.masks is None
    with pytest.raises(TargetError, match="masks need instance_segmentation or instance_id_segmentation"):
        frame_targets(only, classes, ("boxes", "masks"))


def test_class_table_rules(scene, caplog):
    stage = open_stage(scene)
    labels = stage_labels(stage)
    assert labels == sorted(labels) and {"forklift", "pallet", "cardbox"} <= set(labels)
    classes = TargetClasses.of_stage(stage)
    assert list(classes.names.values()) == labels and list(classes.names) == list(range(1, len(labels) + 1))
    assert classes.num_classes == len(labels) + 1
    assert TargetClasses.of_stage(open_stage(scene)).names == classes.names  # the same in every process

    rules = TargetClasses.of_rules(RULES)
    assert rules.resolve({"class": "forklift"}).id == 6 and rules.resolve({"class": "pallet"}).id == 1
    fixed = TargetClasses.of_names(["crate", "pallet"])
    assert fixed.resolve({"class": "rack,pallet"}).name == "pallet"  # the first listed of comma-joined labels
    assert fixed.resolve({"size": "a"}) is None and fixed.resolve({"class": "UNLABELLED"}) is None
    with caplog.at_level(logging.WARNING):
        assert fixed.resolve({"class": "ghost"}) is None
        assert fixed.resolve({"class": "ghost"}) is None
    assert sum("'ghost' is not in the class table" in r.message for r in caplog.records) == 1
    grown = TargetClasses.of_names(["crate"])
    grown.grow = True
    assert grown.resolve({"class": "ghost"}).id == 2 and grown.names == {1: "crate", 2: "ghost"}
    two = TargetClasses.of_names(["a", "b"], semantic_types=("coco", "class"))
    assert two.resolve({"class": "a", "coco": "b"}).name == "b"


def test_unknown_labels_are_left_out_of_a_fixed_table(rendered):
    raw, _, _ = rendered
    only_pallets = TargetClasses.of_names(["pallet"])
    targets = frame_targets(raw[TOP], only_pallets, ("boxes", "masks"))
    assert len(targets) > 0 and set(targets.class_names) == {"pallet"} and set(targets.labels.tolist()) == {1}


def test_bad_requests_name_what_is_wrong(rendered):
    raw, _, classes = rendered
    frame = raw[TOP]
    with pytest.raises(TargetError, match="unknown target 'keypoints'"):
        frame_targets(frame, classes, ("boxes", "keypoints"))
    with pytest.raises(TargetError, match="no rgb"):
        frame_targets({k: v for k, v in frame.items() if k != "rgb"}, classes)
    with pytest.raises(TargetError, match="'depth' needs the distance_to_image_plane annotator"):
        without_depth = {"rgb": frame["rgb"], "instance_segmentation": frame["instance_segmentation"]}
        frame_targets(without_depth, classes, {"depth"})
    small = {"rgb": frame["rgb"][:10], "instance_segmentation": frame["instance_segmentation"]}
    with pytest.raises(TargetError, match="instance_segmentation: size 128x96 differs from rgb"):
        frame_targets(small, classes)
    assert target_annotators(("boxes", "depth")) == ("rgb", "instance_segmentation", "distance_to_image_plane")


def test_min_pixels_drops_small_objects(rendered):
    raw, _, classes = rendered
    every = frame_targets(raw[TOP], classes, ("boxes", "masks"))
    large = frame_targets(raw[TOP], classes, ("boxes", "masks"), min_pixels=20)
    sizes = every.masks.sum(axis=(1, 2))
    assert len(large) == int((sizes >= 20).sum()) < len(every)
