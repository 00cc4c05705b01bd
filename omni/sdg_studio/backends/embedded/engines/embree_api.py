"""The parts of Embree's C API that embreex does not wrap, called through ctypes on the library it ships.

embreex builds a triangle geometry by copying it element by element through Python (about 4
microseconds a triangle), cannot change a geometry once built, and returns no instance ids; what it
does well is casting: ``EmbreeScene.run`` loops over the rays in C without the GIL. So the engine casts
with embreex's scenes and fills them here, with the Embree library embreex has loaded: vertex and
index buffers shared with numpy arrays (no copy), one geometry per mesh, vertex edits marked and
committed (Embree then rebuilds its BVH natively).

An embreex scene's ``RTCScene`` handle is its first C field (``scene_i``, declared in embreex's
``rtcore_scene.pxd`` just before the public ``is_committed``). Importing this module checks that layout
(the object size, and ``is_committed`` read back at its place) and that a one-triangle scene built by
embreex itself reports that triangle's bounds through the handle read; if anything differs (another
embreex build) the import raises ImportError, and the backend falls back to the numpy rasterizer with
its usual one-line notice.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import embreex
import embreex.rtcore as rtcore
import embreex.rtcore_scene as rtcore_scene
import numpy as np
from embreex.mesh_construction import TriangleMesh

_TRIANGLE = 0  # RTC_GEOMETRY_TYPE_TRIANGLE
_INDEX, _VERTEX = 0, 1  # RTC_BUFFER_TYPE_INDEX / _VERTEX
_UINT3, _FLOAT3 = 0x5003, 0x9003  # RTC_FORMAT_UINT3 / _FLOAT3
_HEAD = object.__basicsize__  # the Python object header before a Cython object's C fields
_POINTER = ctypes.sizeof(ctypes.c_void_p)


def _library() -> ctypes.CDLL:
    """The Embree shared library next to embreex (the one its extension modules are linked to)."""
    package = Path(embreex.__file__).resolve().parent
    patterns = ("*embree4*.dll",) if sys.platform == "win32" else ("*embree4*.so*", "*embree4*.dylib")
    for folder in (package.parent / "embreex.libs", package, package / ".dylibs", package.parent / "embreex.dylibs"):
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                return ctypes.CDLL(str(path))
    raise ImportError(f"the Embree library shipped with embreex was not found next to {package}")


def _bind(library: ctypes.CDLL, name: str, result: type | None, *arguments: type):
    function = getattr(library, name)
    function.restype = result
    function.argtypes = list(arguments)
    return function


_lib = _library()
_p, _u, _i, _s = ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_size_t
_get_scene_device = _bind(_lib, "rtcGetSceneDevice", _p, _p)
_release_device = _bind(_lib, "rtcReleaseDevice", None, _p)
_device_error = _bind(_lib, "rtcGetDeviceError", _i, _p)
_new_geometry = _bind(_lib, "rtcNewGeometry", _p, _p, _i)
_set_shared_buffer = _bind(_lib, "rtcSetSharedGeometryBuffer", None, _p, _i, _u, _i, _p, _s, _s, _s)
_update_buffer = _bind(_lib, "rtcUpdateGeometryBuffer", None, _p, _i, _u)
_commit_geometry = _bind(_lib, "rtcCommitGeometry", None, _p)
_release_geometry = _bind(_lib, "rtcReleaseGeometry", None, _p)
_attach_by_id = _bind(_lib, "rtcAttachGeometryByID", None, _p, _p, _u)
_commit_scene = _bind(_lib, "rtcCommitScene", None, _p)
_scene_bounds = _bind(_lib, "rtcGetSceneBounds", None, _p, ctypes.POINTER(ctypes.c_float * 8))


def scene_handle(scene: rtcore_scene.EmbreeScene) -> int:
    """The ``RTCScene`` of an embreex scene (its first C field; the layout is checked on import)."""
    return ctypes.c_void_p.from_address(id(scene) + _HEAD).value or 0


def _check_layout() -> None:
    scene = rtcore_scene.EmbreeScene()
    if type(scene).__basicsize__ != _HEAD + 3 * _POINTER:
        raise ImportError("embreex's EmbreeScene has an unexpected layout")
    marker = 0x5A3C1E07
    scene.is_committed = marker
    found = ctypes.c_int.from_address(id(scene) + _HEAD + _POINTER).value
    scene.is_committed = 0
    if found != marker:
        raise ImportError("embreex's EmbreeScene has an unexpected layout")
    triangle = np.array([[1.0, 2.0, 3.0], [4.0, 2.0, 3.0], [1.0, 5.0, 7.0]], np.float32)
    TriangleMesh(scene, triangle, np.array([[0, 1, 2]], np.int32))
    scene.run(np.zeros((1, 3), np.float32), np.array([[0, 0, 1]], np.float32))  # embreex commits on a first run
    bounds = (ctypes.c_float * 8)()
    _scene_bounds(scene_handle(scene), ctypes.byref(bounds))
    if not np.allclose(list(bounds)[:3] + list(bounds)[4:7], [1, 2, 3, 4, 5, 7]):
        raise ImportError("embreex's EmbreeScene handle does not answer as expected")


_check_layout()


class Device:
    """An Embree device (embreex's, so that its scenes can hold the geometries made here)."""

    def __init__(self) -> None:
        self.owner = rtcore.EmbreeDevice()  # keeps the device alive
        probe = rtcore_scene.EmbreeScene(self.owner)
        self.handle = _get_scene_device(scene_handle(probe))
        _release_device(self.handle)  # rtcGetSceneDevice added a reference; ``owner`` holds one

    def new_scene(self) -> tuple[rtcore_scene.EmbreeScene, int]:
        """An empty robust scene (embreex's flags) and its handle."""
        scene = rtcore_scene.EmbreeScene(self.owner)
        return scene, scene_handle(scene)

    def check(self, doing: str) -> None:
        code = _device_error(self.handle)
        if code:
            raise RuntimeError(f"Embree error {code} while {doing}")


def new_triangle_geometry(
    device: Device,
    vertices: np.ndarray,
    vertex_range: tuple[int, int],
    triangles: np.ndarray,
    triangle_range: tuple[int, int],
) -> int:
    """A committed triangle geometry reading rows ``vertex_range`` of ``vertices`` ((V + 1, 3) float32, one
    padding row for Embree's 16-byte loads) and ``triangle_range`` of ``triangles`` ((T, 3) int32, indices
    relative to the first vertex row), both shared, not copied: they must outlive the geometry."""
    handle = _new_geometry(device.handle, _TRIANGLE)
    first, stop = vertex_range
    _set_shared_buffer(handle, _VERTEX, 0, _FLOAT3, vertices.ctypes.data, first * 12, 12, stop - first)
    first, stop = triangle_range
    _set_shared_buffer(handle, _INDEX, 0, _UINT3, triangles.ctypes.data, first * 12, 12, stop - first)
    _commit_geometry(handle)
    return handle


def vertices_changed(geometry: int) -> None:
    """Tell Embree that a geometry's shared vertex rows were rewritten (the scenes holding it must be committed)."""
    _update_buffer(geometry, _VERTEX, 0)
    _commit_geometry(geometry)


def attach(scene: int, geometry: int, geometry_id: int) -> None:
    """Attach a geometry to a scene under ``geometry_id`` (the ``geomID`` its hits report)."""
    _attach_by_id(scene, geometry, geometry_id)


def release_geometry(geometry: int) -> None:
    """Drop the creator's reference (the scenes it is attached to keep theirs)."""
    _release_geometry(geometry)


def commit(scene: rtcore_scene.EmbreeScene) -> None:
    """Build (or rebuild) a scene's BVH now, so that threads casting later only read it."""
    _commit_scene(scene_handle(scene))
    scene.is_committed = 1
