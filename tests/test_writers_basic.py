"""BasicWriter output checked file by file against the documented layout and Replicator's golden samples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from frames import HEIGHT, WIDTH, make_batch, make_frame
from PIL import Image

from omni.sdg_studio.core.annotators.formats import BBOX2D_DTYPE, BBOX3D_DTYPE, CAMERA_PARAMS_KEYS, OCCLUSION_DTYPE
from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.colors import paint_ids, stable_color
from omni.sdg_studio.core.writers.base import FrameBatch
from omni.sdg_studio.core.writers.basic_writer import ANNOTATOR_FLAGS, BasicWriter
from omni.sdg_studio.core.writers.file_writer import FrameDataError
from omni.sdg_studio.core.writers.params import WriterParamError

GOLDEN = Path("/work/shared/anchors/replicator_golden")
if not GOLDEN.exists():  # the anchors live next to the checkout in CI
    GOLDEN = Path(__file__).resolve().parents[2] / "shared" / "anchors" / "replicator_golden"
needs_golden = pytest.mark.skipif(not GOLDEN.exists(), reason="Replicator golden samples not available")

#: Files per annotator per frame, written out from recorder_writers.md section 3.2 (with colorize_depth).
DOCUMENTED_FILES = {
    "rgb": ["rgb_{n}.png"],
    "bounding_box_2d_tight": [
        "bounding_box_2d_tight_{n}.npy",
        "bounding_box_2d_tight_labels_{n}.json",
        "bounding_box_2d_tight_prim_paths_{n}.json",
    ],
    "bounding_box_2d_loose": [
        "bounding_box_2d_loose_{n}.npy",
        "bounding_box_2d_loose_labels_{n}.json",
        "bounding_box_2d_loose_prim_paths_{n}.json",
    ],
    "semantic_segmentation": ["semantic_segmentation_{n}.png", "semantic_segmentation_labels_{n}.json"],
    "instance_id_segmentation": ["instance_id_segmentation_{n}.png", "instance_id_segmentation_mapping_{n}.json"],
    "instance_segmentation": [
        "instance_segmentation_{n}.png",
        "instance_segmentation_mapping_{n}.json",
        "instance_segmentation_semantics_mapping_{n}.json",
    ],
    "distance_to_camera": ["distance_to_camera_{n}.npy", "distance_to_camera_{n}.png"],
    "distance_to_image_plane": ["distance_to_image_plane_{n}.npy", "distance_to_image_plane_{n}.png"],
    "bounding_box_3d": [
        "bounding_box_3d_{n}.npy",
        "bounding_box_3d_labels_{n}.json",
        "bounding_box_3d_prim_paths_{n}.json",
    ],
    "occlusion": ["occlusion_{n}.npy"],
    "normals": ["normals_{n}.png"],
    "motion_vectors": ["motion_vectors_{n}.npy"],
    "camera_params": ["camera_params_{n}.json"],
    "pointcloud": [
        "pointcloud_{n}.npy",
        "pointcloud_rgb_{n}.npy",
        "pointcloud_normals_{n}.npy",
        "pointcloud_semantic_{n}.npy",
        "pointcloud_instance_{n}.npy",
    ],
}
#: Isaac Sim's recorder test table (EXPECTED_FILES_PER_FRAME_BY_ANNOTATOR, skeleton_data left out).
ISAAC_COUNTS = {
    "rgb": {"png": 1},
    "bounding_box_2d_tight": {"npy": 1, "json": 2},
    "bounding_box_2d_loose": {"npy": 1, "json": 2},
    "semantic_segmentation": {"png": 1, "json": 1},
    "instance_id_segmentation": {"png": 1, "json": 1},
    "instance_segmentation": {"png": 1, "json": 2},
    "distance_to_camera": {"npy": 1, "png": 1},
    "distance_to_image_plane": {"npy": 1, "png": 1},
    "bounding_box_3d": {"npy": 1, "json": 2},
    "occlusion": {"npy": 1},
    "normals": {"png": 1},
    "motion_vectors": {"npy": 1},
    "camera_params": {"json": 1},
    "pointcloud": {"npy": 5},
}
ALL_FLAGS = {flag: True for flag in ANNOTATOR_FLAGS}
RGBA_KEY = re.compile(r"^\((\d{1,3}), (\d{1,3}), (\d{1,3}), (\d{1,3})\)$")


def record(out: Path, frames: int = 2, rp_names=("Replicator",), **params) -> BasicWriter:
    writer = BasicWriter(out, **params)
    for index in range(frames):
        writer.write(make_batch(index, rp_names))
    writer.finish()
    return writer


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_single_render_product_writes_every_documented_file_flat(tmp_path):
    record(tmp_path, frames=2, **ALL_FLAGS, colorize_depth=True)
    expected = {"metadata.txt"}
    for names in DOCUMENTED_FILES.values():
        expected |= {name.format(n=n) for name in names for n in ("0000", "0001")}
    assert files_under(tmp_path) == expected


def test_file_counts_match_isaac_recorder_table(tmp_path):
    frames = 3
    record(tmp_path, frames=frames, **ALL_FLAGS, colorize_depth=True)
    counts: dict[str, int] = {}
    for name in files_under(tmp_path):
        ext = name.rsplit(".", 1)[1]
        counts[ext] = counts.get(ext, 0) + 1
    expected: dict[str, int] = {"txt": 1}
    for per_frame in ISAAC_COUNTS.values():
        for ext, count in per_frame.items():
            expected[ext] = expected.get(ext, 0) + count * frames
    assert counts == expected


def test_several_render_products_get_their_own_folders(tmp_path):
    record(tmp_path, frames=1, rp_names=("my_rp_name", "Replicator_01"), rgb=True, bounding_box_2d_tight=True)
    assert files_under(tmp_path) == {
        "metadata.txt",
        *(
            f"{rp}/{path}"
            for rp in ("my_rp_name", "Replicator_01")
            for path in (
                "rgb/rgb_0000.png",
                "bounding_box_2d_tight/bounding_box_2d_tight_0000.npy",
                "bounding_box_2d_tight/bounding_box_2d_tight_labels_0000.json",
                "bounding_box_2d_tight/bounding_box_2d_tight_prim_paths_0000.json",
            )
        ),
    }


def test_use_common_output_dir_prefixes_files_with_the_render_product(tmp_path):
    record(
        tmp_path, frames=1, rp_names=("left", "right"), rgb=True, distance_to_camera=True, use_common_output_dir=True
    )
    assert files_under(tmp_path) == {
        "metadata.txt",
        "rgb/left_rgb_0000.png",
        "rgb/right_rgb_0000.png",
        "distance_to_camera/left_distance_to_camera_0000.npy",
        "distance_to_camera/right_distance_to_camera_0000.npy",
    }


def test_use_common_output_dir_is_ignored_for_one_render_product(tmp_path):
    record(tmp_path, frames=1, rgb=True, use_common_output_dir=True)
    assert files_under(tmp_path) == {"metadata.txt", "rgb_0000.png"}


@needs_golden
def test_metadata_is_byte_identical_to_replicator_golden(tmp_path):
    golden = (GOLDEN / "behaviors_sdg" / "metadata.txt").read_bytes()
    seed = json.loads(golden)["replicator_global_seed:"]
    record(tmp_path, frames=1, rgb=True, seed=seed)
    assert (tmp_path / "metadata.txt").read_bytes() == golden


def test_frame_padding_and_image_format(tmp_path):
    record(tmp_path, frames=1, rgb=True, frame_padding=6, image_output_format="jpg")
    assert files_under(tmp_path) == {"metadata.txt", "rgb_000000.jpg"}
    with Image.open(tmp_path / "rgb_000000.jpg") as image:
        assert image.format == "JPEG" and image.size == (WIDTH, HEIGHT)


def test_frame_numbers_come_from_the_batch_index(tmp_path):
    writer = BasicWriter(tmp_path, rgb=True)
    writer.write(make_batch(41))
    writer.finish()
    assert files_under(tmp_path) == {"metadata.txt", "rgb_0041.png"}


def test_rgb_is_lossless_rgba(tmp_path):
    record(tmp_path, frames=1, rgb=True)
    with Image.open(tmp_path / "rgb_0000.png") as image:
        assert image.mode == "RGBA"
        np.testing.assert_array_equal(np.asarray(image), make_frame()["rgb"])


@needs_golden
def test_depth_npy_matches_golden_dtype_and_input(tmp_path):
    golden = np.load(GOLDEN / "behaviors_sdg" / "distance_to_image_plane_0000.npy")
    record(tmp_path, frames=1, distance_to_image_plane=True, distance_to_camera=True)
    for name in ("distance_to_image_plane", "distance_to_camera"):
        written = np.load(tmp_path / f"{name}_0000.npy")
        assert written.dtype.str == golden.dtype.str == "<f4"
        assert written.ndim == golden.ndim == 2 and written.shape == (HEIGHT, WIDTH)
        np.testing.assert_array_equal(written, make_frame()[name])


def test_depth_preview_is_bright_near_dark_far_and_zero_without_hit(tmp_path):
    record(tmp_path, frames=1, distance_to_camera=True, colorize_depth=True)
    depth = make_frame()["distance_to_camera"]
    with Image.open(tmp_path / "distance_to_camera_0000.png") as image:
        gray = np.asarray(image)
    assert gray.shape == depth.shape and gray.dtype == np.uint8
    assert (gray[~np.isfinite(depth)] == 0).all()
    near, far = depth[np.isfinite(depth)].min(), depth[np.isfinite(depth)].max()
    assert gray[depth == near].min() > gray[depth == far].max() > 0


def test_bounding_boxes_npy_and_json_shapes(tmp_path):
    record(tmp_path, frames=1, bounding_box_2d_tight=True, bounding_box_2d_loose=True, bounding_box_3d=True)
    frame = make_frame()
    for name, dtype in (
        ("bounding_box_2d_tight", BBOX2D_DTYPE),
        ("bounding_box_2d_loose", BBOX2D_DTYPE),
        ("bounding_box_3d", BBOX3D_DTYPE),
    ):
        rows = np.load(tmp_path / f"{name}_0000.npy")
        assert rows.dtype == dtype
        np.testing.assert_array_equal(rows, frame[name]["data"])
        labels = json.loads((tmp_path / f"{name}_labels_0000.json").read_text())
        paths = json.loads((tmp_path / f"{name}_prim_paths_0000.json").read_text())
        assert paths == frame[name]["info"]["primPaths"] and len(paths) == len(rows)
        # keyed by the npy semanticId as a string, value {"class": label}
        assert set(labels) == {str(row["semanticId"]) for row in rows}
        assert labels["2"] == {"class": "crate"} and labels["3"] == {"class": "forklift"}


def test_occlusion_motion_vectors_and_pointcloud_npys(tmp_path):
    record(tmp_path, frames=1, occlusion=True, motion_vectors=True, pointcloud=True)
    frame = make_frame()
    assert np.load(tmp_path / "occlusion_0000.npy").dtype == OCCLUSION_DTYPE
    motion = np.load(tmp_path / "motion_vectors_0000.npy")
    assert motion.dtype == np.float32 and motion.shape == (HEIGHT, WIDTH, 4)
    points = frame["pointcloud"]["data"]
    n = len(points)
    np.testing.assert_array_equal(np.load(tmp_path / "pointcloud_0000.npy"), points)
    assert np.load(tmp_path / "pointcloud_rgb_0000.npy").shape == (n, 4)
    assert np.load(tmp_path / "pointcloud_normals_0000.npy").shape == (n, 4)
    assert np.load(tmp_path / "pointcloud_semantic_0000.npy").shape == (n,)
    assert np.load(tmp_path / "pointcloud_instance_0000.npy").shape == (n,)


def test_pointcloud_include_unlabelled_reaches_the_annotator_request(tmp_path):
    writer = BasicWriter(tmp_path, pointcloud=True, pointcloud_include_unlabelled=True)
    (request,) = writer.annotators
    assert request.name == "pointcloud" and request.include_unlabelled
    writer.close()


def test_camera_params_json_has_every_key_as_plain_json(tmp_path):
    record(tmp_path, frames=1, camera_params=True)
    params = json.loads((tmp_path / "camera_params_0000.json").read_text())
    assert list(params) == list(CAMERA_PARAMS_KEYS)
    assert len(params["cameraViewTransform"]) == 16 and params["cameraModel"] == "pinhole"
    assert params["renderProductResolution"] == [WIDTH, HEIGHT]


def read_labels(path: Path) -> dict:
    return json.loads(path.read_text())


def color_of(key: str) -> tuple[int, ...]:
    match = RGBA_KEY.match(key)
    assert match, f"label key {key!r} is not '(r, g, b, a)'"
    return tuple(int(v) for v in match.groups())


@needs_golden
def test_colorized_semantic_labels_have_the_golden_shape(tmp_path):
    golden = read_labels(GOLDEN / "deformable_drop" / "semantic_segmentation_labels_0000.json")
    record(tmp_path, frames=1, semantic_segmentation=True)
    ours = read_labels(tmp_path / "semantic_segmentation_labels_0000.json")
    for labels in (golden, ours):
        assert all(RGBA_KEY.match(key) for key in labels)
        assert all(isinstance(v, dict) and set(v) == {"class"} for v in labels.values())
        assert labels["(0, 0, 0, 0)"] == {"class": "BACKGROUND"}
        assert labels["(0, 0, 0, 255)"] == {"class": "UNLABELLED"}
    assert sorted(v["class"] for v in ours.values()) == ["BACKGROUND", "UNLABELLED", "crate", "forklift"]


def test_colorized_semantic_png_paints_each_class_with_its_key_color(tmp_path):
    record(tmp_path, frames=1, semantic_segmentation=True)
    labels = read_labels(tmp_path / "semantic_segmentation_labels_0000.json")
    frame = make_frame()["semantic_segmentation"]
    ids, id_labels = frame["data"], frame["info"]["idToLabels"]
    with Image.open(tmp_path / "semantic_segmentation_0000.png") as image:
        assert image.mode == "RGBA"
        pixels = np.asarray(image)
    by_class = {value["class"]: color_of(key) for key, value in labels.items()}
    for key, value in id_labels.items():
        mask = ids == int(key)
        if mask.any():
            assert (pixels[mask] == by_class[value["class"]]).all(), value


def hashed_classes(*names: str) -> ClassTable:
    """Classes ``names`` in order, ids from 1, each with its label's hashed color."""
    return ClassTable([LabelClass(name, i + 1, stable_color(name)) for i, name in enumerate(names)])


