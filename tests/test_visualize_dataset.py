import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import visualize_samples as samples
from PIL import Image

from omni.sdg_studio.core.colors import stable_color
from omni.sdg_studio.core.visualize.contact_sheet import contact_sheet, sample_frames
from omni.sdg_studio.core.visualize.dataset import DatasetError
from omni.sdg_studio.core.visualize.dataset_basic import parse_file_name
from omni.sdg_studio.core.visualize.open_dataset import open_dataset
from omni.sdg_studio.core.visualize.summary import summarize
from omni.sdg_studio.core.visualize.tiles import ShownImage, TileStatus, Unreadable, render_tiles

GOLDEN = Path("/work/shared/anchors/replicator_golden")
needs_golden = pytest.mark.skipif(not GOLDEN.exists(), reason="shared golden samples not present")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("rgb_0000.png", ("rgb", "data", "0000", None)),
        ("bounding_box_2d_tight_labels_0012.json", ("bounding_box_2d_tight", "labels", "0012", None)),
        ("bounding_box_3d_prim_paths_0001.json", ("bounding_box_3d", "prim_paths", "0001", None)),
        ("instance_segmentation_semantics_mapping_0002.json", ("instance_segmentation", "semantics", "0002", None)),
        ("rgb_3_0007.png", ("rgb", "data", "3_0007", None)),
        ("rgb_0.066667.png", ("rgb", "data", "0.066667", None)),
        ("Cam_A_rgb_0000.png", ("rgb", "data", "0000", "Cam_A")),
        ("pointcloud_rgb_0004.npy", ("pointcloud", "pointRgb", "0004", None)),
    ],
)
def test_file_names_parse(name, expected):
    parsed = parse_file_name(name)
    assert parsed is not None
    assert (parsed.annotator, parsed.role, parsed.frame, parsed.product) == expected


@pytest.mark.parametrize("name", ["metadata.txt", "notes_0000.txt", "rgb.png", "readme_0001.png"])
def test_other_names_do_not_parse(name):
    assert parse_file_name(name) is None


@pytest.mark.parametrize("colorize", [True, False])
def test_single_product_folder_reads_back_every_annotator(tmp_path, colorize):
    frames = [samples.frame(0), samples.frame(3)]
    samples.write_basic_writer(tmp_path, frames, colorize=colorize)
    dataset = open_dataset(tmp_path)
    assert dataset.kind == "BasicWriter" and dataset.cameras == [""]
    assert dataset.frames("") == ["0000", "0001"]
    loaded = dataset.load("", "0001")
    np.testing.assert_array_equal(loaded["rgb"], frames[1]["rgb"])
    np.testing.assert_array_equal(loaded["distance_to_image_plane"], frames[1]["distance_to_image_plane"])
    np.testing.assert_array_equal(loaded["bounding_box_2d_tight"]["data"], frames[1]["bounding_box_2d_tight"]["data"])
    assert (
        loaded["bounding_box_2d_tight"]["info"]["primPaths"] == frames[1]["bounding_box_2d_tight"]["info"]["primPaths"]
    )
    assert isinstance(loaded["normals"], ShownImage)
    tiles = {t.name: t for t in render_tiles(loaded)}
    assert all(t.status is TileStatus.OK for t in tiles.values()), [(t.name, t.note) for t in tiles.values()]
    # the semantic tile shows our stable colors whatever colors the writer used
    _, label, x0, y0, *_ = samples.RECTS[0]
    assert tuple(tiles["semantic_segmentation"].image[y0, x0 + 3]) == stable_color(label)


@pytest.mark.parametrize("common", [False, True])
def test_several_products_give_one_camera_each(tmp_path, common):
    samples.write_basic_writer(
        tmp_path, [samples.frame()], products=["Cam_Left", "Replicator_01"], common_output_dir=common
    )
    dataset = open_dataset(tmp_path)
    assert dataset.cameras == ["Cam_Left", "Replicator_01"]
    assert dataset.camera("Cam_Left") == "Cam_Left"
    with pytest.raises(DatasetError, match="pick one with --camera"):
        dataset.camera(None)
    loaded = dataset.load("Replicator_01", "0000")
    assert set(loaded) >= {"rgb", "semantic_segmentation", "bounding_box_3d", "camera_params"}
    assert not dataset.unknown_files


