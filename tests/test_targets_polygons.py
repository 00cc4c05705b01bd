"""Mask outlines (core/targets/polygons.py): filling an outline gives the mask back, bounds are the box."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from omni.sdg_studio.core.targets import join_parts, mask_outlines, mask_polygon, simplify


def fill(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Even-odd fill sampled at pixel centres (what a rasterizer does with pixel-corner vertices)."""
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    inside = np.zeros(shape, bool)
    x, y = polygon[:, 0].astype(float), polygon[:, 1].astype(float)
    for i in range(len(polygon)):
        x0, y0, x1, y1 = x[i], y[i], x[(i + 1) % len(x)], y[(i + 1) % len(y)]
        if y0 == y1:
            continue
        spans = ((y0 <= ys) & (ys < y1)) | ((y1 <= ys) & (ys < y0))
        inside ^= spans & (xs < x0 + (ys - y0) * (x1 - x0) / (y1 - y0))
    return inside


def without_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` with every background region that does not reach the border filled (4-connected background)."""
    height, width = mask.shape
    padded = np.zeros((height + 2, width + 2), bool)
    padded[1:-1, 1:-1] = mask
    outside = np.zeros_like(padded)
    outside[0, 0] = True
    todo = deque([(0, 0)])
    while todo:
        r, c = todo.popleft()
        for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= rr < height + 2 and 0 <= cc < width + 2 and not padded[rr, cc] and not outside[rr, cc]:
                outside[rr, cc] = True
                todo.append((rr, cc))
    return ~outside[1:-1, 1:-1]


@settings(max_examples=300, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 14), st.integers(1, 16))))
def test_filling_the_joined_outlines_gives_the_mask_without_its_holes(mask):
    polygon = join_parts(mask_outlines(mask))
    np.testing.assert_array_equal(fill(polygon, mask.shape), without_holes(mask))
    if mask.any():
        ys, xs = np.nonzero(mask)
        assert (polygon[:, 0].min(), polygon[:, 1].min()) == (xs.min(), ys.min())
        assert (polygon[:, 0].max(), polygon[:, 1].max()) == (xs.max() + 1, ys.max() + 1)


def test_outlines_list_corners_clockwise_and_join_diagonal_neighbours():
    mask = np.zeros((5, 6), bool)
    mask[1:3, 1:3] = True
    mask[3, 3] = True  # touches the square's corner only
    mask[0, 5] = True  # separate
    outlines = mask_outlines(mask)
    assert len(outlines) == 2
    assert outlines[0].tolist() == [[1, 1], [3, 1], [3, 3], [4, 3], [4, 4], [3, 4], [3, 3], [1, 3]]
    assert outlines[1].tolist() == [[5, 0], [6, 0], [6, 1], [5, 1]]
    assert mask_outlines(np.zeros((3, 3), bool)) == []
    assert mask_polygon(np.zeros((3, 3), bool)).shape == (0, 2)
    with pytest.raises(ValueError, match="mask must be"):
        mask_outlines(np.zeros((2, 2, 2), bool))


def test_an_island_in_a_hole_is_covered_by_the_outer_part():
    mask = np.ones((7, 7), bool)
    mask[1:6, 1:6] = False
    mask[3, 3] = True
    assert len(mask_outlines(mask)) == 1


def distance_to_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    a = polygon.astype(float)
    b = np.roll(a, -1, axis=0)
    d = b - a
    rel = points[:, None, :] - a[None]
    t = np.clip((rel * d).sum(-1) / np.maximum((d * d).sum(-1), 1e-12), 0, 1)
    closest = a[None] + t[..., None] * d[None]
    return np.sqrt(((points[:, None, :] - closest) ** 2).sum(-1)).min(axis=1)


@pytest.mark.parametrize("tolerance", [0.5, 1.0, 2.0])
def test_simplified_outlines_keep_exact_vertices_within_the_tolerance(tolerance):
    height, width = 120, 160
    ys, xs = np.mgrid[0:height, 0:width]
    mask = ((xs - 70) ** 2 / 45**2 + (ys - 60) ** 2 / 30**2) < 1
    exact = mask_outlines(mask)[0]
    simple = simplify(exact, tolerance)
    assert len(simple) < len(exact) / (4 if tolerance >= 1 else 1)
    assert {tuple(p) for p in simple.tolist()} <= {tuple(p) for p in exact.tolist()}
    assert distance_to_polygon(exact.astype(float), simple).max() <= tolerance + 1e-9
    assert np.abs(simple.min(axis=0) - exact.min(axis=0)).max() <= tolerance
    assert np.abs(simple.max(axis=0) - exact.max(axis=0)).max() <= tolerance