def test_class_colors_come_from_the_class_table_and_are_stable(tmp_path):
    table = ClassTable([LabelClass("crate", 7, (10, 20, 30, 255)), LabelClass("forklift", 9, (200, 100, 0, 255))])
    record(tmp_path / "a", frames=2, semantic_segmentation=True, classes=table)
    record(tmp_path / "b", frames=1, semantic_segmentation=True, classes=hashed_classes("forklift", "crate"))
    record(tmp_path / "c", frames=1, semantic_segmentation=True, classes=hashed_classes("crate", "forklift"))
    first = read_labels(tmp_path / "a" / "semantic_segmentation_labels_0000.json")
    assert first["(10, 20, 30, 255)"] == {"class": "crate"}
    assert first["(200, 100, 0, 255)"] == {"class": "forklift"}
    assert read_labels(tmp_path / "a" / "semantic_segmentation_labels_0001.json") == first
    # hashed colors do not depend on the order classes are listed in, nor on the run
    assert read_labels(tmp_path / "b" / "semantic_segmentation_labels_0000.json") == read_labels(
        tmp_path / "c" / "semantic_segmentation_labels_0000.json"
    )


def test_uncolorized_segmentation_is_16_bit_ids_with_string_keys(tmp_path):
    record(
        tmp_path,
        frames=1,
        semantic_segmentation=True,
        instance_id_segmentation=True,
        instance_segmentation=True,
        colorize_semantic_segmentation=False,
        colorize_instance_id_segmentation=False,
        colorize_instance_segmentation=False,
    )
    frame = make_frame()
    for name, mapping_file in (
        ("semantic_segmentation", "semantic_segmentation_labels"),
        ("instance_id_segmentation", "instance_id_segmentation_mapping"),
        ("instance_segmentation", "instance_segmentation_mapping"),
    ):
        with Image.open(tmp_path / f"{name}_0000.png") as image:
            assert image.mode == "I;16"
            np.testing.assert_array_equal(np.asarray(image).astype(np.uint32), frame[name]["data"])
        mapping = read_labels(tmp_path / f"{mapping_file}_0000.json")
        assert mapping == {str(k): v for k, v in frame[name]["info"]["idToLabels"].items()}
    semantics = read_labels(tmp_path / "instance_segmentation_semantics_mapping_0000.json")
    assert semantics["0"] == {"class": "BACKGROUND"} and semantics["2"] == {"class": "crate"}


