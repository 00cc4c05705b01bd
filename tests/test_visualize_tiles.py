import math

import numpy as np
import pytest
import visualize_samples as samples

from omni.sdg_studio.core.colors import stable_color
from omni.sdg_studio.core.visualize.layout import GAP, compose, fit_layout, grid_shape, plan_layout
from omni.sdg_studio.core.visualize.normalize import segmentation
from omni.sdg_studio.core.visualize.palette import LabelPalette
from omni.sdg_studio.core.visualize.tiles import (
    ShownImage,
    Tile,
    TileStatus,
    Unreadable,
    ViewOptions,
    default_order,
    render_tiles,
)


@pytest.mark.parametrize("count", range(1, 13))
def test_grid_has_ceil_sqrt_columns_like_the_anchor(count):
    columns, rows = grid_shape(count)
    assert columns == math.ceil(math.sqrt(count)) and rows == math.ceil(count / columns)
    assert columns * rows >= count
    assert grid_shape(count, tall=True) == (rows, columns)


def test_every_annotator_of_the_frame_gets_a_tile_rgb_first_camera_params_hidden():
    frame = samples.frame()
    tiles = render_tiles(frame)
    names = [t.name for t in tiles]
    assert names[0] == "rgb" and "camera_params" not in names
    assert set(names) == set(frame) - {"camera_params"}
    assert all(t.status is TileStatus.OK and t.image is not None for t in tiles), [(t.name, t.note) for t in tiles]
    assert default_order(["zeta", "normals", "rgb"]) == ["rgb", "normals", "zeta"]


def test_legend_lists_exactly_the_labels_of_id_to_labels_with_pixel_counts():
    frame = samples.frame()
    tile = render_tiles(frame, ["semantic_segmentation"])[0]
    labels = {v["class"] for v in frame["semantic_segmentation"]["info"]["idToLabels"].values()}
    assert {e.label for e in tile.legend} == labels
    ids = frame["semantic_segmentation"]["data"]
    by_label = {e.label: e for e in tile.legend}
    for sid, label, *_ in samples.RECTS:
        assert by_label[label].count == int((ids == sid).sum())
        assert by_label[label].color == stable_color(label)
    assert by_label["UNLABELLED"].count == 0


def test_segmentation_tile_pixels_use_the_legend_colors():
    frame = samples.frame()
    tile = render_tiles(frame, ["semantic_segmentation"])[0]
    _sid, label, x0, y0, *_ = samples.RECTS[0]
    assert tuple(tile.image[y0, x0]) == stable_color(label)


def test_segmentation_blended_over_rgb_mixes_both_at_alpha():
    frame = samples.frame()
    options = ViewOptions(segmentation_over_rgb=True, overlay_alpha=0.25)
    tile = render_tiles(frame, ["semantic_segmentation"], options)[0]
    _, label, x0, y0, *_, rgb = samples.RECTS[0]
    expected = np.array(rgb) * 0.75 + np.array(stable_color(label)[:3]) * 0.25
    assert np.abs(tile.image[y0, x0, :3].astype(float) - expected).max() <= 1
    background = frame["rgb"][0, 0, :3]
    assert (tile.image[0, 0, :3] == background).all(), "BACKGROUND is transparent: the RGB shows through"


