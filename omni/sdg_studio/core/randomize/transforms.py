"""Rotations and rigid transforms as numpy arrays, in USD's row-vector convention (``p' = p @ M``).

A world transform is ``scale @ rotation @ translation``: ``M[:3, :3] = diag(s) @ R`` and ``M[3, :3] = t``.
Angles are degrees, as in USD. ``Basis`` holds the stage's up axis and two horizontal axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from pxr import Usd, UsdGeom


@dataclass(frozen=True)
class Basis:
    """The stage's axes: ``horizontal`` (2, 3) spans the ground plane, ``up`` is the up axis (right-handed)."""

    horizontal: np.ndarray
    up: np.ndarray

    @classmethod
    def of_stage(cls, stage: Usd.Stage) -> Basis:
        if UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y:
            return cls(np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]), np.array([0.0, 1.0, 0.0]))
        return cls(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), np.array([0.0, 0.0, 1.0]))

    def plane(self, points: np.ndarray) -> np.ndarray:
        """Ground-plane coordinates ``(..., 2)`` of world points."""
        return points @ self.horizontal.T

    def height(self, points: np.ndarray) -> np.ndarray:
        """Up coordinate of world points."""
        return points @ self.up

    def direction(self, azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
        """Unit vectors ``(n, 3)``: ``azimuth`` degrees around the up axis from the first horizontal axis,
        ``elevation`` degrees above the ground plane."""
        az, el = np.radians(azimuth), np.radians(elevation)
        flat = np.cos(el)[:, None] * (
            np.cos(az)[:, None] * self.horizontal[0] + np.sin(az)[:, None] * self.horizontal[1]
        )
        return flat + np.sin(el)[:, None] * self.up


def axis_rotation(axis: np.ndarray, degrees: ArrayLike) -> np.ndarray:
    """``(n, 3, 3)`` row-vector rotations by ``degrees`` about the unit ``axis`` (right-handed)."""
    theta = np.radians(np.asarray(degrees, np.float64).reshape(-1))
    x, y, z = (float(v) for v in axis)
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    sin, cos = np.sin(theta)[:, None, None], np.cos(theta)[:, None, None]
    return np.eye(3) - sin * k + (1.0 - cos) * (k @ k)  # transpose of the column-vector Rodrigues matrix


def euler_xyz(degrees: np.ndarray) -> np.ndarray:
    """``(n, 3, 3)`` rotations of USD's ``rotateXYZ`` op: about X, then Y, then Z."""
    angles = np.asarray(degrees, np.float64).reshape(-1, 3)
    rx = axis_rotation(np.array([1.0, 0.0, 0.0]), angles[:, 0])
    ry = axis_rotation(np.array([0.0, 1.0, 0.0]), angles[:, 1])
    rz = axis_rotation(np.array([0.0, 0.0, 1.0]), angles[:, 2])
    return rx @ ry @ rz


def quaternion_matrices(quaternions: np.ndarray) -> np.ndarray:
    """``(n, 3, 3)`` row-vector rotations of unit quaternions ``(w, x, y, z)``."""
    q = np.asarray(quaternions, np.float64).reshape(-1, 4)
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    column = np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=1),
        ],
        axis=1,
    )
    return np.transpose(column, (0, 2, 1))


