"""A ``UsdGeom.Camera`` as a pinhole: pixel rays, projection and Replicator's ``camera_params``.

Conventions (Isaac Sim's): the camera looks down its local -Z with +Y up; pixels are square, so the
effective vertical aperture is ``horizontalAperture * height / width`` (the authored vertical
aperture is reported but, as in RTX, does not stretch the image); aperture offsets shift the
film window (same units as the apertures). Pixel (i, j) samples the ray through its center;
row 0 is the top of the image. Matrices use usd-core's row-vector convention (``p' = [p, 1] @ M``),
as Replicator's ``cameraViewTransform`` / ``cameraProjection`` do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from numbers import Integral
from typing import Any

import numpy as np
from pxr import Usd, UsdGeom

from omni.sdg_studio.backends.embedded.errors import EmbeddedRenderError
from omni.sdg_studio.backends.embedded.vectors import gather_rows, transform3
from omni.sdg_studio.core.render_backend import AUTO_CAMERA

#: Largest image side and pixel count the embedded backend accepts.
MAX_SIDE = 16384
MAX_PIXELS = 64 * 1024 * 1024


def check_resolution(resolution: Any) -> tuple[int, int]:
    """``(width, height)`` as ints, or an error naming what is wrong with it."""
    try:
        values = list(resolution)
    except TypeError:
        values = []
    if len(values) != 2 or any(isinstance(v, bool) or not isinstance(v, Integral) for v in values):
        raise EmbeddedRenderError(f"resolution {resolution!r}: expected (width, height), two whole numbers")
    width, height = (int(v) for v in values)
    if width <= 0 or height <= 0:
        raise EmbeddedRenderError(f"resolution {width}x{height}: width and height must be at least 1")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise EmbeddedRenderError(
            f"resolution {width}x{height}: too large (at most {MAX_SIDE} per side and {MAX_PIXELS} pixels)"
        )
    return width, height


@dataclass(frozen=True)
class Intrinsics:
    """What the camera-space rays depend on (cached per value)."""

    width: int
    height: int
    focal_length: float
    horizontal_aperture: float
    horizontal_offset: float
    vertical_offset: float

    @property
    def vertical_aperture(self) -> float:
        """Effective vertical aperture for square pixels."""
        return self.horizontal_aperture * self.height / self.width


@dataclass
class PinholeCamera:
    """A camera at one time code, ready to cast rays."""

    path: str
    intrinsics: Intrinsics
    authored_vertical_aperture: float
    near: float
    far: float
    focus_distance: float
    f_stop: float
    #: Camera-to-world, row-vector convention, as authored (may hold scale).
    camera_to_world: np.ndarray
    meters_per_unit: float
    _world_dirs: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def width(self) -> int:
        return self.intrinsics.width

    @property
    def height(self) -> int:
        return self.intrinsics.height

    @property
    def position(self) -> np.ndarray:
        return self.camera_to_world[3, :3].copy()

    @property
    def rotation(self) -> np.ndarray:
        """Orthonormal 3x3 rows: camera +X, +Y, +Z axes in world space."""
        r = self.camera_to_world[:3, :3]
        return r / np.linalg.norm(r, axis=1, keepdims=True)

    @cached_property
    def world_to_camera(self) -> np.ndarray:
        """Rigid world-to-camera transform (row-vector), scale removed."""
        rigid = np.eye(4)
        rigid[:3, :3] = self.rotation
        rigid[3, :3] = self.position
        return np.linalg.inv(rigid)

    def view_transform(self) -> np.ndarray:
        """Replicator's ``cameraViewTransform``: the inverse of the camera's world matrix (row-vector)."""
        return np.linalg.inv(self.camera_to_world)

    def projection(self) -> np.ndarray:
        """Replicator's ``cameraProjection``: infinite reversed-Z perspective, row-vector convention."""
        k = self.intrinsics
        v_ap = k.vertical_aperture
        p = np.zeros((4, 4))
        p[0, 0] = 2 * k.focal_length / k.horizontal_aperture
        p[1, 1] = 2 * k.focal_length / v_ap
        p[2, 0] = 2 * k.horizontal_offset / k.horizontal_aperture
        p[2, 1] = 2 * k.vertical_offset / v_ap
        p[2, 3] = -1.0
        p[3, 2] = self.near
        return p

    def cosines(self) -> np.ndarray:
        """Cosine of each pixel ray's angle to the view axis (H*W,) float32 (image-plane depth / distance)."""
        return _film(self.intrinsics).cosines

    def world_rays(self, pixels: slice | np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Unit world-space ray directions (N, 3) float32 and cosines (N,) for ``pixels`` or all.

        ``pixels`` is a flat slice (computed for it alone, unless all were) or flat indices. Directions
        are the camera-space ones of the intrinsics (computed once) turned by the camera's rotation.
        """
        film = _film(self.intrinsics)
        rotation = self.rotation.astype(np.float32)
        if self._world_dirs is None and (pixels is None or not isinstance(pixels, slice)):
            self._world_dirs = transform3(film.directions, rotation)
        if self._world_dirs is not None:
            if pixels is None or isinstance(pixels, slice):
                dirs = self._world_dirs if pixels is None else self._world_dirs[pixels]
            else:
                dirs = gather_rows(self._world_dirs, pixels)
        else:
            dirs = transform3(film.directions[pixels], rotation)
        return dirs, (film.cosines if pixels is None else film.cosines[pixels])

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, 3) to continuous pixel coordinates (N, 2) and camera-space depth along -Z (N,)."""
        view = self.world_to_camera
        cam = transform3(np.asarray(points, np.float64), view[:3, :3], view[3, :3])
        depth = -cam[:, 2]
        k = self.intrinsics
        with np.errstate(divide="ignore", invalid="ignore"):
            film_x = k.focal_length * cam[:, 0] / depth - k.horizontal_offset
            film_y = k.focal_length * cam[:, 1] / depth - k.vertical_offset
        px = (film_x / k.horizontal_aperture + 0.5) * k.width
        py = (0.5 - film_y / k.vertical_aperture) * k.height
        return np.stack([px, py], axis=1), depth

    def camera_params(self) -> dict[str, Any]:
        """Replicator's ``camera_params`` annotator dict."""
        k = self.intrinsics
        return {
            "cameraAperture": np.array([k.horizontal_aperture, self.authored_vertical_aperture], np.float32),
            "cameraApertureOffset": np.array([k.horizontal_offset, k.vertical_offset], np.float32),
            "cameraFisheyeLensP": np.zeros(0, np.float32),
            "cameraFisheyeLensS": np.zeros(0, np.float32),
            "cameraFisheyeMaxFOV": 0.0,
            "cameraFisheyeNominalHeight": 0,
            "cameraFisheyeNominalWidth": 0,
            "cameraFisheyeOpticalCentre": np.zeros(2, np.float32),
            "cameraFisheyePolynomial": np.zeros(6, np.float32),
            "cameraFocalLength": float(k.focal_length),
            "cameraFocusDistance": float(self.focus_distance),
            "cameraFStop": float(self.f_stop),
            "cameraModel": "pinhole",
            "cameraNearFar": np.array([self.near, self.far], np.float32),
            "cameraProjection": self.projection().ravel(),
            "cameraViewTransform": self.view_transform().ravel(),
            "metersPerSceneUnit": float(self.meters_per_unit),
            "renderProductResolution": np.array([k.width, k.height], np.int32),
        }


@dataclass(frozen=True)
class _Film:
    """Per-pixel rays of one set of intrinsics: camera-space unit directions (H*W, 3) and cosines (H*W,)."""

    directions: np.ndarray
    cosines: np.ndarray


#: Films of the last few intrinsics (12 bytes a pixel each).
_FILMS: dict[Intrinsics, _Film] = {}
_MAX_FILMS = 4


def _film(k: Intrinsics) -> _Film:
    """The rays through every pixel center of intrinsics ``k`` in camera space (looking down -Z, +Y up)."""
    cached = _FILMS.get(k)
    if cached is None:
        ndc_x = 2 * (np.arange(k.width) + 0.5) / k.width - 1
        ndc_y = 1 - 2 * (np.arange(k.height) + 0.5) / k.height
        x = (ndc_x * k.horizontal_aperture / 2 + k.horizontal_offset) / k.focal_length
        y = (ndc_y * k.vertical_aperture / 2 + k.vertical_offset) / k.focal_length
        cos = 1.0 / np.sqrt(x[None, :] ** 2 + y[:, None] ** 2 + 1.0)
        directions = np.empty((k.height, k.width, 3), np.float32)
        directions[..., 0] = x[None, :] * cos
        directions[..., 1] = y[:, None] * cos
        directions[..., 2] = -cos
        cached = _Film(directions.reshape(-1, 3), cos.ravel().astype(np.float32))
        if len(_FILMS) >= _MAX_FILMS:
            _FILMS.clear()
        _FILMS[k] = cached
    return cached


def _positive(value: Any, name: str, path: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not np.isfinite(number) or number <= 0:
        raise EmbeddedRenderError(f"camera {path!r}: {name} is {value}, must be a positive number")
    return number


def read_camera(stage: Usd.Stage, path: str, resolution: tuple[int, int], time: Usd.TimeCode) -> PinholeCamera:
    """The camera at ``path`` (a ``UsdGeom.Camera``) rendered at ``resolution``, at ``time``."""
    prim = stage.GetPrimAtPath(path) if path.startswith("/") else Usd.Prim()
    if not prim:
        cameras = [str(p.GetPath()) for p in stage.Traverse() if p.IsA(UsdGeom.Camera)]
        hint = f"; cameras on the stage: {', '.join(cameras)}" if cameras else "; the stage has no camera"
        raise EmbeddedRenderError(f"camera {path!r}: no such prim{hint}")
    if not prim.IsA(UsdGeom.Camera):
        raise EmbeddedRenderError(f"camera {path!r}: is a {prim.GetTypeName() or 'typeless prim'}, not a Camera")
    camera = UsdGeom.Camera(prim)
    projection = camera.GetProjectionAttr().Get(time)
    if projection == UsdGeom.Tokens.orthographic:
        raise EmbeddedRenderError(f"camera {path!r}: orthographic cameras are not supported, only perspective")
    width, height = resolution
    focal = _positive(camera.GetFocalLengthAttr().Get(time), "focalLength", path)
    h_ap = _positive(camera.GetHorizontalApertureAttr().Get(time), "horizontalAperture", path)
    v_ap = _positive(camera.GetVerticalApertureAttr().Get(time), "verticalAperture", path)
    near, far = (float(v) for v in camera.GetClippingRangeAttr().Get(time))
    if not (0 < near < far) or not np.isfinite(far):
        raise EmbeddedRenderError(f"camera {path!r}: clippingRange ({near}, {far}) must satisfy 0 < near < far")
    matrix = np.array(UsdGeom.XformCache(time).GetLocalToWorldTransform(prim), np.float64).reshape(4, 4)
    if not np.isfinite(matrix).all() or abs(np.linalg.det(matrix[:3, :3])) < 1e-12:
        raise EmbeddedRenderError(f"camera {path!r}: its world transform is degenerate (NaN or zero scale)")
    return PinholeCamera(
        path=str(prim.GetPath()),
        intrinsics=Intrinsics(
            width=width,
            height=height,
            focal_length=focal,
            horizontal_aperture=h_ap,
            horizontal_offset=float(camera.GetHorizontalApertureOffsetAttr().Get(time)),
            vertical_offset=float(camera.GetVerticalApertureOffsetAttr().Get(time)),
        ),
        authored_vertical_aperture=v_ap,
        near=near,
        far=far,
        focus_distance=float(camera.GetFocusDistanceAttr().Get(time)),
        f_stop=float(camera.GetFStopAttr().Get(time)),
        camera_to_world=matrix,
        meters_per_unit=float(UsdGeom.GetStageMetersPerUnit(stage)),
    )


#: The three-quarter view of :func:`auto_camera`: 45 degrees around the up axis, 30 degrees above the horizon.
_AUTO_AZIMUTH = np.radians(45.0)
_AUTO_ELEVATION = np.radians(30.0)
_AUTO_FOCAL_LENGTH = 24.0
_AUTO_APERTURE = 20.955


def auto_camera(
    bounds: np.ndarray | None, up_axis: str, meters_per_unit: float, resolution: tuple[int, int]
) -> PinholeCamera:
    """A camera framing world ``bounds`` (2, 3) from a three-quarter view above them.

    It looks at the bounds' center from 45 degrees around the stage's up axis (Y or Z) and 30 degrees
    above the horizon, far enough for the bounding sphere to fit the narrower field of view. Without
    bounds (nothing visible) it frames a 1 m sphere around the origin (in the stage's units).
    """
    unit = 1.0 / meters_per_unit if meters_per_unit > 0 and np.isfinite(meters_per_unit) else 1.0
    if bounds is None or not np.isfinite(bounds).all():
        center, radius = np.zeros(3), unit
    else:
        center = (bounds[0] + bounds[1]) / 2.0
        radius = max(float(np.linalg.norm(bounds[1] - bounds[0])) / 2.0, 1e-3 * unit)
    width, height = resolution
    half_fov = np.arctan(_AUTO_APERTURE * min(1.0, height / width) / (2 * _AUTO_FOCAL_LENGTH))
    distance = 1.05 * radius / np.sin(half_fov)
    horizontal = np.cos(_AUTO_ELEVATION)
    if up_axis == "Y":
        up = np.array([0.0, 1.0, 0.0])
        toward = np.array(
            [horizontal * np.sin(_AUTO_AZIMUTH), np.sin(_AUTO_ELEVATION), horizontal * np.cos(_AUTO_AZIMUTH)]
        )
    else:
        up = np.array([0.0, 0.0, 1.0])
        toward = np.array(
            [horizontal * np.cos(_AUTO_AZIMUTH), -horizontal * np.sin(_AUTO_AZIMUTH), np.sin(_AUTO_ELEVATION)]
        )
    eye = center + distance * toward
    z_axis = toward  # the camera looks down its -Z, toward the center
    x_axis = np.cross(up, z_axis)
    x_axis /= np.linalg.norm(x_axis)
    matrix = np.eye(4)
    matrix[0, :3], matrix[1, :3], matrix[2, :3], matrix[3, :3] = x_axis, np.cross(z_axis, x_axis), z_axis, eye
    near = max((distance - radius) * 0.5, distance * 1e-4)
    return PinholeCamera(
        path=AUTO_CAMERA,
        intrinsics=Intrinsics(width, height, _AUTO_FOCAL_LENGTH, _AUTO_APERTURE, 0.0, 0.0),
        authored_vertical_aperture=_AUTO_APERTURE * height / width,
        near=near,
        far=(distance + radius) * 1.5,
        focus_distance=distance,
        f_stop=0.0,
        camera_to_world=matrix,
        meters_per_unit=meters_per_unit,
    )
