"""WebDatasetWriter: shards read back with the ``webdataset`` package equal the frames' targets; limits, resume."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import webdataset as wds
from frames import make_batch, make_frame
from online_scene import PALLET, TOP, label_warehouse, record

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.core.randomize import RandomizationEngine
from omni.sdg_studio.core.recorder.config import CameraJitter
from omni.sdg_studio.core.recorder.randomization import camera_jitter_scenario
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.targets import TargetClasses, frame_targets
from omni.sdg_studio.core.writers.webdataset_writer import INDEX_NAME, WebDatasetWriter

JITTER = {"position": 0.3, "rotation": 3.0}


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    return label_warehouse(tmp_path_factory.mktemp("scene"))


def read_back(folder: Path) -> list[dict]:
    """Every sample of the dataset, through ``webdataset`` (urls from the index)."""
    index = json.loads((folder / INDEX_NAME).read_text())
    urls = [str(folder / shard["url"]) for shard in index["shards"]]
    return list(wds.WebDataset(urls, shardshuffle=False, empty_check=False).decode("rgb8"))


def test_recorded_shards_read_back_as_the_frames_targets(scene, tmp_path):
    size, frames = (120, 90), 5
    width, height = size
    params = {"max_samples_per_shard": 3, "depth": True}
    config = {
        "num_frames": frames,
        "writer_name": "WebDatasetWriter",
        "rp_data": [[TOP, width, height, "top"], [PALLET, width, height, "pallet"]],
        "sdg_studio": {"seed": 4, "camera_jitter": JITTER, "writer_params": params},
    }
    out = record(scene, tmp_path / "wds", config, tmp_path)
    index = json.loads((out / INDEX_NAME).read_text())
    assert [s["url"] for s in index["shards"]] == [f"shard-{n:06d}.tar" for n in range(4)]
    assert [s["samples"] for s in index["shards"]] == [3, 3, 3, 1] and index["samples"] == 10
    assert index["urls"] == "shard-{000000..000003}.tar"
    assert sorted(p.name for p in out.glob("*.tar")) == [s["url"] for s in index["shards"]]
    samples = read_back(out)
    assert [s["__key__"] for s in samples] == [f"{f:06d}_{rp}" for f in range(frames) for rp in ("top", "pallet")]

    stage = open_stage(scene)
    classes = TargetClasses.of_stage(stage)
    jitter = RandomizationEngine(stage, camera_jitter_scenario(CameraJitter(**JITTER), [TOP, PALLET]), seed=4)
    backend = EmbeddedBackend(stage)
    names = {int(k): v for k, v in index["classes"].items()}
    for sample in samples:
        meta = sample["json"]
        camera = {"top": TOP, "pallet": PALLET}[meta["render_product"]]
        assert meta["camera"] == camera and (meta["width"], meta["height"]) == size
        jitter.apply(meta["frame"])
        frame = backend.render(camera, size, ["rgb", "instance_segmentation", "distance_to_image_plane"])
        expected = frame_targets(frame, classes, ("boxes", "masks", "depth"))
        np.testing.assert_array_equal(sample["png"], expected.image)
        np.testing.assert_array_equal(np.array(meta["boxes"], np.float32).reshape(-1, 4), expected.boxes)
        assert meta["class_names"] == list(expected.class_names) == [names[c] for c in meta["labels"]]
        assert meta["prim_paths"] == list(expected.prim_paths)
        np.testing.assert_array_equal(sample["masks.npz"]["masks"], expected.masks.astype(np.uint8))
        np.testing.assert_array_equal(sample["depth.npy"], expected.depth)

    manifest = json.loads((out / "sdg_manifest.json").read_text())
    assert [f["index"] for f in manifest["frames"]] == list(range(frames))
    assert INDEX_NAME in manifest["end_files"]
    listed = {p for f in manifest["frames"] for p in f["files"]}
    assert listed == {s["url"] for s in index["shards"]}


def write(folder: Path, indices, **kw) -> WebDatasetWriter:
    writer = WebDatasetWriter(folder, **kw)
    for index in indices:
        writer.write(make_batch(index, ("left", "right")))
    writer.finish()
    return writer


def test_a_shard_stays_under_the_byte_limit_unless_one_sample_is_larger(tmp_path):
    with tarfile.open(write(tmp_path / "probe", [0]).output_dir / "shard-000000.tar") as tar:
        assert len(tar.getmembers()) == 6  # two samples (png, json, masks.npz each)
    limit = 9000
    writer = write(tmp_path / "limited", range(6), max_shard_bytes=limit)
    index = writer.index_document()
    for entry in index["shards"]:
        with tarfile.open(writer.output_dir / entry["url"]) as tar:
            members = tar.getmembers()
        payload = sum(512 + -(-m.size // 512) * 512 for m in members)
        assert payload <= limit or entry["samples"] == 1
    assert sum(s["samples"] for s in index["shards"]) == 12 and len(index["shards"]) > 2


def test_the_same_frames_give_byte_identical_shards(tmp_path):
    a = write(tmp_path / "a", range(4), max_samples_per_shard=3, workers=4)
    b = write(tmp_path / "b", range(4), max_samples_per_shard=3, workers=1)
    names = sorted(p.name for p in a.output_dir.glob("*.tar"))
    assert names == sorted(p.name for p in b.output_dir.glob("*.tar")) and len(names) == 3
    for name in names:
        assert (a.output_dir / name).read_bytes() == (b.output_dir / name).read_bytes()


def test_frames_count_as_written_only_in_closed_shards_and_resume_completes_them(tmp_path):
    writer = WebDatasetWriter(tmp_path, max_samples_per_shard=3)
    for index in range(4):  # 8 samples: shards of 3, 3, and 2 left open
        writer.write(make_batch(index, ("left", "right")))
    writer.flush()
    done = {f.index: [p.name for p in f.files] for f in writer.completed_frames()}
    assert done == {0: ["shard-000000.tar"], 1: ["shard-000000.tar", "shard-000001.tar"], 2: ["shard-000001.tar"]}
    writer.close()  # a crash: the open shard (frame 3) is dropped, nothing half-written stays
    assert {p.name for p in tmp_path.iterdir()} == {INDEX_NAME, "shard-000000.tar", "shard-000001.tar"}

    resumed = WebDatasetWriter(tmp_path, max_samples_per_shard=3, resume=True)
    for index in (3, 4):
        resumed.write(make_batch(index, ("left", "right")))
    resumed.finish()
    assert {f.index for f in resumed.completed_frames()} == {3, 4}
    keys = [s["__key__"] for s in read_back(tmp_path)]
    assert sorted(keys) == sorted(f"{f:06d}_{rp}" for f in range(5) for rp in ("left", "right"))
    assert len(keys) == len(set(keys))


def test_resume_drops_an_index_entry_whose_shard_never_landed(tmp_path):
    write(tmp_path, range(2), max_samples_per_shard=2)
    index = json.loads((tmp_path / INDEX_NAME).read_text())
    (tmp_path / index["shards"][-1]["url"]).unlink()  # index written, rename never happened
    resumed = WebDatasetWriter(tmp_path, max_samples_per_shard=2, resume=True)
    resumed.write(make_batch(1, ("left", "right")))
    resumed.finish()
    index = json.loads((tmp_path / INDEX_NAME).read_text())
    assert [s["url"] for s in index["shards"]] == ["shard-000000.tar", "shard-000001.tar"]
    assert sorted(s["__key__"] for s in read_back(tmp_path)) == sorted(
        f"{f:06d}_{rp}" for f in range(2) for rp in ("left", "right")
    )


def test_one_render_product_keys_are_frame_numbers_and_masks_can_be_left_out(tmp_path):
    writer = WebDatasetWriter(tmp_path, masks=False)
    writer.write(make_batch(7))
    writer.finish()
    (sample,) = read_back(tmp_path)
    assert sample["__key__"] == "000007" and "masks.npz" not in sample
    expected = frame_targets(make_frame(), TargetClasses(writer.classes), ("boxes",))
    assert sample["json"]["boxes"] == expected.boxes.tolist()
