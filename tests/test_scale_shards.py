"""Shards (``record --shard K/M``) and ``merge``: the merged dataset is the one a single run writes, byte for byte.

The stage (tests/shard_stages.py) brings labels into view at different frames, so each shard meets them in
another order than the single run and every writer's class ids must be made the run's by the merge.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

pytest.importorskip("omni.sdg_studio.backends.embedded")

from dataset_compare import assert_same_dataset, file_digests
from shard_stages import CAMERA, LABELS, VISIBLE

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.core.recorder.cli_options import RecordOptions
from omni.sdg_studio.core.recorder.config import RecorderConfig
from omni.sdg_studio.core.recorder.job import JobState
from omni.sdg_studio.core.recorder.manifest import Manifest
from omni.sdg_studio.core.recorder.merge import MergeError, PlaceMode, merge_shards
from omni.sdg_studio.core.recorder.recording import Recording, RecordingBackend, prepare_recording
from omni.sdg_studio.core.recorder.shards import ShardSpec, ShardSpecError
from omni.sdg_studio.core.render_backend import RenderProduct

EMBEDDED = RecordingBackend(EmbeddedBackend, SUPPORTED_ANNOTATORS)
FRAMES = len(VISIBLE)
WRITERS = ("BasicWriter", "CocoWriter", "KittiWriter", "YoloWriter", "WebDatasetWriter")
#: Writer parameters that make each writer write everything that depends on class ids.
PARAMS: dict[str, dict[str, object]] = {
    "BasicWriter": {
        "rgb": True,
        "semantic_segmentation": True,
        "instance_segmentation": True,
        "bounding_box_2d_tight": True,
        "colorize_semantic_segmentation": False,
    },
    "CocoWriter": {},
    "KittiWriter": {"bbox_height_threshold": 1},
    "YoloWriter": {"val_fraction": 0.4},
    "WebDatasetWriter": {"max_samples_per_shard": 2, "depth": True},
}


pytestmark = pytest.mark.usefixtures("fixed_clock")


@pytest.fixture(scope="module")
def stage(label_order_stage: Path) -> Path:
    return label_order_stage


def config(writer: str, out: Path, seed: int = 5) -> RecorderConfig:
    recorder_config = RecorderConfig(control_timeline=True)
    RecordOptions([f"{CAMERA}:64x48"], FRAMES, writer, None, out, None, seed).apply(recorder_config)
    recorder_config.writer_params = dict(PARAMS[writer]) if writer != "BasicWriter" else {}
    if writer == "BasicWriter":
        recorder_config.basic_writer_params.update(PARAMS[writer])  # type: ignore[arg-type]
    return recorder_config


def record(stage: Path, writer: str, out: Path, shard: ShardSpec | None = None, seed: int = 5) -> Recording:
    recording = prepare_recording(stage, config(writer, out, seed), EMBEDDED, shard=shard)
    assert recording.job.run() is JobState.FINISHED, recording.job.message
    return recording


def record_shards(stage: Path, writer: str, root: Path, count: int) -> list[Path]:
    folders = [root / ShardSpec(k, count).folder_name() for k in range(count)]
    for k, folder in enumerate(folders):
        record(stage, writer, folder, ShardSpec(k, count))
    return folders


@pytest.fixture(scope="module")
def singles(stage: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One single-process recording per writer."""
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        root = tmp_path_factory.mktemp("single")
        return {writer: record(stage, writer, root / writer).output_dir for writer in WRITERS}
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


# -- shard ranges -------------------------------------------------------------------------------------------
def test_shards_cover_every_frame_once_in_contiguous_ranges() -> None:
    for total in (1, 2, 7, 9, 100, 1001):
        for count in range(1, min(total, 17) + 1):
            ranges = [ShardSpec(k, count).frames(total) for k in range(count)]
            assert [i for r in ranges for i in r] == list(range(total))
            assert max(map(len, ranges)) - min(map(len, ranges)) <= 1


