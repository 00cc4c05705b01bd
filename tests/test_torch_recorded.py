"""``RecordedDataset``: recordings of the same seed give the stream's samples (BasicWriter, COCO, KITTI)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from online_scene import PALLET, TOP, label_warehouse, record

from omni.sdg_studio.core.randomize import RandomizationEngine
from omni.sdg_studio.core.recorder.config import CameraJitter
from omni.sdg_studio.core.recorder.randomization import camera_jitter_scenario
from omni.sdg_studio.torch import RecordedDataset, RecordedDatasetError, SyntheticStream, detection_collate

JITTER = {"position": 0.3, "rotation": 3.0}
SEED = 11


def jitter(stage, seed, cameras=(TOP, PALLET)):
    """The recorder's camera jitter as a stream scenario: the same offsets for the same seed, frame and cameras."""
    return RandomizationEngine(stage, camera_jitter_scenario(CameraJitter(**JITTER), cameras), seed=seed)


def jitter_top(stage, seed):
    return jitter(stage, seed, (TOP,))


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return label_warehouse(tmp_path_factory.mktemp("scene"))


def config(writer: str, size: tuple[int, int], frames: int, **extra) -> dict:
    width, height = size
    return {
        "num_frames": frames,
        "writer_name": writer,
        "rp_data": [[TOP, width, height, "top"], [PALLET, width, height, "pallet"]],
        "sdg_studio": {"seed": SEED, "camera_jitter": JITTER},
        **extra,
    }


def streamed(scene, size, frames, targets=("boxes", "masks")) -> tuple[SyntheticStream, dict[int, tuple]]:
    stream = SyntheticStream(
        scene, scenario=jitter, cameras=[TOP, PALLET], resolution=size, seed=SEED, frames=frames, targets=targets
    )
    return stream, {int(t["image_id"]): (image, t) for image, t in stream}


def assert_same_sample(a, b):
    (image_a, target_a), (image_b, target_b) = a, b
    assert torch.equal(image_a, image_b)
    assert target_a.keys() == target_b.keys()
    for key in target_a:
        assert torch.equal(target_a[key], target_b[key]), key


def test_basic_writer_recording_gives_the_streams_samples(scene, tmp_path):
    size, frames = (120, 90), 3
    flags = {"rgb": True, "instance_segmentation": True, "bounding_box_2d_tight": True, "distance_to_image_plane": True}
    flags |= {"semantic_segmentation": True, "normals": True}
    out = record(scene, tmp_path / "basic", config("BasicWriter", size, frames, basic_writer_params=flags), tmp_path)
    targets = ("boxes", "masks", "depth", "semantic")
    stream, samples = streamed(scene, size, frames, targets)
    dataset = RecordedDataset(out, targets, classes=stream.classes)
    assert dataset.cameras == ("top", "pallet") and len(dataset) == 6
    assert dataset.image_ids == list(range(6)) == sorted(samples)
    for index in range(len(dataset)):
        assert_same_sample(dataset[index], samples[dataset.image_ids[index]])
    normals = RecordedDataset(out, ("boxes", "normals"), classes=stream.classes)[0][1]["normals"]
    assert normals.shape == (3, 90, 120) and float(normals.abs().max()) <= 1.0  # from the colorized PNG
    images, batch = detection_collate([dataset[0], dataset[1]])
    assert len(images) == len(batch) == 2 and int(batch[1]["image_id"]) == 1


def test_a_recording_with_a_scenario_gives_the_streams_samples(scene, tmp_path, repo_root):
    scenario = repo_root / "config" / "scenarios" / "warehouse_offline.yaml"
    size, frames = (96, 72), 3
    flags = {"rgb": True, "instance_segmentation": True, "bounding_box_2d_tight": True}
    settings = config("BasicWriter", size, frames, basic_writer_params=flags)
    settings["sdg_studio"] = {"seed": SEED, "randomization": str(scenario)}
    out = record(scene, tmp_path / "scenario", settings, tmp_path)
    stream = SyntheticStream(scene, scenario=scenario, cameras=[TOP, PALLET], resolution=size, seed=SEED, frames=frames)
    samples = {int(t["image_id"]): (image, t) for image, t in stream}
    dataset = RecordedDataset(out, classes=stream.classes)
    assert dataset.image_ids == list(range(6)) == sorted(samples)
    for index in range(len(dataset)):
        assert_same_sample(dataset[index], samples[dataset.image_ids[index]])
    assert not torch.equal(samples[0][0], samples[2][0])  # frames 0 and 1 of the top camera differ


