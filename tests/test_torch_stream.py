"""``SyntheticStream``: torchvision's target layout, worker sharding, determinism, scenarios, bad input."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
import torch
from online_scene import CAMERAS, PALLET, TOP, label_warehouse
from pxr import Gf, UsdGeom
from torch.utils.data import DataLoader

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.core.config_document import ConfigError
from omni.sdg_studio.core.randomize import RandomizationEngine
from omni.sdg_studio.core.recorder.config import CameraJitter
from omni.sdg_studio.core.recorder.randomization import camera_jitter_scenario
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.targets import TargetClasses, frame_targets, target_annotators
from omni.sdg_studio.torch import StreamError, SyntheticStream, detection_collate

RESOLUTION = (96, 72)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return label_warehouse(tmp_path_factory.mktemp("scene"))


JITTER = camera_jitter_scenario(CameraJitter(position=0.3, rotation=3.0), [TOP, PALLET])


def jitter(stage, seed):
    """A scenario factory: the recorder's camera jitter, bound to this process's stage."""
    return RandomizationEngine(stage, JITTER, seed=seed)


def test_samples_follow_torchvisions_detection_layout(scene):
    stream = SyntheticStream(scene, cameras=[TOP], resolution=RESOLUTION, frames=1, targets=("masks", "depth"))
    (image, target), = list(stream)
    width, height = RESOLUTION
    assert image.shape == (3, height, width) and image.dtype == torch.float32
    assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
    count = len(target["labels"])
    assert count > 10
    assert target["boxes"].shape == (count, 4) and target["boxes"].dtype == torch.float32
    assert target["labels"].dtype == torch.int64 and int(target["labels"].min()) >= 1
    assert target["masks"].shape == (count, height, width) and target["masks"].dtype == torch.uint8
    assert target["image_id"].dtype == torch.int64 and int(target["image_id"]) == 0
    assert target["depth"].shape == (height, width) and target["depth"].dtype == torch.float32
    assert set(target) == {"boxes", "labels", "masks", "image_id", "depth"}


def test_stream_targets_equal_targets_recomputed_from_the_same_frame(scene):
    """The stream's tensors are the annotators' frame through frame_targets, and boxes are mask bounds."""
    stream = SyntheticStream(scene, resolution=RESOLUTION, frames=1)
    classes = TargetClasses.of_stage(open_stage(scene))
    assert stream.classes.names == classes.names and stream.cameras == CAMERAS
    backend = EmbeddedBackend(open_stage(scene))
    for position, (image, target) in enumerate(stream):
        frame = backend.render(CAMERAS[position], RESOLUTION, target_annotators(("boxes", "masks")))
        expected = frame_targets(frame, classes, ("boxes", "masks"))
        np.testing.assert_array_equal(image.permute(1, 2, 0).mul(255).round().byte().numpy(), expected.image)
        np.testing.assert_array_equal(target["boxes"].numpy(), expected.boxes)
        np.testing.assert_array_equal(target["labels"].numpy(), expected.labels)
        np.testing.assert_array_equal(target["masks"].numpy().astype(bool), expected.masks)
        masks = target["masks"].numpy().astype(bool)
        assert masks.any(axis=(1, 2)).all()
        for box, mask in zip(target["boxes"].numpy(), masks, strict=True):
            ys, xs = np.nonzero(mask)
            assert np.abs(box - (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)).max() <= 1
        assert set(target["labels"].tolist()) <= set(classes.names)
        assert int(target["image_id"]) == position


def test_two_workers_render_disjoint_frames_without_gaps_in_order(scene):
    stream = SyntheticStream(scene, cameras=[TOP, PALLET], resolution=RESOLUTION, frames=7)
    loader = DataLoader(stream, batch_size=2, num_workers=2, collate_fn=detection_collate)
    batches = [[int(t["image_id"]) for t in targets] for _, targets in loader]
    ids = [i for batch in batches for i in batch]
    assert sorted(ids) == list(range(14)) and len(set(ids)) == 14  # 7 frames x 2 cameras, once each
    # a batch holds one frame's two cameras; worker k renders frames k, k + 2, k + 4, ... and the
    # loader takes batches from the workers in turn
    assert [batch[0] // 2 for batch in batches] == list(range(7))
    assert len(stream) == 14


def test_two_runs_yield_identical_tensors(scene):
    def run() -> list:
        stream = SyntheticStream(scene, scenario=jitter, cameras=[TOP, PALLET], resolution=RESOLUTION, seed=3, frames=3)
        return list(DataLoader(stream, batch_size=None, num_workers=2))

    first, second = run(), run()
    assert len(first) == len(second) == 6
    for (image_a, target_a), (image_b, target_b) in zip(first, second, strict=True):
        assert torch.equal(image_a, image_b)
        assert target_a.keys() == target_b.keys() and all(torch.equal(target_a[k], target_b[k]) for k in target_a)


def test_a_frame_is_a_function_of_seed_and_index_only(scene):
    stream = SyntheticStream(scene, scenario=jitter, cameras=[TOP], resolution=RESOLUTION, seed=3, frames=4)
    in_order = list(stream)
    alone = SyntheticStream(scene, scenario=jitter, cameras=[TOP], resolution=RESOLUTION, seed=3).frame(2)[0]
    assert torch.equal(alone[0], in_order[2][0]) and torch.equal(alone[1]["boxes"], in_order[2][1]["boxes"])
    assert not torch.equal(in_order[1][0], in_order[2][0])  # the jitter moves the camera every frame
    other_seed = SyntheticStream(scene, scenario=jitter, cameras=[TOP], resolution=RESOLUTION, seed=4).frame(2)[0]
    assert not torch.equal(other_seed[0], in_order[2][0])


def test_a_scenario_file_is_bound_by_each_worker_to_its_own_stage(scene, repo_root):
    scenario = repo_root / "config" / "scenarios" / "warehouse_offline.yaml"
    stream = SyntheticStream(scene, scenario=scenario, cameras=[TOP], resolution=(48, 36), seed=5, frames=4)
    assert len(pickle.dumps(stream)) < 20_000  # the file's path travels, not the parsed scenario
    loaded = list(DataLoader(stream, batch_size=None, num_workers=2))
    alone = [stream.frame(index)[0] for index in range(4)]
    for (image_a, target_a), (image_b, target_b) in zip(loaded, alone, strict=True):
        assert torch.equal(image_a, image_b) and torch.equal(target_a["boxes"], target_b["boxes"])
    assert all(not torch.equal(alone[i][0], alone[i + 1][0]) for i in range(3))  # every frame differs
    stream.close()
    scenario_seed = SyntheticStream(scene, scenario=scenario, cameras=[TOP], resolution=(48, 36)).frame(1)[0]
    seed_42 = SyntheticStream(scene, scenario=scenario, cameras=[TOP], resolution=(48, 36), seed=42).frame(1)[0]
    assert torch.equal(scenario_seed[0], seed_42[0])  # without a seed, the file's (42)


def test_only_settings_are_pickled_for_workers(scene):
    stream = SyntheticStream(scene, scenario=jitter, cameras=[TOP], resolution=RESOLUTION, frames=2)
    list(stream)  # this process now holds a stage, a renderer and a scenario
    copy = pickle.loads(pickle.dumps(stream))
    assert len(pickle.dumps(stream)) < 20_000 and copy._state is None
    assert [int(t["image_id"]) for _, t in copy] == [0, 1]


def test_an_endless_stream_keeps_going(scene):
    stream = SyntheticStream(scene, cameras=[TOP], resolution=(32, 24))
    samples = list(itertools.islice(iter(stream), 5))
    assert [int(t["image_id"]) for _, t in samples] == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="endless"):
        len(stream)


def test_a_scenario_object_edits_the_open_stage_it_was_made_for(scene):
    stage = open_stage(scene)
    scenario = RandomizationEngine(stage, camera_jitter_scenario(CameraJitter(position=0.5), [TOP]), seed=1)
    stream = SyntheticStream(stage, scenario=scenario, cameras=[TOP], resolution=RESOLUTION, frames=2)
    moved = [image for image, _ in stream]
    assert not torch.equal(moved[0], moved[1])
    before = UsdGeom.Xformable(stage.GetPrimAtPath(TOP)).GetLocalTransformation()
    stream.close()
    after = UsdGeom.Xformable(stage.GetPrimAtPath(TOP)).GetLocalTransformation()
    assert not Gf.IsClose(before, after, 1e-9)  # restore() took the jitter layer away
    with pytest.raises(StreamError, match=r"open Usd\.Stage cannot"):
        list(DataLoader(stream, batch_size=None, num_workers=1, multiprocessing_context="spawn"))


def test_bad_arguments_get_one_clear_error(scene, tmp_path):
    with pytest.raises(StreamError, match="resolution"):
        SyntheticStream(scene, resolution=(0, 10))
    with pytest.raises(StreamError, match="'/World/Nothing' is not a camera prim"):
        SyntheticStream(scene, cameras=["/World/Nothing"])
    with pytest.raises(StreamError, match="backend 'cycles'"):
        SyntheticStream(scene, backend="cycles")
    with pytest.raises(StreamError, match="frames"):
        SyntheticStream(scene, frames=-1)
    with pytest.raises(StreamError, match="targets: unknown target 'keypoints'"):
        SyntheticStream(scene, targets=("keypoints",))
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text("randomizers:\n  - {type: pose, select: /World/Forklift, position: {relative_to: /No}}\n")
    with pytest.raises(ConfigError, match=r"scenario\.yaml:2:.*randomizers\[0\]\.position\.relative_to: .*/No is not"):
        SyntheticStream(scene, scenario=scenario_file, cameras=[TOP])  # checked on the stage before any worker starts
    with pytest.raises(StreamError, match="no such file"):
        SyntheticStream(scene, scenario=tmp_path / "missing.yaml")
    stage = open_stage(scene)
    with pytest.raises(StreamError, match="a scenario object edits the stage it was made for"):
        SyntheticStream(scene, scenario=RandomizationEngine(stage, camera_jitter_scenario(CameraJitter(0.1), [TOP])))
    with pytest.raises(StreamError, match="not an object with apply/restore"):
        SyntheticStream(scene, scenario=lambda stage, seed: None, cameras=[TOP], resolution=(8, 8)).frame(0)


def test_classes_from_names_a_rules_file_or_a_table(scene, repo_root):
    by_names = SyntheticStream(scene, cameras=[TOP], resolution=RESOLUTION, frames=1, classes=["pallet", "cardbox"])
    (_, target), = list(by_names)
    assert set(target["labels"].tolist()) == {1, 2}
    rules = repo_root / "config" / "rules" / "warehouse.yaml"
    by_rules = SyntheticStream(scene, cameras=[TOP], resolution=RESOLUTION, classes=rules)
    assert by_rules.classes.names[6] == "forklift" and by_rules.classes.num_classes == 14