@pytest.mark.parametrize("text", ["3", "1/0", "3/3", "-1/2", "a/b", "1/2/3"])
def test_a_malformed_shard_is_refused(text: str) -> None:
    with pytest.raises(ShardSpecError, match="--shard"):
        ShardSpec.parse(text)


def test_a_shard_needs_frames_of_its_own(stage: Path, tmp_path: Path) -> None:
    recorder_config = config("BasicWriter", tmp_path / "out")
    recorder_config.frames = 2
    with pytest.raises(ShardSpecError, match="at least 3 frames"):
        prepare_recording(stage, recorder_config, EMBEDDED, shard=ShardSpec(0, 3))
    assert not (tmp_path / "out").exists()


def test_the_stage_meets_labels_in_other_orders_in_each_shard(stage: Path, tmp_path: Path) -> None:
    """The premise of the byte-identity tests below: the shards' class tables are not the single run's."""
    folders = record_shards(stage, "CocoWriter", tmp_path, 3)
    tables = [list(Manifest.load(f).shard.classes.values()) for f in folders]  # type: ignore[union-attr]
    assert tables == [["zebra", "mango"], ["apple", "zebra", "mango", "kiwi"], ["kiwi", "pear", "zebra", "apple"]]
    assert sorted(set().union(*tables)) == sorted(LABELS)


# -- byte identity --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("count", [2, 3, 4])
def test_merged_shards_are_the_single_run_byte_for_byte(
    stage: Path, singles: dict[str, Path], tmp_path: Path, writer: str, count: int
) -> None:
    folders = record_shards(stage, writer, tmp_path, count)
    manifest = merge_shards(folders, tmp_path / "merged")
    assert manifest.state == "finished" and sorted(manifest.frames) == list(range(FRAMES))
    files = assert_same_dataset(singles[writer], tmp_path / "merged")
    assert files >= 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".merged")]  # no assembly folder left


def test_coco_ids_of_the_merged_annotations_are_the_single_runs(
    singles: dict[str, Path], stage: Path, tmp_path: Path
) -> None:
    merge_shards(record_shards(stage, "CocoWriter", tmp_path, 3), tmp_path / "merged")
    name = next(p.name for p in singles["CocoWriter"].glob("coco_annotations_*.json"))
    single = json.loads((singles["CocoWriter"] / name).read_text())
    merged = json.loads((tmp_path / "merged" / name).read_text())
    assert [c["name"] for c in merged["categories"]] == ["zebra", "mango", "apple", "kiwi", "pear"]
    ids = [(a["id"], a["image_id"], a["category_id"]) for a in merged["annotations"]]
    assert ids == [(a["id"], a["image_id"], a["category_id"]) for a in single["annotations"]]
    assert len(ids) == sum(len(labels) for labels in VISIBLE)


@pytest.mark.parametrize("mode", list(PlaceMode))
def test_every_way_of_placing_files_gives_the_same_dataset(
    stage: Path, singles: dict[str, Path], tmp_path: Path, mode: PlaceMode
) -> None:
    folders = record_shards(stage, "YoloWriter", tmp_path, 3)
    before = {f: file_digests(f) for f in folders}
    merge_shards(folders, tmp_path / "merged", mode=mode)
    assert_same_dataset(singles["YoloWriter"], tmp_path / "merged")
    if mode is PlaceMode.MOVE:
        assert not [p for f in folders for p in (f / "images").rglob("*.png")]
    else:
        assert {f: file_digests(f) for f in folders} == before  # the shards are left as they were


def test_cli_shards_of_the_sample_scene_merge_into_the_single_run(repo_root: Path, tmp_path: Path, monkeypatch) -> None:
    """Three cameras, per-frame camera jitter, BasicWriter's multi-camera layout, through the commands."""
    from omni.sdg_studio.cli import main

    monkeypatch.chdir(tmp_path)
    scene = str(repo_root / "data" / "scenes" / "warehouse.usda")
    demo = str(repo_root / "config" / "recorder" / "demo.json")
    common = [scene, "--config", demo, "--frames", "5", "--resolution", "48x32", "--seed", "11"]
    assert main(["record", *common, "--out", "single"]) == 0
    for k in range(3):
        assert main(["record", *common, "--shard", f"{k}/3", "--out", f"part{k}"]) == 0
    assert main(["merge", "part2", "part0", "part1", "--out", "merged"]) == 0
    assert assert_same_dataset(tmp_path / "single", tmp_path / "merged") > 40