def test_validator_style_camera_path_folders(tmp_path):
    # Isaac Sim's benchmark validator renames RP folders to camera paths: <cam path>/rgb/rgb_0000.png
    samples.write_basic_writer(tmp_path, [samples.frame()], products=["World/Cameras/TopCam"])
    dataset = open_dataset(tmp_path)
    assert dataset.cameras == ["World/Cameras/TopCam"]
    assert dataset.camera("TopCam") == "World/Cameras/TopCam"


def test_timestamped_frames_sort_by_time_and_frame_picks_by_index(tmp_path):
    image = np.zeros((4, 4, 4), np.uint8)
    for stamp in ("0.100000", "0.033333", "0.066667"):
        Image.fromarray(image, "RGBA").save(tmp_path / f"rgb_{stamp}.png")
    (tmp_path / "metadata.txt").write_text('{"name": "TimestampedBasicWriter", "version": "0.0.2"}')
    dataset = open_dataset(tmp_path)
    assert dataset.kind == "TimestampedBasicWriter"
    assert dataset.frames("") == ["0.033333", "0.066667", "0.100000"]
    assert dataset.frame("", 1) == "0.066667"


def test_frame_numbers_follow_file_names(tmp_path):
    samples.write_basic_writer(tmp_path, [samples.frame(i) for i in range(3)])
    dataset = open_dataset(tmp_path)
    assert dataset.frame("", 2) == "0002" and dataset.frame("", None) == "0000"
    with pytest.raises(DatasetError, match="no frame 7"):
        dataset.frame("", 7)


@needs_golden
def test_golden_colorized_semantic_labels_read_with_their_classes(tmp_path):
    labels = json.loads((GOLDEN / "deformable_drop/semantic_segmentation_labels_0000.json").read_text())
    shutil.copy(GOLDEN / "deformable_drop/semantic_segmentation_labels_0000.json", tmp_path)
    keys = list(labels)
    ids = np.repeat(np.arange(len(keys))[None, :], 3, axis=0)
    rgba = np.array([[int(v) for v in k.strip("()").split(",")] for k in keys], np.uint8)[ids]
    Image.fromarray(rgba, "RGBA").save(tmp_path / "semantic_segmentation_0000.png")
    loaded = open_dataset(tmp_path).load("", "0000")
    tile = render_tiles(loaded)[0]
    assert tile.status is TileStatus.OK
    assert {e.label for e in tile.legend} == {"BACKGROUND", "UNLABELLED", "banana", "crate", "large_marker"}
    assert {e.label: e.count for e in tile.legend}["banana"] == 3
    assert tuple(tile.image[0, keys.index("(35, 198, 233, 255)")]) == stable_color("banana")


@needs_golden
def test_golden_depth_and_metadata_read_as_a_dataset(tmp_path):
    for name in ("distance_to_image_plane_0000.npy", "metadata.txt"):
        shutil.copy(GOLDEN / "behaviors_sdg" / name, tmp_path)
    dataset = open_dataset(tmp_path)
    assert dataset.kind == "BasicWriter"
    depth = dataset.load("", "0000")["distance_to_image_plane"]
    assert depth.shape == (512, 512) and depth.dtype == np.float32
    tile = render_tiles({"distance_to_image_plane": depth})[0]
    assert tile.status is TileStatus.OK and tile.image.shape == (512, 512, 4)
    assert tile.note.startswith(f"auto {float(depth.min()):.3g}..{float(depth.max()):.3g}")


def test_not_a_dataset_says_what_was_expected(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DatasetError, match="not a dataset"):
        open_dataset(tmp_path)
    with pytest.raises(DatasetError, match="no such folder"):
        open_dataset(tmp_path / "missing")
    with pytest.raises(DatasetError, match="not a folder"):
        open_dataset(tmp_path / "notes.txt")


def test_broken_files_are_marked_and_the_rest_still_shows(tmp_path):
    samples.write_basic_writer(tmp_path, [samples.frame(), samples.frame(1)])
    rgb = tmp_path / "rgb_0001.png"
    rgb.write_bytes(rgb.read_bytes()[:60])  # truncated
    (tmp_path / "semantic_segmentation_labels_0001.json").unlink()
    (tmp_path / "bounding_box_2d_tight_prim_paths_0001.json").write_text('["/only/one"]')
    (tmp_path / "camera_params_0001.json").write_text('{"cameraProjection": [1, 2,')
    (tmp_path / "distance_to_image_plane_0001.npy").unlink()
    (tmp_path / "stray_notes.txt").write_text("?")
    dataset = open_dataset(tmp_path)
    loaded = dataset.load("", "0001")
    message = {name: value.message for name, value in loaded.items() if isinstance(value, Unreadable)}
    assert message["rgb"].startswith(f"{rgb}: unreadable")
    assert "semantic_segmentation_labels_0001.json" in message["semantic_segmentation"]
    assert "1 prim paths for 2 boxes" in message["bounding_box_2d_tight"]
    assert "invalid JSON at line 1" in message["camera_params"]
    assert "no file for frame 0001" in message["distance_to_image_plane"]
    assert dataset.unknown_files == [tmp_path / "stray_notes.txt"]
    tiles = {t.name: t for t in render_tiles(loaded)}
    assert tiles["normals"].status is TileStatus.OK and tiles["occlusion"].status is TileStatus.OK
    assert tiles["rgb"].status is TileStatus.ERROR and str(rgb) in tiles["rgb"].note


