import subprocess
import sys

import numpy as np
import pytest

from omni.sdg_studio.core.classes import ClassTable, LabelClass
from omni.sdg_studio.core.colors import BACKGROUND_COLOR, UNLABELLED_COLOR, stable_color
from omni.sdg_studio.core.visualize.colorize import (
    BACKGROUND_RGBA,
    DepthMode,
    DepthRange,
    colorize_depth,
    colorize_flow,
    colorize_normals,
    colorize_segmentation,
)
from omni.sdg_studio.core.visualize.normalize import segmentation
from omni.sdg_studio.core.visualize.palette import UNKNOWN_COLOR, LabelPalette, paint_labels


def _gray(rgba: np.ndarray) -> np.ndarray:
    return rgba[..., 0].astype(int)


def test_depth_auto_spans_the_finite_values_near_bright_and_inf_is_background():
    depth = np.array([[1.0, 2.0, 3.0, np.inf, np.nan, 0.0]], np.float32)
    image = colorize_depth(depth).rgba
    assert image.shape == (1, 6, 4) and image.dtype == np.uint8
    gray = _gray(image)
    assert gray[0, 0] == 255 and gray[0, 0] > gray[0, 1] > gray[0, 2] > 0
    for col in (3, 4, 5):  # inf, NaN and 0 (nothing hit) are background, darker than the farthest hit
        assert tuple(image[0, col]) == BACKGROUND_RGBA
        assert gray[0, 2] > gray[0, col]
    assert colorize_depth(depth).shown_range == (1.0, 3.0)


def test_depth_auto_is_linear_between_near_and_far():
    depth = np.linspace(2.0, 10.0, 9, dtype=np.float32)[None, :]
    gray = _gray(colorize_depth(depth).rgba)[0]
    steps = np.diff(gray)
    assert (steps < 0).all() and steps.max() - steps.min() <= 1


def test_depth_fixed_range_clamps_outside_values():
    depth = np.array([[0.5, 1.0, 5.0, 9.0, 20.0]], np.float32)
    image = colorize_depth(depth, DepthRange(DepthMode.FIXED, 1.0, 9.0))
    gray = _gray(image.rgba)[0]
    assert gray[0] == gray[1] == 255 and gray[3] == gray[4] and gray[2] < 255
    assert image.shown_range == (1.0, 9.0)


def test_depth_log_mode_gives_near_values_more_gray_levels_than_linear():
    depth = np.array([[1.0, 2.0, 100.0]], np.float32)
    linear = _gray(colorize_depth(depth).rgba)[0]
    log = _gray(colorize_depth(depth, DepthRange(DepthMode.LOG)).rgba)[0]
    assert linear[0] == log[0] == 255 and linear[2] == log[2]
    expected_fraction = np.log(2.0) / np.log(100.0)  # where 2 m sits on a log scale from 1 to 100
    span = log[0] - log[2]
    assert abs((log[0] - log[1]) / span - expected_fraction) < 0.02
    assert log[0] - log[1] > linear[0] - linear[1]


def test_depth_with_nothing_hit_is_all_background():
    image = colorize_depth(np.full((2, 3), np.inf, np.float32))
    assert image.shown_range is None and (image.rgba == BACKGROUND_RGBA).all()


@pytest.mark.parametrize(
    "settings",
    [
        dict(mode=DepthMode.FIXED, near=1.0),
        dict(mode=DepthMode.FIXED, near=5.0, far=1.0),
        dict(mode=DepthMode.LOG, near=0.0),
    ],
)
def test_depth_range_rejects_bad_settings(settings):
    with pytest.raises(ValueError):
        DepthRange(**settings)


def test_normals_map_minus_one_to_zero_and_plus_one_to_255():
    normals = np.zeros((1, 3, 4), np.float32)
    normals[0, 0, :3] = (1, 0, 0)
    normals[0, 1, :3] = (0, -1, 0)
    image = colorize_normals(normals)
    assert tuple(image[0, 0, :3]) == (255, 127, 127)
    assert tuple(image[0, 1, :3]) == (127, 0, 127)
    assert tuple(image[0, 2]) == BACKGROUND_RGBA  # zero normal = no surface


