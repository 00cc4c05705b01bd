"""End to end: frames rendered by the embedded backend from the sample scene, written by every writer."""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from omni.sdg_studio.backends.embedded import SUPPORTED_ANNOTATORS, EmbeddedBackend
from omni.sdg_studio.core.render_backend import RenderProduct
from omni.sdg_studio.core.stage_io import open_stage
from omni.sdg_studio.core.writers import BasicWriter, CocoWriter, FrameBatch, KittiWriter
from omni.sdg_studio.core.writers.basic_writer import ANNOTATOR_FLAGS

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

CAMERAS = {"top": "/World/Cameras/TopCam", "driver": "/World/Cameras/DriverCam"}
WIDTH, HEIGHT = 160, 120


@pytest.fixture(scope="module")
def batch(sample_scene) -> FrameBatch:
    """One step of two cameras with every annotator the embedded backend has, raw ids (as writers ask)."""
    backend = EmbeddedBackend(open_stage(sample_scene))
    products = {name: RenderProduct(camera, WIDTH, HEIGHT, name) for name, camera in CAMERAS.items()}
    frames = {name: backend.render(p.camera, p.resolution, SUPPORTED_ANNOTATORS) for name, p in products.items()}
    return FrameBatch(0, frames, products)


def test_basic_writer_writes_a_rendered_step(tmp_path, batch):
    flags = {flag: flag in SUPPORTED_ANNOTATORS for flag in ANNOTATOR_FLAGS}
    writer = BasicWriter(tmp_path, **flags, colorize_depth=True, seed=11)
    writer.write(batch)
    writer.finish()
    assert [f.index for f in writer.completed_frames()] == [0]
    for rp, frame in batch.products.items():
        folder = tmp_path / rp
        assert sorted(p.name for p in folder.iterdir()) == sorted(n for n in SUPPORTED_ANNOTATORS)
        with Image.open(folder / "rgb" / "rgb_0000.png") as image:
            np.testing.assert_array_equal(np.asarray(image), frame["rgb"])
        depth = np.load(folder / "distance_to_image_plane" / "distance_to_image_plane_0000.npy")
        assert depth.dtype.str == "<f4" and depth.shape == (HEIGHT, WIDTH)
        # every semantic id is painted with the color its label-map key names
        labels = json.loads((folder / "semantic_segmentation" / "semantic_segmentation_labels_0000.json").read_text())
        colors = {v["class"]: tuple(int(c) for c in re.findall(r"\d+", k)) for k, v in labels.items()}
        assert colors["BACKGROUND"] == (0, 0, 0, 0) and colors["UNLABELLED"] == (0, 0, 0, 255)
        with Image.open(folder / "semantic_segmentation" / "semantic_segmentation_0000.png") as image:
            pixels = np.asarray(image)
        semantic = frame["semantic_segmentation"]
        for key, value in semantic["info"]["idToLabels"].items():
            mask = semantic["data"] == int(key)
            assert (pixels[mask] == colors[value["class"]]).all(), value
        paths = json.loads(
            (folder / "bounding_box_2d_tight" / "bounding_box_2d_tight_prim_paths_0000.json").read_text()
        )
        assert paths == list(frame["bounding_box_2d_tight"]["info"]["primPaths"]) and paths


def test_coco_masks_of_a_rendered_step_decode_to_the_instance_pixels(tmp_path, batch):
    writer = CocoWriter(tmp_path, seed=11)
    writer.write(batch)
    writer.finish()
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(writer.annotations_path))
    assert len(coco.getImgIds()) == len(CAMERAS)
    checked = 0
    for image in coco.loadImgs(coco.getImgIds()):
        instance = batch.products[image["render_product"]]["instance_segmentation"]
        by_path = {path: key for key, path in instance["info"]["idToLabels"].items()}
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image["id"])):
            expected = instance["data"] == by_path[ann["prim_path"]]
            np.testing.assert_array_equal(coco.annToMask(ann).astype(bool), expected)
            assert ann["area"] == expected.sum()
            checked += 1
    assert checked > 0


def test_kitti_writer_writes_a_rendered_step(tmp_path, batch):
    writer = KittiWriter(tmp_path, bbox_height_threshold=5)
    writer.write(batch)
    writer.finish()
    for rp, camera in CAMERAS.items():
        folder = tmp_path / rp / camera.rsplit("/", 1)[1]
        lines = (folder / "object_detection" / "0.txt").read_text().splitlines()
        tight = batch.products[rp]["bounding_box_2d_tight"]["data"]
        assert len(lines) == int(((tight["y_max"] - tight["y_min"]) >= 5).sum())
        assert all(len(line.split(" ")) == 15 and line.startswith("class:") for line in lines)
        with Image.open(folder / "depth" / "0.png") as image:
            assert np.asarray(image).dtype == np.uint16
