"""Project world points to pixels with Replicator's ``camera_params``.

Conventions (Isaac Sim's pose writer and data-visualization writer, checked against the golden
pose-writer sample in ``shared/anchors/replicator_golden/pose_writer_pinhole``): ``cameraViewTransform``
and ``cameraProjection`` hold 16 values of row-major 4x4 matrices used with *row* vectors
(``p_view = p_world @ V``, ``p_clip = p_view @ P``; the translation sits in the last row), the camera
looks down -Z, and NDC maps to pixels as ``((x + 1) * w / 2, (1 - y) * h / 2)`` with
``renderProductResolution = [w, h]``. A ``bounding_box_3d`` row's ``transform`` is local-to-world in
the same row-vector form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from omni.sdg_studio.core.visualize.normalize import AnnotatorDataError


@dataclass(frozen=True)
class CameraProjection:
    """A camera as one ``camera_params`` record gives it: view and projection matrices and resolution."""

    view: np.ndarray  # (4, 4) world -> camera, row-vector form
    projection: np.ndarray  # (4, 4) camera -> clip, row-vector form
    width: int
    height: int

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, source: str = "camera_params") -> CameraProjection:
        """Read ``cameraViewTransform``, ``cameraProjection`` and ``renderProductResolution``."""
        try:
            view = np.asarray(params["cameraViewTransform"], np.float64).reshape(4, 4)
            projection = np.asarray(params["cameraProjection"], np.float64).reshape(4, 4)
            width, height = (int(v) for v in np.asarray(params["renderProductResolution"]).reshape(-1)[:2])
        except KeyError as exc:
            raise AnnotatorDataError(f"{source}: missing {exc.args[0]}") from exc
        except (ValueError, TypeError) as exc:
            raise AnnotatorDataError(f"{source}: {exc} (matrices need 16 values, resolution [w, h])") from exc
        model = params.get("cameraModel", "pinhole")
        if isinstance(model, str) and model.lower() not in ("pinhole", ""):
            raise AnnotatorDataError(f"{source}: cameraModel {model!r} is not drawn (only pinhole)")
        return cls(view, projection, width, height)

    def project(self, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(..., 3) world points -> (..., 2) pixel coordinates and a mask of points in front of the camera."""
        homogeneous = np.concatenate([world, np.ones((*world.shape[:-1], 1))], axis=-1)
        clip = homogeneous @ self.view @ self.projection
        w = clip[..., 3]
        in_front = w > 1e-9
        safe_w = np.where(in_front, w, 1.0)
        x_ndc = clip[..., 0] / safe_w
        y_ndc = clip[..., 1] / safe_w
        pixels = np.stack([(x_ndc + 1) * self.width / 2, (1 - y_ndc) * self.height / 2], axis=-1)
        return pixels, in_front