def test_colorized_instance_maps_key_prim_paths_by_color(tmp_path):
    record(tmp_path, frames=1, instance_id_segmentation=True, instance_segmentation=True)
    frame = make_frame()
    for name, mapping_file in (
        ("instance_id_segmentation", "instance_id_segmentation_mapping"),
        ("instance_segmentation", "instance_segmentation_mapping"),
    ):
        mapping = read_labels(tmp_path / f"{mapping_file}_0000.json")
        with Image.open(tmp_path / f"{name}_0000.png") as image:
            pixels = np.asarray(image)
        by_path = {path: color_of(key) for key, path in mapping.items()}
        assert len(by_path) == len(mapping)  # one color per prim
        assert by_path["BACKGROUND"] == (0, 0, 0, 0)
        for key, path in frame[name]["info"]["idToLabels"].items():
            mask = frame[name]["data"] == key
            if mask.any():
                assert (pixels[mask] == by_path[path]).all(), path
    semantics = read_labels(tmp_path / "instance_segmentation_semantics_mapping_0000.json")
    mapping = read_labels(tmp_path / "instance_segmentation_mapping_0000.json")
    assert {mapping[key]: value["class"] for key, value in semantics.items()}["/World/Forklift"] == "forklift"


def test_instance_colors_are_the_same_in_every_frame_and_run(tmp_path):
    record(tmp_path / "a", frames=2, instance_segmentation=True)
    record(tmp_path / "b", frames=1, instance_segmentation=True)
    first = read_labels(tmp_path / "a" / "instance_segmentation_mapping_0000.json")
    assert read_labels(tmp_path / "a" / "instance_segmentation_mapping_0001.json") == first
    assert read_labels(tmp_path / "b" / "instance_segmentation_mapping_0000.json") == first