def matrix_quaternions(rotations: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(n, 4)`` ``(w, x, y, z)`` with ``w >= 0`` of row-vector rotations."""
    m = np.transpose(np.asarray(rotations, np.float64).reshape(-1, 3, 3), (0, 2, 1))  # column form
    # Largest-component method, vectorised: build all four candidates, keep the best-conditioned one.
    trace = m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]
    candidates = np.stack(
        [
            np.stack([1 + trace, m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]], 1),
            np.stack(
                [
                    m[:, 2, 1] - m[:, 1, 2],
                    1 + m[:, 0, 0] - m[:, 1, 1] - m[:, 2, 2],
                    m[:, 0, 1] + m[:, 1, 0],
                    m[:, 0, 2] + m[:, 2, 0],
                ],
                1,
            ),
            np.stack(
                [
                    m[:, 0, 2] - m[:, 2, 0],
                    m[:, 0, 1] + m[:, 1, 0],
                    1 - m[:, 0, 0] + m[:, 1, 1] - m[:, 2, 2],
                    m[:, 1, 2] + m[:, 2, 1],
                ],
                1,
            ),
            np.stack(
                [
                    m[:, 1, 0] - m[:, 0, 1],
                    m[:, 0, 2] + m[:, 2, 0],
                    m[:, 1, 2] + m[:, 2, 1],
                    1 - m[:, 0, 0] - m[:, 1, 1] + m[:, 2, 2],
                ],
                1,
            ),
        ],
        axis=1,
    )
    diagonal = np.stack(
        [
            1 + trace,
            1 + m[:, 0, 0] - m[:, 1, 1] - m[:, 2, 2],
            1 - m[:, 0, 0] + m[:, 1, 1] - m[:, 2, 2],
            1 - m[:, 0, 0] - m[:, 1, 1] + m[:, 2, 2],
        ],
        1,
    )
    best = candidates[np.arange(len(m)), np.argmax(diagonal, axis=1)]
    best /= np.linalg.norm(best, axis=1, keepdims=True)
    return best * np.where(best[:, :1] < 0, -1.0, 1.0)


def uniform_rotations(rng: np.random.Generator, count: int) -> np.ndarray:
    """``(count, 3, 3)`` rotations uniform over SO(3) (normalised 4-D Gaussians are uniform unit quaternions)."""
    q = rng.normal(size=(count, 4))
    return quaternion_matrices(q / np.linalg.norm(q, axis=1, keepdims=True))


def look_at(eyes: np.ndarray, targets: np.ndarray, basis: Basis, roll: np.ndarray) -> np.ndarray:
    """``(n, 3, 3)`` camera rotations: local -Z from ``eyes`` toward ``targets``, local +Y toward the up axis,
    then turned ``roll`` degrees about the view axis. Looking straight up or down, the first horizontal
    axis stands in for the up axis."""
    forward = targets - eyes
    forward /= np.maximum(np.linalg.norm(forward, axis=1, keepdims=True), 1e-12)
    up = np.broadcast_to(basis.up, forward.shape).copy()
    parallel = np.abs(forward @ basis.up) > 1 - 1e-9
    up[parallel] = basis.horizontal[0]
    right = np.cross(forward, up)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    cam_up = np.cross(right, forward)
    rows = np.stack([right, cam_up, -forward], axis=1)
    turn = axis_rotation(np.array([0.0, 0.0, 1.0]), np.asarray(roll, np.float64).reshape(-1))
    return turn @ rows


def compose(scale: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """``(n, 4, 4)`` transforms ``diag(scale) @ rotation`` then ``translation``."""
    n = len(rotation)
    out = np.zeros((n, 4, 4))
    out[:, :3, :3] = scale[:, :, None] * rotation
    out[:, 3, :3] = translation
    out[:, 3, 3] = 1.0
    return out


def decompose(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(scale (n, 3), rotation (n, 3, 3), translation (n, 3))`` of affine transforms; shear is dropped
    (the rotation is the nearest orthonormal one) and a mirror goes into the x scale."""
    linear = matrices[:, :3, :3]
    scale = np.linalg.norm(linear, axis=2)
    rows = linear / np.maximum(scale[:, :, None], 1e-300)
    u, _, vt = np.linalg.svd(rows)
    rotation = u @ vt
    mirrored = np.linalg.det(rotation) < 0
    rotation[mirrored, 0, :] *= -1.0
    scale[mirrored, 0] *= -1.0
    return scale, rotation, matrices[:, 3, :3].copy()


def rigid(matrices: np.ndarray) -> np.ndarray:
    """``matrices`` without their scale (rotation and translation only)."""
    _, rotation, translation = decompose(matrices)
    return compose(np.ones((len(matrices), 3)), rotation, translation)