def test_a_size_mismatch_names_both_files(tmp_path):
    samples.write_basic_writer(tmp_path, [samples.frame()])
    Image.fromarray(np.zeros((8, 8), np.uint16)).save(tmp_path / "instance_id_segmentation_0000.png")
    loaded = open_dataset(tmp_path).load("", "0000")
    assert loaded["instance_id_segmentation"].message == (
        f"{tmp_path / 'instance_id_segmentation_0000.png'}: size 8x8 differs from rgb_0000.png "
        f"({samples.WIDTH}x{samples.HEIGHT})"
    )


def test_summary_counts_frames_files_classes_and_empty_frames(tmp_path):
    frames = [samples.frame(i) for i in range(3)]
    empty = samples.frame()
    empty["bounding_box_2d_tight"]["data"] = empty["bounding_box_2d_tight"]["data"][:0]
    empty["bounding_box_2d_tight"]["info"]["primPaths"] = []
    samples.write_basic_writer(tmp_path, [*frames, empty])
    summary = summarize(open_dataset(tmp_path))
    assert summary.frame_count == 4 and len(summary.cameras) == 1
    files = summary.cameras[0].files_per_annotator
    assert files["rgb"] == 4 and files["bounding_box_2d_tight"] == 12 and files["semantic_segmentation"] == 8
    assert dict(summary.class_histograms["bounding_box_2d_tight"]) == {"crate": 3, "pallet": 3}
    assert summary.frames_without_labels == [("", "0003")]


def test_contact_sheet_has_one_thumbnail_per_sampled_frame(tmp_path):
    samples.write_basic_writer(tmp_path, [samples.frame(i) for i in range(5)], products=["A", "B"])
    dataset = open_dataset(tmp_path)
    calls = []
    sheet = contact_sheet(dataset, dataset.cameras, limit=3, max_tile=96, on_frame=lambda: calls.append(1))
    assert len(calls) == 6
    assert sheet.ndim == 3 and sheet.shape[2] == 4 and (sheet[..., 3] == 255).all()
    assert sample_frames(list("abcdefghij"), 4) == ["a", "d", "g", "j"]
    assert sample_frames(list("ab"), 5) == ["a", "b"]


def _write_kitti(root: Path, frames: int = 2) -> None:
    data = samples.frame()
    for sub in ("rgb", "object_detection", "depth", "semantic_segmentation"):
        (root / "TopCam" / sub).mkdir(parents=True)
    for i in range(frames):
        Image.fromarray(data["rgb"][:, :, :3], "RGB").save(root / "TopCam" / "rgb" / f"{i}.png")
        lines = [
            f"class:{label} 0.00 1 0.00 {x0}.00 {y0}.00 {x1}.00 {y1}.00 0.00 0.00 0.00 0.00 0.00 0.00 0.00"
            for _, label, x0, y0, x1, y1, *_ in samples.RECTS
        ]
        (root / "TopCam" / "object_detection" / f"{i}.txt").write_text("\n".join(lines) + "\n")
        depth = data["distance_to_image_plane"]
        encoded = np.where(np.isfinite(depth), np.nan_to_num(depth, posinf=0) * 256, 0).astype(np.uint16)
        Image.fromarray(encoded).save(root / "TopCam" / "depth" / f"{i}.png")
        Image.fromarray(data["rgb"][:, :, :3], "RGB").save(root / "TopCam" / "semantic_segmentation" / f"{i}.png")