# -- refusals -------------------------------------------------------------------------------------------------
@pytest.fixture
def three_shards(stage: Path, tmp_path: Path) -> list[Path]:
    return record_shards(stage, "CocoWriter", tmp_path / "shards", 3)


def test_a_missing_shard_is_named_with_the_command_that_records_it(
    three_shards: list[Path], singles: dict[str, Path], tmp_path: Path, monkeypatch, capsys
) -> None:
    from omni.sdg_studio.cli import main

    with pytest.raises(MergeError, match=r"not every shard is named: 1/3 is in .*shard-00001-of-00003; name it too"):
        merge_shards([three_shards[0], three_shards[2]], tmp_path / "merged")
    shutil.rmtree(three_shards[1])
    with pytest.raises(MergeError, match=r"shard 1/3 missing; record with: sdg-studio record ") as caught:
        merge_shards([three_shards[0], three_shards[2]], tmp_path / "merged")
    assert not (tmp_path / "merged").exists()
    command = str(caught.value).split("record with: ", 1)[1]
    assert f"--config {three_shards[0] / 'sdg_manifest.json'} --shard 1/3 --out " in command
    monkeypatch.chdir(tmp_path)  # the command, as printed, records the missing shard
    args = command.split()[1:]
    assert main(args) == 0, capsys.readouterr().err
    redone = Path(args[args.index("--out") + 1])
    assert redone == three_shards[1]
    merge_shards(three_shards, tmp_path / "merged")
    assert_same_dataset(singles["CocoWriter"], tmp_path / "merged")


def test_a_shard_of_another_seed_is_refused(three_shards: list[Path], stage: Path, tmp_path: Path) -> None:
    other = record(stage, "CocoWriter", tmp_path / "other", ShardSpec(1, 3), seed=6).output_dir
    with pytest.raises(
        MergeError,
        match=r"other: not a shard of the recording in .*: seed, config\.sdg_studio\.seed differ "
        r"\(seed is 6 there, 5 in",
    ):
        merge_shards([three_shards[0], other, three_shards[2]], tmp_path / "merged")
    assert not (tmp_path / "merged").exists()


def test_a_shard_of_another_config_or_count_is_refused(three_shards: list[Path], stage: Path, tmp_path: Path) -> None:
    recorder_config = config("CocoWriter", tmp_path / "wide")
    recorder_config.render_products[0] = RenderProduct(CAMERA, 80, 48)
    prepare_recording(stage, recorder_config, EMBEDDED, shard=ShardSpec(1, 3)).job.run()
    with pytest.raises(MergeError, match=r"render_products, config\.rp_data differ"):
        merge_shards([three_shards[0], tmp_path / "wide", three_shards[2]], tmp_path / "merged")
    quarter = record(stage, "CocoWriter", tmp_path / "quarter", ShardSpec(1, 4)).output_dir
    with pytest.raises(MergeError, match="shard_count differs"):
        merge_shards([three_shards[0], quarter, three_shards[2]], tmp_path / "merged")


