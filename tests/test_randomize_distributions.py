"""Distributions match their parameters over a few thousand draws; rotation helpers agree with pxr.Gf."""

from __future__ import annotations

import numpy as np
import pytest
from pxr import Gf

from omni.sdg_studio.core.randomize import parse_scenario_text
from omni.sdg_studio.core.randomize.distributions import Distribution
from omni.sdg_studio.core.randomize.scenario import LightSpec, PoseSpec
from omni.sdg_studio.core.randomize.transforms import (
    Basis,
    axis_rotation,
    compose,
    decompose,
    euler_xyz,
    look_at,
    matrix_quaternions,
    quaternion_matrices,
    uniform_rotations,
)

DRAWS = 4000


def scale_of(text: str) -> Distribution:
    """The distribution a pose's ``scale`` reads from ``text`` (YAML)."""
    scenario = parse_scenario_text(f"randomizers:\n  - {{type: pose, select: X, scale: {text}}}\n")
    spec = scenario.randomizers[0]
    assert isinstance(spec, PoseSpec) and spec.scale is not None
    return spec.scale


def position_of(text: str) -> Distribution:
    scenario = parse_scenario_text(f"randomizers:\n  - {{type: pose, select: X, position: {text}}}\n")
    spec = scenario.randomizers[0]
    assert isinstance(spec, PoseSpec) and spec.position is not None
    return spec.position.value


def draw(distribution: Distribution, count: int = DRAWS, step: int = 0, seed: int = 1) -> np.ndarray:
    return distribution.sample(np.random.default_rng(seed), count, step)


def within(value: float, expected: float, tolerance: float) -> None:
    assert abs(value - expected) <= tolerance, f"{value} is not within {tolerance} of {expected}"


def test_uniform_mean_spread_and_bounds():
    values = draw(scale_of("{uniform: [2, 5]}"))
    assert values.shape == (DRAWS,)
    assert values.min() >= 2 and values.max() < 5
    sigma = 3 / np.sqrt(12)
    within(values.mean(), 3.5, 4 * sigma / np.sqrt(DRAWS))
    within(values.std(), sigma, 0.05 * sigma)


def test_vector_uniform_draws_each_component_in_its_own_range():
    values = draw(position_of("{uniform: [[-2, 0, 10], [2, 1, 10]]}"))
    assert values.shape == (DRAWS, 3)
    within(values[:, 0].mean(), 0.0, 0.1)
    within(values[:, 0].std(), 4 / np.sqrt(12), 0.06)
    within(values[:, 1].mean(), 0.5, 0.03)
    assert (values[:, 2] == 10).all()
    assert abs(np.corrcoef(values[:, 0], values[:, 1])[0, 1]) < 0.05  # components drawn independently


def test_uniform_int_covers_both_ends_evenly():
    scenario = parse_scenario_text(
        "randomizers:\n  - {type: pose, select: X, position: {relative_to: /A, corner: {uniform_int: [2, 7]}}}\n"
    )
    spec = scenario.randomizers[0]
    assert isinstance(spec, PoseSpec) and spec.position is not None and spec.position.anchor is not None
    corner = spec.position.anchor.corner
    assert isinstance(corner, Distribution)
    values = draw(corner)
    assert set(np.unique(values)) == {2, 3, 4, 5, 6, 7}
    for k in range(2, 8):
        within((values == k).mean(), 1 / 6, 0.03)
    within(values.mean(), 4.5, 0.1)


def test_normal_mean_and_std():
    values = draw(scale_of("{normal: {mean: 1.5, std: 0.25}}"))
    within(values.mean(), 1.5, 4 * 0.25 / np.sqrt(DRAWS))
    within(values.std(), 0.25, 0.05 * 0.25)
    short = draw(scale_of("{normal: [1.5, 0.25]}"))
    assert np.array_equal(values, short)  # [mean, std] is the same distribution


def test_choice_follows_its_weights():
    values = draw(scale_of("{choice: [0.5, 1, 2], weights: [2, 5, 3]}"))
    for option, weight in ((0.5, 0.2), (1.0, 0.5), (2.0, 0.3)):
        within((values == option).mean(), weight, 0.03)
    plain = draw(scale_of("{choice: [0.5, 1, 2]}"))
    for option in (0.5, 1.0, 2.0):
        within((plain == option).mean(), 1 / 3, 0.03)


def test_sequence_cycles_by_frame_and_draws_nothing():
    sequence = scale_of("{sequence: [1, 2, 3]}")
    assert [draw(sequence, 2, step)[0] for step in range(7)] == [1, 2, 3, 1, 2, 3, 1]
    assert (draw(sequence, 5, 4) == 2).all()  # every prim gets the frame's item
    rng = np.random.default_rng(3)
    before = rng.bit_generator.state
    sequence.sample(rng, 10, 1)
    assert rng.bit_generator.state == before