def test_flow_hue_follows_direction_and_brightness_follows_speed():
    flow = np.zeros((1, 3, 4), np.float32)
    flow[0, 0, :2] = (4, 0)  # right: hue 0 = red
    flow[0, 1, :2] = (-2, 0)  # left, half speed: hue 0.5 = cyan, half bright
    image, top = colorize_flow(flow)
    assert top == 4
    assert tuple(image[0, 0, :3]) == (255, 0, 0)
    assert image[0, 1, 0] == 0 and abs(int(image[0, 1, 1]) - 127) <= 1 and abs(int(image[0, 1, 2]) - 127) <= 1
    assert tuple(image[0, 2, :3]) == (0, 0, 0)


def _semantic(ids, labels):
    return {"data": np.asarray(ids, np.uint32), "info": {"idToLabels": labels}}


def test_segmentation_colors_depend_on_labels_not_on_ids():
    frame_a = _semantic([[0, 1, 2]], {"0": {"class": "BACKGROUND"}, "1": {"class": "crate"}, "2": {"class": "pallet"}})
    frame_b = _semantic([[0, 2, 1]], {"0": {"class": "BACKGROUND"}, "2": {"class": "crate"}, "1": {"class": "pallet"}})
    palette = LabelPalette()
    a = colorize_segmentation(segmentation("semantic_segmentation", frame_a), palette).rgba
    b = colorize_segmentation(segmentation("semantic_segmentation", frame_b), palette).rgba
    assert (a == b).all()
    assert tuple(a[0, 1]) == stable_color("crate") and tuple(a[0, 2]) == stable_color("pallet")
    assert tuple(a[0, 0]) == BACKGROUND_COLOR


def test_segmentation_colors_are_the_same_in_another_process():
    code = (
        "import numpy as np;"
        "from omni.sdg_studio.core.visualize.normalize import segmentation;"
        "from omni.sdg_studio.core.visualize.colorize import colorize_segmentation;"
        "from omni.sdg_studio.core.visualize.palette import LabelPalette;"
        "v={'data': np.array([[7, 9]], np.uint32), 'info': {'idToLabels': {7: '/World/A', 9: '/World/B/C'}}};"
        "print(colorize_segmentation(segmentation('instance_id_segmentation', v), LabelPalette()).rgba.tolist())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == str([[list(stable_color("/World/A")), list(stable_color("/World/B/C"))]])


def test_class_table_colors_win_over_hashed_colors_and_multi_labels_use_a_listed_one():
    table = ClassTable([LabelClass("pallet", 5, (1, 2, 3, 255))])
    palette = LabelPalette(table)
    assert palette.color("pallet") == (1, 2, 3, 255)
    assert palette.color("palette,pallet") == (1, 2, 3, 255)
    assert palette.color("cone") == stable_color("cone")
    assert "cone" not in table, "looking up a color must not add classes to the rules' table"
    assert palette.color("UNLABELLED") == UNLABELLED_COLOR and palette.color("BACKGROUND") == BACKGROUND_COLOR


def test_colorized_and_raw_segmentation_show_the_same_colors():
    ids = np.array([[0, 1, 2, 2]], np.uint32)
    raw = _semantic(ids, {"0": {"class": "BACKGROUND"}, "1": {"class": "UNLABELLED"}, "2": {"class": "cone"}})
    rgba = np.array([[[0, 0, 0, 0], [0, 0, 0, 255], [35, 198, 233, 255], [35, 198, 233, 255]]], np.uint8)
    colorized = {
        "data": rgba,
        "info": {
            "idToLabels": {
                "(0, 0, 0, 0)": {"class": "BACKGROUND"},
                "(0, 0, 0, 255)": {"class": "UNLABELLED"},
                "(35, 198, 233, 255)": {"class": "cone"},
            }
        },
    }
    palette = LabelPalette()
    a = colorize_segmentation(segmentation("semantic_segmentation", raw), palette)
    b = colorize_segmentation(segmentation("semantic_segmentation", colorized), palette)
    assert (a.rgba == b.rgba).all()
    assert a.unknown_pixels == b.unknown_pixels == 0


@pytest.mark.parametrize("offset", [0, 1 << 24])  # small ids use a lookup table, packed colors a sorted search
def test_ids_missing_from_id_to_labels_are_painted_and_counted(offset):
    ids = np.array([[1, 2, 3, 3]], np.uint32) + offset
    painted = paint_labels(ids, {1 + offset: (10, 10, 10, 255), 2 + offset: (20, 20, 20, 255)})
    assert painted.unknown_pixels == 2
    assert tuple(painted.rgba[0, 3]) == UNKNOWN_COLOR and tuple(painted.rgba[0, 1]) == (20, 20, 20, 255)
    assert painted.pixel_counts[1 + offset] == 1 and painted.pixel_counts[2 + offset] == 1