def test_an_unfinished_shard_is_named_with_its_resume_command(stage: Path, tmp_path: Path) -> None:
    folders = record_shards(stage, "BasicWriter", tmp_path, 3)
    stopped = prepare_recording(stage, config("BasicWriter", tmp_path / "stopped"), EMBEDDED, shard=ShardSpec(1, 3))
    stopped.job.subscribe_progress(lambda progress: stopped.job.stop())
    assert stopped.job.run() is JobState.STOPPED
    with pytest.raises(
        MergeError,
        match=r"shard 1/3 in .*stopped is not finished \(stopped\); "
        r"resume: sdg-studio record .* --out .*stopped --resume",
    ):
        merge_shards([folders[0], tmp_path / "stopped", folders[2]], tmp_path / "merged")
    resumed = prepare_recording(stage, config("BasicWriter", tmp_path / "stopped"), EMBEDDED, resume=True)
    assert resumed.manifest.shard is not None and resumed.manifest.shard.spec == ShardSpec(1, 3)
    assert resumed.job.run() is JobState.FINISHED
    merge_shards([folders[0], tmp_path / "stopped", folders[2]], tmp_path / "merged")
    reference = tmp_path / "reference"
    merge_shards(folders, reference)
    assert_same_dataset(reference, tmp_path / "merged")


def test_a_shard_with_a_lost_file_and_a_shard_given_twice_are_refused(three_shards: list[Path], tmp_path: Path) -> None:
    with pytest.raises(MergeError, match="shard 0/3 is given twice"):
        merge_shards([three_shards[0], *three_shards], tmp_path / "merged")
    next((three_shards[1] / "Replicator").glob("rgb_*.png")).unlink()
    with pytest.raises(MergeError, match=r"shard 1/3 in .* is not finished"):
        merge_shards(three_shards, tmp_path / "merged")


def test_a_whole_recording_and_a_used_output_folder_are_refused(
    three_shards: list[Path], singles, tmp_path: Path
) -> None:
    with pytest.raises(MergeError, match="recorded without --shard"):
        merge_shards([singles["CocoWriter"], *three_shards[1:]], tmp_path / "merged")
    (tmp_path / "merged").mkdir()
    (tmp_path / "merged" / "keep.txt").write_text("mine")
    with pytest.raises(MergeError, match="merged: folder is not empty"):
        merge_shards(three_shards, tmp_path / "merged")
    assert [p.name for p in (tmp_path / "merged").iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("mode", [PlaceMode.MOVE, PlaceMode.LINK])
def test_a_failed_merge_leaves_nothing_half_merged(stage: Path, tmp_path: Path, mode: PlaceMode) -> None:
    """A file every shard writes once differs in the last shard: the merge stops late, after placing most
    files; no dataset folder appears, nothing is left next to it and moved files are put back."""
    folders = record_shards(stage, "BasicWriter", tmp_path / "shards", 3)
    (folders[2] / "metadata.txt").write_text('{"changed": true}')
    before = {f: file_digests(f) for f in folders}
    with pytest.raises(MergeError, match=r"metadata\.txt differs between the shards"):
        merge_shards(folders, tmp_path / "out" / "merged", mode=mode)
    assert list((tmp_path / "out").iterdir()) == []
    assert {f: file_digests(f) for f in folders} == before


# -- per-frame record files ---------------------------------------------------------------------------------
def test_per_frame_record_files_are_concatenated_in_frame_order(stage: Path, tmp_path: Path) -> None:
    folders = record_shards(stage, "BasicWriter", tmp_path, 3)
    lines = {f: [] for f in folders}
    for folder in folders:
        record = Manifest.load(folder).shard
        assert record is not None
        lines[folder] = [json.dumps({"frame": i, "camera": [i, 0.5]}) + "\n" for i in record.frames]
        (folder / "sdg_randomization.jsonl").write_text("".join(lines[folder]))
    merge_shards(folders, tmp_path / "merged")
    merged = (tmp_path / "merged" / "sdg_randomization.jsonl").read_text()
    assert merged == "".join(lines[folders[0]] + lines[folders[1]] + lines[folders[2]])
    assert [json.loads(line)["frame"] for line in merged.splitlines()] == list(range(FRAMES))

    (folders[1] / "sdg_randomization.jsonl").write_text(json.dumps({"frame": 0}) + "\n")
    with pytest.raises(MergeError, match=r"sdg_randomization\.jsonl:1: frame 0 is outside shard 1/3's frames 3\.\.5"):
        merge_shards(folders, tmp_path / "again")
