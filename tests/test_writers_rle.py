"""The numpy COCO RLE encoder against pycocotools, on random and edge-case masks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as mask_utils

from omni.sdg_studio.core.writers.rle import encode_box_mask, encode_mask, run_lengths

# pycocotools decode trips a numpy 2 deprecation inside pycocotools; not ours
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

masks = st.tuples(st.integers(1, 40), st.integers(1, 40)).flatmap(lambda shape: arrays(np.bool_, shape))


@settings(max_examples=200, deadline=None)
@given(masks)
def test_compressed_counts_equal_pycocotools(mask):
    ours = encode_mask(mask)
    reference = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert ours["size"] == list(reference["size"])
    assert ours["counts"] == reference["counts"].decode("ascii")
    decoded = mask_utils.decode({"size": ours["size"], "counts": ours["counts"].encode("ascii")})
    np.testing.assert_array_equal(decoded.astype(bool), mask)


def test_runs_start_with_zeros_and_are_column_major():
    mask = np.array([[1, 0], [1, 1]], bool)  # columns: (1, 1), (0, 1)
    assert run_lengths(mask) == [0, 2, 1, 1]
    assert run_lengths(np.zeros((3, 2), bool)) == [6]


def test_long_runs_use_several_characters():
    mask = np.zeros((300, 400), bool)
    mask[100:250, 50:390] = True
    reference = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode("ascii")
    assert encode_mask(mask)["counts"] == reference


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_box_crop_encodes_as_the_full_mask(data):
    height, width = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
    top, left = data.draw(st.integers(0, height - 1)), data.draw(st.integers(0, width - 1))
    shape = (data.draw(st.integers(1, height - top)), data.draw(st.integers(1, width - left)))
    crop = data.draw(arrays(np.bool_, shape))
    full = np.zeros((height, width), bool)
    full[top : top + shape[0], left : left + shape[1]] = crop
    assert run_lengths(crop, (left, top), (height, width)) == run_lengths(full)
    reference = mask_utils.encode(np.asfortranarray(full.astype(np.uint8)))["counts"].decode("ascii")
    assert encode_box_mask(crop, (left, top), (height, width))["counts"] == reference
