"""``record --ray`` on a local Ray of 2 CPUs (one cluster for the module): the same bytes as one process,
also when a task's worker dies part way through its shard and Ray runs the task again."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytest.importorskip("omni.sdg_studio.backends.embedded")

import ray
from dataset_compare import assert_same_dataset
from shard_stages import VISIBLE
from test_scale_shards import EMBEDDED, config

from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.recorder.recording import prepare_recording
from omni.sdg_studio.distributed.ray_record import KILL_HOOK, RayProgress, record_on_ray

FRAMES = len(VISIBLE)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """A local Ray of 2 CPUs for the module (record_on_ray uses a Ray this process started)."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield
    ray.shutdown()


pytestmark = pytest.mark.usefixtures("fixed_clock")


@pytest.fixture(scope="module")
def stage(label_order_stage: Path) -> Path:
    return label_order_stage


def single_run(stage: Path, writer: str, out: Path) -> Path:
    recording = prepare_recording(stage, config(writer, out), EMBEDDED)
    assert recording.job.run() is JobState.FINISHED
    return recording.output_dir


@pytest.mark.parametrize("writer", ["BasicWriter", "CocoWriter"])
def test_two_ray_workers_write_the_single_runs_bytes(stage: Path, tmp_path: Path, writer: str) -> None:
    single = single_run(stage, writer, tmp_path / "single")
    reports: list[RayProgress] = []
    manifest = record_on_ray(stage, config(writer, tmp_path / "ray"), workers=2, on_progress=reports.append)
    assert manifest.output_dir == (tmp_path / "ray").resolve()
    assert assert_same_dataset(single, tmp_path / "ray") > 10
    assert reports[-1] == RayProgress(FRAMES, FRAMES)
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    assert not (tmp_path / "ray.shards").exists()
    assert len(manifest.runs) == 2  # one run per shard


def test_a_task_killed_mid_shard_is_retried_and_the_dataset_is_the_same(
    stage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    single = single_run(stage, "CocoWriter", tmp_path / "single")
    marker = tmp_path / "killed"
    monkeypatch.setenv(KILL_HOOK, f"1:2:{marker}")  # shard 1/2's worker exits after 2 of its 4 frames
    record_on_ray(stage, config("CocoWriter", tmp_path / "ray"), workers=2)
    assert marker.exists()  # the worker did die
    assert_same_dataset(single, tmp_path / "ray")


def test_cli_ray_records_the_sample_scene_as_one_process_does(repo_root: Path, tmp_path: Path, monkeypatch) -> None:
    from omni.sdg_studio.cli import main

    monkeypatch.chdir(tmp_path)
    scene = str(repo_root / "data" / "scenes" / "warehouse.usda")
    demo = str(repo_root / "config" / "recorder" / "demo.json")
    common = [
        scene,
        "--config",
        demo,
        "--frames",
        "4",
        "--resolution",
        "48x32",
        "--seed",
        "2",
        "--writer",
        "CocoWriter",
    ]
    assert main(["record", *common, "--out", "single"]) == 0
    assert main(["record", *common, "--ray", "--workers", "2", "--out", "ray"]) == 0
    assert_same_dataset(tmp_path / "single", tmp_path / "ray")


def test_a_shard_that_fails_with_an_error_is_named(stage: Path, tmp_path: Path) -> None:
    from omni.sdg_studio.distributed.ray_record import RayRecordingError

    recorder_config = config("BasicWriter", tmp_path / "ray")
    recorder_config.render_products[0] = type(recorder_config.render_products[0])("/World/NotACamera", 64, 48)
    with pytest.raises(RayRecordingError, match=r"shard 0/2: nothing to record(.|\n)*/World/NotACamera: no prim"):
        record_on_ray(stage, recorder_config, workers=2, strict=True)
    assert not (tmp_path / "ray").exists()


def test_the_synthetic_stream_as_a_ray_dataset_gives_the_streams_samples(stage: Path) -> None:
    pytest.importorskip("ray.data")
    pytest.importorskip("torch")
    import numpy as np

    from omni.sdg_studio.distributed.ray_stream import synthetic_dataset
    from omni.sdg_studio.torch.stream import SyntheticStream

    stream = SyntheticStream(str(stage), resolution=(48, 32), frames=3, classes=["zebra", "mango"], seed=1)
    rows = sorted(synthetic_dataset(stream, workers=2).take_all(), key=lambda row: int(row["image_id"]))
    assert [int(row["image_id"]) for row in rows] == [0, 1, 2]
    for row in rows:
        image, target = stream.frame(int(row["image_id"]))[0]
        assert np.array_equal(row["image"], image.numpy())
        for name in ("boxes", "labels", "masks"):
            assert np.array_equal(row[name], target[name].numpy()), name
    assert rows[0]["masks"].shape[1:] == (32, 48) and len(rows[0]["labels"]) >= 1