def test_normals_png_maps_unit_z_to_blue(tmp_path):
    record(tmp_path, frames=1, normals=True)
    with Image.open(tmp_path / "normals_0000.png") as image:
        pixels = np.asarray(image)
    facing = make_frame()["normals"][..., 2] == 1.0
    assert (pixels[facing] == (128, 128, 255, 255)).all()


def test_missing_annotator_is_named(tmp_path):
    writer = BasicWriter(tmp_path, rgb=True, normals=True)
    batch = make_batch(0, ("cam",))
    del batch.products["cam"]["normals"]
    with pytest.raises(FrameDataError, match=r"frame 0, render product 'cam': annotator 'normals' is missing"):
        writer.write(batch)
    writer.close()
    assert not any(tmp_path.iterdir())


def test_bad_annotator_data_is_named(tmp_path):
    writer = BasicWriter(tmp_path, rgb=True)
    batch = FrameBatch(0, {"cam": {"rgb": np.zeros((4, 4, 3), np.uint8)}})
    with pytest.raises(FrameDataError, match=r"render product 'cam': rgb: shape"):
        writer.write(batch)
    writer.close()


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"s3_bucket": "bucket"}, "s3_bucket"),
        ({"skeleton_data": True}, "skeleton_data"),
        ({"frame_padding": -1}, "frame_padding"),
        ({"image_output_format": "gif"}, "image_output_format"),
        ({"semantic_types": ["class"], "semantic_filter_predicate": "class:*"}, "semantic_filter_predicate"),
        ({"semantic_filter_predicate": "class:car & !truck"}, "semantic_filter_predicate"),
        ({"output_dir": None}, "output_dir"),
    ],
)
def test_invalid_parameters_name_the_parameter(tmp_path, params, param):
    params = {"output_dir": tmp_path, **params}
    with pytest.raises(WriterParamError) as caught:
        BasicWriter(**params)
    assert caught.value.param == param and f"'{param}'" in str(caught.value)


def test_semantic_types_reach_the_requests(tmp_path):
    writer = BasicWriter(tmp_path, semantic_segmentation=True, semantic_filter_predicate="class:*; coco:*")
    assert writer.annotators[0].semantic_types == ("class", "coco")
    writer.close()


def test_colorizing_huge_sparse_ids_matches_the_dense_path():
    ids = np.array([[0, 5, 5], [7, 0, 9]], np.uint32)
    palette = {0: (0, 0, 0, 0), 5: (1, 2, 3, 255), 7: (4, 5, 6, 255)}
    expected = np.array([[palette[0], palette[5], palette[5]], [palette[7], palette[0], (0, 0, 0, 0)]], np.uint8)
    np.testing.assert_array_equal(paint_ids(ids, palette), expected)
    shift = np.uint32(3_000_000_000)
    huge = np.where(ids > 0, ids + shift, 0).astype(np.uint32)
    huge_palette = {k + int(shift) if k else 0: v for k, v in palette.items()}
    np.testing.assert_array_equal(paint_ids(huge, huge_palette), expected)