def test_constants_and_per_component_distributions():
    assert (draw(scale_of("1.25"), 5) == 1.25).all()
    assert (draw(position_of("[1, 2, 3]"), 5) == [1, 2, 3]).all()
    mixed = draw(position_of("[{uniform: [3, 4]}, 0, {choice: [1, 2]}]"))
    assert mixed[:, 0].min() >= 3 and mixed[:, 0].max() < 4
    assert (mixed[:, 1] == 0).all()
    assert set(np.unique(mixed[:, 2])) == {1.0, 2.0}


def test_so3_uniform_by_dot_products_of_turned_vectors():
    """For uniform rotations R and a unit vector u, u . (R u) is uniform on [-1, 1] (mean 0, variance 1/3)."""
    rng = np.random.default_rng(11)
    rotations = uniform_rotations(rng, DRAWS)
    for u in (np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0, -0.5]) / np.linalg.norm([1.0, 2.0, -0.5])):
        dots = (u @ rotations) @ u
        within(dots.mean(), 0.0, 4 * np.sqrt(1 / 3) / np.sqrt(DRAWS))
        within(dots.var(), 1 / 3, 0.02)
        ks = np.abs(np.sort(dots) - np.linspace(-1, 1, DRAWS)).max() / 2
        assert ks < 0.03, ks
    # Random pairs of random vectors turned by the same uniform rotation keep their angle...
    a = rng.normal(size=(DRAWS, 3))
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    turned = np.einsum("nj,njk->nk", a, rotations)
    # ...and a turned random vector is uniform on the sphere whatever the input: x, y, z each U[-1, 1].
    for axis in range(3):
        within(turned[:, axis].var(), 1 / 3, 0.02)
    # The same test rejects yaw-only rotations (it can fail).
    yaw = axis_rotation(np.array([0.0, 0.0, 1.0]), rng.uniform(0, 360, DRAWS))
    assert ((np.array([0, 0, 1.0]) @ yaw) @ np.array([0, 0, 1.0])).mean() > 0.99


def test_euler_matches_usd_rotate_xyz():
    angles = np.array([[10.0, 20.0, 30.0], [-45.0, 170.0, 5.0]])
    for row, (x, y, z) in zip(euler_xyz(angles), angles.tolist(), strict=True):
        gf = (
            Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(1, 0, 0), x))
            * Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(0, 1, 0), y))
            * Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(0, 0, 1), z))
        )
        assert np.allclose(row, np.array(gf)[:3, :3], atol=1e-12)


def test_axis_rotation_matches_gf_and_quaternions_round_trip():
    axis = np.array([1.0, -2.0, 0.5]) / np.linalg.norm([1.0, -2.0, 0.5])
    turned = axis_rotation(axis, [33.0])[0]
    gf = Gf.Matrix4d().SetRotate(Gf.Rotation(Gf.Vec3d(*axis.tolist()), 33.0))
    assert np.allclose(turned, np.array(gf)[:3, :3], atol=1e-12)
    rotations = uniform_rotations(np.random.default_rng(5), 500)
    assert np.allclose(quaternion_matrices(matrix_quaternions(rotations)), rotations, atol=1e-9)
    quaternion = Gf.Matrix3d(*turned.reshape(-1).tolist()).ExtractRotation().GetQuaternion()
    expected = np.array([quaternion.GetReal(), *quaternion.GetImaginary()])
    assert np.allclose(matrix_quaternions(turned[None])[0], expected * np.sign(expected[0]), atol=1e-9)


def test_compose_decompose_round_trip():
    rng = np.random.default_rng(2)
    scale = rng.uniform(0.5, 2.0, (50, 3))
    rotation = uniform_rotations(rng, 50)
    translation = rng.normal(size=(50, 3))
    s, r, t = decompose(compose(scale, rotation, translation))
    assert np.allclose(s, scale) and np.allclose(r, rotation) and np.allclose(t, translation)


@pytest.mark.parametrize("up_axis", ["Z", "Y"])
def test_look_at_points_minus_z_at_the_target_with_up_kept(up_axis):
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, up_axis)
    basis = Basis.of_stage(stage)
    eyes = np.array([[3.0, -4.0, 2.0], [0.0, 0.0, 10.0]])
    targets = np.array([[0.0, 0.0, 0.5], [0.0, 0.0, 0.0]])
    rows = look_at(eyes, targets, basis, np.array([0.0, 25.0]))
    forward = targets - eyes
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    assert np.allclose(-rows[:, 2], forward)
    assert np.allclose(np.einsum("nij,nkj->nik", rows, rows), np.eye(3))
    if up_axis == "Z":
        assert rows[0, 0] @ basis.up == pytest.approx(0.0)  # no roll: the image's x axis stays level


def test_normal_draws_are_clipped_to_the_keys_range():
    scenario = parse_scenario_text("randomizers:\n  - {type: light, select: X, intensity: {normal: [0, 100]}}\n")
    spec = scenario.randomizers[0]
    assert isinstance(spec, LightSpec) and spec.intensity is not None
    values = draw(spec.intensity)
    assert values.min() == 0.0  # no negative intensity
    within((values == 0).mean(), 0.5, 0.03)  # the lower half of the Gaussian sits at the bound