def test_kitti_output_reads_boxes_depth_and_pictures(tmp_path):
    _write_kitti(tmp_path)
    dataset = open_dataset(tmp_path)
    assert dataset.kind == "KittiWriter" and dataset.cameras == ["TopCam"] and dataset.frames("TopCam") == ["0", "1"]
    loaded = dataset.load("TopCam", "1")
    boxes = loaded["bounding_box_2d_tight"]["data"]
    assert [tuple(int(v) for v in (r["x_min"], r["y_min"], r["x_max"], r["y_max"])) for r in boxes] == [
        tuple(rect[2:6]) for rect in samples.RECTS
    ]
    depth = loaded["distance_to_image_plane"]
    expected = samples.frame()["distance_to_image_plane"]
    assert np.isinf(depth[0, 0]) and np.allclose(depth[np.isfinite(expected)], expected[np.isfinite(expected)])
    tiles = {t.name: t for t in render_tiles(loaded)}
    assert all(t.status is TileStatus.OK for t in tiles.values()), [(t.name, t.note) for t in tiles.values()]
    assert {e.label for e in tiles["bounding_box_2d_tight"].legend} == {"crate", "pallet"}
    summary = summarize(dataset)
    assert dict(summary.class_histograms["object_detection"]) == {"crate": 2, "pallet": 2}


def test_kitti_label_line_with_wrong_columns_names_file_and_line(tmp_path):
    _write_kitti(tmp_path, frames=1)
    (tmp_path / "TopCam" / "object_detection" / "0.txt").write_text("crate 0 1 0 1 2 3 4 0 0 0\n")
    loaded = open_dataset(tmp_path).load("TopCam", "0")
    message = loaded["bounding_box_2d_tight"].message
    assert "0.txt" in message and "line 1: 11 columns" in message


def test_coco_output_reads_boxes_and_rle_masks_checked_against_pycocotools(tmp_path):
    mask_util = pytest.importorskip("pycocotools.mask")
    data = samples.frame()
    (tmp_path / "Replicator").mkdir()
    Image.fromarray(data["rgb"], "RGBA").save(tmp_path / "Replicator" / "rgb_Camera_0.0000.png")
    annotations, categories = [], []
    for i, (sid, label, x0, y0, x1, y1, *_) in enumerate(samples.RECTS):
        mask = np.asfortranarray((data["semantic_segmentation"]["data"] == sid).astype(np.uint8))
        rle = mask_util.encode(mask)
        rle["counts"] = rle["counts"].decode("ascii")
        bbox = [x0, y0, x1 - x0 + 1, y1 - y0 + 1]
        annotations.append(
            {"id": i + 1, "image_id": 7, "category_id": sid, "bbox": bbox, "area": 1, "iscrowd": 0, "segmentation": rle}
        )
        categories.append({"id": sid, "name": label, "supercategory": label})
    images = [
        {"id": 7, "file_name": "Replicator/rgb_Camera_0.0000.png", "height": samples.HEIGHT, "width": samples.WIDTH}
    ]
    document = {"images": images, "annotations": annotations, "categories": categories}
    (tmp_path / "coco_annotations_0.json").write_text(json.dumps(document))
    dataset = open_dataset(tmp_path)
    assert dataset.kind == "COCO" and dataset.cameras == ["Replicator"] and dataset.frames("Replicator") == ["0000"]
    loaded = dataset.load("Replicator", "0000")
    rows = loaded["bounding_box_2d_tight"]["data"]
    assert [(int(r["x_min"]), int(r["y_max"])) for r in rows] == [(r[2], r[5]) for r in samples.RECTS]
    ids = loaded["semantic_segmentation"]["data"]
    np.testing.assert_array_equal(
        ids, np.where(data["semantic_segmentation"]["data"] > 1, data["semantic_segmentation"]["data"], 0)
    )
    tiles = {t.name: t for t in render_tiles(loaded)}
    assert all(t.status is TileStatus.OK for t in tiles.values())
    assert {e.label for e in tiles["semantic_segmentation"].legend} == {"BACKGROUND", "crate", "pallet"}


def test_rle_strings_from_pycocotools_decode_to_the_encoded_mask():
    mask_util = pytest.importorskip("pycocotools.mask")
    from omni.sdg_studio.core.visualize.dataset_coco import decode_rle

    rng = np.random.default_rng(3)
    for shape in ((1, 1), (7, 5), (40, 33)):
        mask = np.asfortranarray((rng.random(shape) > 0.6).astype(np.uint8))
        rle = mask_util.encode(mask)
        np.testing.assert_array_equal(decode_rle({"size": rle["size"], "counts": rle["counts"].decode()}), mask == 1)
    with pytest.raises(ValueError, match="RLE runs cover"):
        decode_rle({"size": [2, 2], "counts": [1, 1]})