def test_boxes_are_drawn_on_their_pixel_bounds_over_rgb():
    frame = samples.frame()
    tile = render_tiles(frame, ["bounding_box_2d_tight"], ViewOptions(box_labels=False))[0]
    _, label, x0, y0, x1, y1, *_ = samples.RECTS[1]
    color = stable_color(label)
    assert tuple(tile.image[(y0 + y1) // 2, x0]) == color and tuple(tile.image[(y0 + y1) // 2, x1]) == color
    assert tuple(tile.image[y0, (x0 + x1) // 2]) == color and tuple(tile.image[y1, (x0 + x1) // 2]) == color
    inside = tile.image[(y0 + y1) // 2, (x0 + x1) // 2]
    assert (inside == frame["rgb"][(y0 + y1) // 2, (x0 + x1) // 2]).all()
    assert tile.note == "2 boxes"


def test_first_empty_frames_are_waiting_not_errors():
    frame = {"rgb": np.zeros((0,), np.uint8), "distance_to_camera": None}
    tiles = render_tiles(frame, ["rgb", "distance_to_camera"])
    assert [t.status for t in tiles] == [TileStatus.WAITING, TileStatus.WAITING]


def test_bad_data_becomes_an_error_tile_naming_the_annotator():
    frame = {
        "rgb": np.zeros((4, 4, 4), np.float32),
        "semantic_segmentation": {"data": np.zeros((4, 4), np.uint32), "info": {}},
        "bounding_box_3d": samples.frame()["bounding_box_3d"],
        "skeleton_data": {"data": np.zeros(3)},
        "normals": Unreadable("normals_0003.png: unreadable (truncated)"),
    }
    tiles = {t.name: t for t in render_tiles(frame)}
    assert all(t.status is TileStatus.ERROR for t in tiles.values())
    assert "rgb: dtype float32" in tiles["rgb"].note
    assert "idToLabels" in tiles["semantic_segmentation"].note
    assert "camera_params" in tiles["bounding_box_3d"].note
    assert "no viewer" in tiles["skeleton_data"].note
    assert tiles["normals"].note == "normals_0003.png: unreadable (truncated)"


def test_shown_images_pass_through_unchanged():
    image = np.random.default_rng(1).integers(0, 255, (5, 6, 4), dtype=np.uint8)
    tile = render_tiles({"panoptic": ShownImage(image, "panoptic_0000.png")})[0]
    assert (tile.image == image).all() and tile.note == "panoptic_0000.png"


def test_occlusion_paints_each_instance_by_its_ratio():
    frame = samples.frame()
    tile = render_tiles(frame, ["occlusion"])[0]
    _, _, x0, y0, *_ = samples.RECTS[0]  # ratio 0 -> green
    assert tuple(tile.image[y0, x0]) == (0, 255, 0, 255)


def test_compose_lays_tiles_in_the_grid_and_keeps_the_pixels():
    frame = samples.frame()
    tiles = render_tiles(frame, ["rgb", "distance_to_image_plane", "semantic_segmentation"])
    layout = plan_layout(tiles, max_tile=samples.WIDTH, min_tile=samples.WIDTH)
    image = compose(tiles, layout)
    assert (layout.columns, layout.rows) == (2, 2)
    assert image.shape == (layout.size[1], layout.size[0], 4) and image.dtype == np.uint8
    assert (image[..., 3] == 255).all(), "the composed image is opaque"
    y, x = GAP + layout.title_height, GAP
    np.testing.assert_array_equal(image[y : y + samples.HEIGHT, x : x + samples.WIDTH], frame["rgb"])


def test_fit_layout_fills_a_window_and_swaps_for_tall_windows():
    tiles = [Tile(f"t{i}", np.zeros((100, 200, 4), np.uint8)) for i in range(3)]
    wide = fit_layout(tiles, 1200, 500)
    tall = fit_layout(tiles, 500, 1200)
    assert (wide.columns, wide.rows) == (2, 2) and (tall.columns, tall.rows) == (2, 2)
    assert wide.size[0] <= 1200 and wide.size[1] <= 500 + 2 * wide.title_height
    assert fit_layout(tiles[:2], 300, 1200).columns == 1


def test_instance_colors_come_from_prim_paths():
    frame = samples.frame()
    seg = segmentation("instance_id_segmentation", frame["instance_id_segmentation"])
    tile = render_tiles(frame, ["instance_id_segmentation"], ViewOptions(palette=LabelPalette()))[0]
    sid, _, x0, y0, *_ = samples.RECTS[1]
    assert tuple(tile.image[y0, x0]) == stable_color(seg.labels[sid + 10])


def test_occlusion_matches_leaf_prims_to_their_labelled_parent_by_path():
    frame = samples.frame()
    del frame["instance_segmentation"]
    leaf_paths = {0: "BACKGROUND", 12: "/World/Crate_01/Mesh", 13: "/World/Pallet_07/Body/Mesh"}
    frame["instance_id_segmentation"]["info"]["idToLabels"] = leaf_paths
    rows = frame["occlusion"]["data"]
    rows["instanceId"] = [900, 901]  # another id space: only the paths can match
    rows["occlusionRatio"] = [1.0, 0.0]
    frame["occlusion"]["info"] = {"primPaths": ["/World/Crate_01", "/World/Pallet_07"]}
    tile = render_tiles(frame, ["occlusion"])[0]
    _, _, ax, ay, *_ = samples.RECTS[0]
    _, _, bx, by, *_ = samples.RECTS[1]
    assert tuple(tile.image[ay, ax]) == (255, 0, 0, 255) and tuple(tile.image[by, bx]) == (0, 255, 0, 255)
    assert tuple(tile.image[0, 0]) == (40, 40, 40, 255)