def test_isaac_sims_leaf_instances_and_boxes_give_the_same_masks(scene, tmp_path):
    """Masks from instance_id_segmentation (leaf prims) grouped under the box prims, as Isaac Sim writes it."""
    size, frames = (120, 90), 2
    flags = {"rgb": True, "instance_id_segmentation": True, "bounding_box_2d_tight": True}
    out = record(scene, tmp_path / "leaves", config("BasicWriter", size, frames, basic_writer_params=flags), tmp_path)
    stream, samples = streamed(scene, size, frames)
    dataset = RecordedDataset(out, classes=stream.classes)
    for index in range(len(dataset)):
        assert_same_sample(dataset[index], samples[dataset.image_ids[index]])


def test_coco_recording_gives_the_streams_samples(scene, tmp_path):
    size, frames = (120, 90), 2
    out = record(scene, tmp_path / "coco", config("CocoWriter", size, frames), tmp_path)
    stream, samples = streamed(scene, size, frames)
    dataset = RecordedDataset(out, classes=stream.classes)
    assert len(dataset) == 4
    for index in range(len(dataset)):
        assert_same_sample(dataset[index], samples[dataset.image_ids[index]])
    by_category = RecordedDataset(out)  # default: the COCO file's categories and ids
    names = by_category.classes.names
    _, target = by_category[0]
    assert [names[int(c)] for c in target["labels"]] == [
        stream.classes.names[int(c)] for c in samples[by_category.image_ids[0]][1]["labels"]
    ]


def test_kitti_recording_boxes_and_masks_are_the_streams(scene, tmp_path):
    """KITTI keeps boxes at least 25 px high; each, with the instance mask whose bounds match it, is the stream's."""
    size, frames = (320, 240), 2
    cfg = config("KittiWriter", size, frames)
    cfg["rp_data"] = cfg["rp_data"][:1]
    out = record(scene, tmp_path / "kitti", cfg, tmp_path)
    stream = SyntheticStream(scene, scenario=jitter_top, cameras=[TOP], resolution=size, seed=SEED, frames=frames)
    samples = {int(t["image_id"]): (image, t) for image, t in stream}
    dataset = RecordedDataset(out, classes=stream.classes)
    assert dataset.cameras == ("TopCam",) and len(dataset) == 2
    found = 0
    for index in range(len(dataset)):
        image, target = dataset[index]
        image_s, target_s = samples[dataset.image_ids[index]]
        assert torch.equal(image, image_s)
        stream_objects = zip(target_s["boxes"], target_s["labels"], target_s["masks"], strict=True)
        objects = {tuple(b.tolist()): (int(c), m) for b, c, m in stream_objects}
        for box, label, mask in zip(target["boxes"], target["labels"], target["masks"], strict=True):
            assert tuple(box.tolist()) in objects
            assert objects[tuple(box.tolist())][0] == int(label)
            assert torch.equal(objects[tuple(box.tolist())][1], mask)
            assert box[3] - box[1] >= 25
            found += 1
    assert found >= 4


def test_default_classes_are_the_labels_the_recording_holds_sorted(scene, tmp_path):
    flags = {"rgb": True, "instance_segmentation": True}
    out = record(scene, tmp_path / "labels", config("BasicWriter", (64, 48), 1, basic_writer_params=flags), tmp_path)
    dataset = RecordedDataset(out)
    names = list(dataset.classes.names.values())
    assert names == sorted(names) and {"pallet", "cardbox"} <= set(names)
    assert list(dataset.classes.names) == list(range(1, len(names) + 1))


def test_an_unreadable_file_is_named(scene, tmp_path):
    flags = {"rgb": True, "instance_segmentation": True}
    out = record(scene, tmp_path / "broken", config("BasicWriter", (64, 48), 1, basic_writer_params=flags), tmp_path)
    damaged = next(out.rglob("instance_segmentation_0000.png"))
    damaged.write_bytes(b"not a png")
    dataset = RecordedDataset(out, classes=["pallet"])
    with pytest.raises(RecordedDatasetError, match=r"instance_segmentation_0000\.png"):
        dataset[dataset.samples.index(next(s for s in dataset.samples if s[0] == damaged.parent.parent.name))]
    flags = {"rgb": True, "bounding_box_2d_tight": True}
    boxes_config = config("BasicWriter", (64, 48), 1, basic_writer_params=flags)
    only_boxes = record(scene, tmp_path / "boxes", boxes_config, tmp_path)
    with pytest.raises(RecordedDatasetError, match="masks need instance_segmentation"):
        RecordedDataset(only_boxes, classes=["pallet"])[0]
    assert np.isfinite(RecordedDataset(only_boxes, ("boxes",), classes=["pallet"])[0][1]["boxes"].numpy()).all()
