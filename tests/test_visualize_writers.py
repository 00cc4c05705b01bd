"""The viewer reads what our own writers write (BasicWriter, KITTI, COCO) from embedded-backend renders."""

from __future__ import annotations

from pathlib import Path

import pytest

from omni.sdg_studio.backends.embedded import EmbeddedBackend
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.visualize.contact_sheet import contact_sheet
from omni.sdg_studio.core.visualize.open_dataset import open_dataset
from omni.sdg_studio.core.visualize.summary import summarize
from omni.sdg_studio.core.visualize.tiles import TileStatus, render_tiles
from omni.sdg_studio.core.writers import BasicWriter, CocoWriter, FrameBatch, KittiWriter

CAMERAS = {"TopCam": "/World/Cameras/TopCam", "PalletCam": "/World/Cameras/PalletCam"}
SIZE = (80, 60)
ALL_BASIC = (
    "rgb",
    "bounding_box_2d_tight",
    "bounding_box_2d_loose",
    "semantic_segmentation",
    "instance_id_segmentation",
    "instance_segmentation",
    "distance_to_camera",
    "distance_to_image_plane",
    "bounding_box_3d",
    "occlusion",
    "normals",
    "camera_params",
    "pointcloud",
)


@pytest.fixture(scope="module")
def batches(sample_scene) -> list[FrameBatch]:
    backend = EmbeddedBackend(open_stage(sample_scene))
    products = {name: RenderProduct(path, *SIZE, name) for name, path in CAMERAS.items()}
    frames = {name: backend.render(product.camera, SIZE, list(ALL_BASIC)) for name, product in products.items()}
    backend.close()
    return [FrameBatch(index, dict(frames), products) for index in range(2)]


def _record(writer, batches) -> None:
    for batch in batches:
        writer.write(batch)
    writer.finish()


@pytest.mark.parametrize("colorize", [True, False])
def test_our_basic_writer_output_reads_back_with_every_tile_drawn(tmp_path, batches, colorize):
    flags = dict.fromkeys(ALL_BASIC, True)
    writer = BasicWriter(
        tmp_path,
        **flags,
        colorize_semantic_segmentation=colorize,
        colorize_instance_id_segmentation=colorize,
        colorize_instance_segmentation=colorize,
    )
    _record(writer, batches)
    dataset = open_dataset(tmp_path)
    assert dataset.kind == "BasicWriter" and sorted(dataset.cameras) == sorted(CAMERAS)
    assert dataset.frames("TopCam") == ["0000", "0001"]
    assert not dataset.unknown_files, dataset.unknown_files
    loaded = dataset.load("TopCam", "0001")
    tiles = {t.name: t for t in render_tiles(loaded)}
    problems = {name: t.note for name, t in tiles.items() if t.status is not TileStatus.OK}
    assert not problems
    rendered = batches[1].products["TopCam"]
    expected_labels = {v["class"] for v in rendered["semantic_segmentation"]["info"]["idToLabels"].values()}
    assert {e.label for e in tiles["semantic_segmentation"].legend} == expected_labels
    boxes = rendered["bounding_box_2d_tight"]["data"]
    assert tiles["bounding_box_2d_tight"].note.startswith(f"{len(boxes)} box")
    summary = summarize(dataset)
    assert summary.frame_count == 4
    assert sum(summary.class_histograms["bounding_box_2d_tight"].values()) == 2 * sum(
        len(batch.products[name]["bounding_box_2d_tight"]["data"]) for batch in batches[:1] for name in CAMERAS
    )


def test_our_kitti_output_reads_back(tmp_path, batches):
    _record(KittiWriter(tmp_path), batches)
    dataset = open_dataset(tmp_path)
    assert dataset.kind == "KittiWriter" and len(dataset.cameras) == 2
    camera = dataset.camera("TopCam")
    tiles = {t.name: t for t in render_tiles(dataset.load(camera, "1"))}
    assert {"rgb", "bounding_box_2d_tight"} <= set(tiles)
    assert all(t.status is TileStatus.OK for t in tiles.values()), {n: t.note for n, t in tiles.items()}


def test_our_coco_output_reads_back_with_masks(tmp_path, batches):
    writer = CocoWriter(tmp_path)
    _record(writer, batches)
    dataset = open_dataset(tmp_path)
    assert dataset.kind == "COCO" and sorted(dataset.cameras) == sorted(CAMERAS)
    frame = dataset.frames("TopCam")[-1]
    loaded = dataset.load("TopCam", frame)
    tiles = {t.name: t for t in render_tiles(loaded)}
    assert all(t.status is TileStatus.OK for t in tiles.values()), {n: t.note for n, t in tiles.items()}
    assert "semantic_segmentation" in tiles, "our COCO writer writes RLE masks"
    box_labels = {e.label for e in tiles["bounding_box_2d_tight"].legend}
    assert box_labels <= {e.label for e in tiles["semantic_segmentation"].legend}


def test_contact_sheet_of_our_recording(tmp_path: Path, batches):
    _record(BasicWriter(tmp_path, rgb=True, bounding_box_2d_tight=True), batches)
    dataset = open_dataset(tmp_path)
    sheet = contact_sheet(dataset, dataset.cameras, max_tile=80)
    assert sheet.shape[0] > SIZE[1] * 2 and (sheet[..., 3] == 255).all()
