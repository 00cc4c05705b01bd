import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from visualize_samples import HEIGHT, WIDTH, analytic_pixel, cube_rows, pinhole_params

from omni.sdg_studio.core.annotators.boxes import BOX_EDGES, bbox3d_corners, box_corners
from omni.sdg_studio.core.annotators.formats import BBOX3D_DTYPE
from omni.sdg_studio.core.visualize.normalize import AnnotatorDataError, Boxes
from omni.sdg_studio.core.visualize.overlay import draw_boxes_3d
from omni.sdg_studio.core.visualize.palette import LabelPalette
from omni.sdg_studio.core.visualize.projection import CameraProjection

GOLDEN_POSE = Path("/work/shared/anchors/replicator_golden/pose_writer_pinhole/rp1/000000.json")


@pytest.mark.parametrize("offset", [(0.0, 0.0, 0.0), (1.5, -0.5, 2.0)])
def test_projected_cube_corners_match_the_analytic_pinhole_projection(offset):
    rows = cube_rows(half=1.0, offset=offset)
    camera = CameraProjection.from_params(pinhole_params())
    pixels, in_front = camera.project(bbox3d_corners(rows))
    assert in_front.all()
    corners = [np.array(c) + offset for c in itertools.product((-1.0, 1.0), repeat=3)]
    expected = sorted(analytic_pixel(c) for c in corners)
    got = sorted(tuple(p) for p in pixels[0])
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_box_corners_apply_the_row_major_transform_with_scale_and_rotation():
    row = np.zeros(1, BBOX3D_DTYPE)
    row["x_max"], row["y_max"], row["z_max"] = 1.0, 2.0, 3.0
    # rotate 90 degrees about Z, scale 2, translate (10, 0, 0); row-vector form (translation in the last row)
    transform = np.array([[0, 2, 0, 0], [-2, 0, 0, 0], [0, 0, 2, 0], [10, 0, 0, 1]], np.float32)
    row["transform"] = transform
    corners = bbox3d_corners(row)[0]
    # local (1, 2, 3) -> x' = 10 - 2*2, y' = 2*1, z' = 2*3
    assert any(np.allclose(c, (6.0, 2.0, 6.0)) for c in corners)
    assert len(BOX_EDGES) == 12 and all(bin(a ^ b).count("1") == 1 for a, b in BOX_EDGES)


@pytest.mark.skipif(not GOLDEN_POSE.exists(), reason="shared golden samples not present")
def test_projection_matches_isaac_sims_pose_writer_golden_keypoints():
    sample = json.loads(GOLDEN_POSE.read_text())
    camera_data = sample["camera_data"]
    params = {
        "cameraViewTransform": np.asarray(camera_data["camera_view_matrix"]).reshape(-1),
        "cameraProjection": np.asarray(camera_data["camera_projection_matrix"]).reshape(-1),
        "renderProductResolution": camera_data["resolution"],
    }
    camera = CameraProjection.from_params(params)
    for obj in sample["objects"]:
        row = np.zeros(1, BBOX3D_DTYPE)
        for axis in "xyz":
            row[f"{axis}_min"], row[f"{axis}_max"] = -0.5, 0.5
        row["transform"] = np.asarray(obj["local_to_world_transform"])
        pixels, _ = camera.project(bbox3d_corners(row))
        got = sorted(tuple(round(v) for v in p) for p in pixels[0])
        expected = sorted(tuple(p) for p in obj["cuboid_keypoints_projected"][1:])
        assert max(abs(a - b) for g, e in zip(got, expected, strict=True) for a, b in zip(g, e, strict=True)) <= 1


def test_boxes_behind_the_camera_are_skipped_not_drawn():
    rows = np.concatenate([cube_rows(), cube_rows(offset=(0.0, 0.0, 20.0))])
    found = Boxes(rows, ["crate", "crate"], ["", ""])
    image = np.zeros((HEIGHT, WIDTH, 4), np.uint8)
    drawn = draw_boxes_3d(image, found, CameraProjection.from_params(pinhole_params()), LabelPalette())
    assert drawn.behind == 1
    assert drawn.image[..., :3].any()


def test_camera_params_errors_name_the_missing_key():
    params = pinhole_params()
    del params["cameraProjection"]
    with pytest.raises(AnnotatorDataError, match="cameraProjection"):
        CameraProjection.from_params(params)
    with pytest.raises(AnnotatorDataError, match="16 values"):
        CameraProjection.from_params({**pinhole_params(), "cameraViewTransform": [1, 2, 3]})
    with pytest.raises(AnnotatorDataError, match="fisheyePolynomial"):
        CameraProjection.from_params({**pinhole_params(), "cameraModel": "fisheyePolynomial"})


def test_box_corners_follow_the_bit_order_for_any_batch_shape():
    low, high = np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 3.0])
    corners = box_corners(low, high)
    assert corners.shape == (8, 3)
    for i, corner in enumerate(corners):
        assert tuple(corner) == (i & 1, 2 * (i >> 1 & 1), 3 * (i >> 2 & 1))
    batch = box_corners(np.zeros((2, 5, 3)), np.ones((2, 5, 3)))
    assert batch.shape == (2, 5, 8, 3)
    assert {tuple(c) for c in batch[1, 4]} == set(itertools.product((0.0, 1.0), repeat=3))
