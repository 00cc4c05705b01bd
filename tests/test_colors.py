"""The one id/color module: table lookups (direct and sparse agree), color keys both ways."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omni.sdg_studio.core.colors import lookup, paint_ids, parse_rgba_key, rgba_key, stable_color

channels = st.integers(0, 255)
colors = st.tuples(channels, channels, channels, channels)


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(0, 40), min_size=1, max_size=60),
    table=st.dictionaries(st.integers(0, 50), colors, max_size=12),
    offset=st.sampled_from([0, 1 << 24]),  # small ids: a direct table; packed colors: the sparse path
)
def test_painting_is_the_table_lookup_pixel_by_pixel(ids, table, offset):
    image = np.array(ids, np.uint32).reshape(1, -1) + offset
    shifted = {key + offset: color for key, color in table.items()}
    missing = (255, 0, 255, 255)
    painted = paint_ids(image, shifted, missing)
    assert painted.shape == (1, len(ids), 4) and painted.dtype == np.uint8
    assert [tuple(p) for p in painted[0]] == [shifted.get(i + offset, missing) for i in ids]


def test_scalar_tables_renumber_ids():
    ids = np.array([[0, 3, 7], [7, 7, 2]], np.uint32)
    renumbered = lookup(ids, {3: 300, 7: 700}, np.uint16)
    assert renumbered.dtype == np.uint16 and renumbered.tolist() == [[0, 300, 700], [700, 700, 0]]
    assert lookup(ids, {}, np.uint8).tolist() == [[0, 0, 0], [0, 0, 0]]


def test_color_keys_read_back_as_written():
    color = stable_color("forklift")
    assert rgba_key(color) == f"({color[0]}, {color[1]}, {color[2]}, {color[3]})"
    assert parse_rgba_key(rgba_key(color)) == color
    assert parse_rgba_key(" (1,2, 3 ,4) ") == (1, 2, 3, 4)
    assert parse_rgba_key("12") is None
    with pytest.raises(ValueError, match="above 255"):
        parse_rgba_key("(1, 2, 3, 256)")
