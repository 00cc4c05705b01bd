"""Box overlays stay readable with 1,000 boxes: thin lines, label tags only on large boxes, a count in the title."""

from __future__ import annotations

import numpy as np

from omni.sdg_studio.core.annotators.formats import BBOX2D_DTYPE
from omni.sdg_studio.core.visualize.normalize import Boxes
from omni.sdg_studio.core.visualize.overlay import MANY_BOXES, draw_boxes_2d
from omni.sdg_studio.core.visualize.palette import LabelPalette
from omni.sdg_studio.core.visualize.tiles import ViewOptions, render_tiles

HEIGHT, WIDTH = 720, 1280
BOX_DTYPE = BBOX2D_DTYPE
#: Five large boxes far apart (x0, y0, x1, y1), each with room for a tag above it.
LARGE = [(40, 60, 240, 260), (300, 60, 500, 260), (560, 60, 760, 260), (820, 60, 1020, 260), (40, 400, 400, 700)]


def background() -> np.ndarray:
    image = np.full((HEIGHT, WIDTH, 4), 80, np.uint8)
    image[..., 3] = 255
    return image


def small_and_large(small: int = 995) -> Boxes:
    """``small`` 8x8 boxes in the lower right quarter, then the :data:`LARGE` boxes; labels cycle over 20."""
    rng = np.random.default_rng(7)
    rows = np.zeros(small + len(LARGE), BOX_DTYPE)
    for i in range(small):
        x, y = int(rng.integers(700, WIDTH - 9)), int(rng.integers(400, HEIGHT - 9))
        rows[i] = (i % 20, x, y, x + 7, y + 7, 0.0)
    for i, box in enumerate(LARGE):
        rows[small + i] = (i, *box, 0.0)
    return Boxes(rows, [f"class_{int(s)}" for s in rows["semanticId"]], [""] * len(rows))


def test_with_1000_boxes_only_boxes_above_the_size_get_a_tag():
    boxes = small_and_large()
    assert len(boxes.rows) == 1000
    tagged = draw_boxes_2d(background(), boxes, LabelPalette())
    plain = draw_boxes_2d(background(), boxes, LabelPalette(), with_labels=False)
    assert tagged.labeled == len(LARGE) and plain.labeled == 0
    # Tags are drawn just above the large boxes and nowhere else.
    differs = (tagged.image != plain.image).any(axis=2)
    near_large = np.zeros_like(differs)
    for x0, y0, x1, _ in LARGE:
        near_large[max(0, y0 - 40) : y0 + 1, x0 : x1 + 1] = True
    assert differs.any() and not (differs & ~near_large).any()


def test_many_boxes_are_drawn_with_one_pixel_lines_few_with_thicker_ones():
    many = draw_boxes_2d(background(), small_and_large(), LabelPalette(), with_labels=False).image
    few = draw_boxes_2d(background(), small_and_large(small=0), LabelPalette(), with_labels=False).image
    assert len(LARGE) <= MANY_BOXES
    x0, y0, _, y1 = LARGE[0]
    middle = (y0 + y1) // 2
    assert (many[middle, x0, :3] != 80).any() and (many[middle, x0 + 1, :3] == 80).all()  # 1 px outline
    assert (few[middle, x0, :3] != 80).any() and (few[middle, x0 + 1, :3] != 80).any()  # 720 // 300 = 2 px


def test_few_boxes_all_get_tags_even_small_ones():
    rows = np.zeros(3, BOX_DTYPE)
    rows[:] = [(0, 100, 100, 108, 108, 0), (1, 400, 300, 410, 310, 0), (2, 900, 500, 905, 505, 0)]
    drawn = draw_boxes_2d(background(), Boxes(rows, ["a", "b", "c"], [""] * 3), LabelPalette())
    assert drawn.labeled == 3


def test_box_tile_counts_boxes_in_its_title_and_says_which_are_labeled():
    boxes = small_and_large()
    labels = {str(i): {"class": f"class_{i}"} for i in range(20)}
    frame = {"rgb": background(), "bounding_box_2d_tight": {"data": boxes.rows, "info": {"idToLabels": labels}}}
    tile = render_tiles(frame, ["bounding_box_2d_tight"], ViewOptions())[0]
    assert tile.title == "bounding_box_2d_tight (1000 boxes)"
    assert tile.note == f"1000 boxes; labels on {len(LARGE)} large boxes"
    assert len(tile.legend) == 20
