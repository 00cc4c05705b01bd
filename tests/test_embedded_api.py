"""The Python API validates its arguments at the boundary: one SdgStudioError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from embedded_stages import add_camera, add_cube, new_stage
from pxr import Usd

from omni.sdg_studio.backends.embedded import EmbeddedBackend, EmbeddedRenderError
from omni.sdg_studio.backends.embedded.camera import read_camera
from omni.sdg_studio.core.errors import SdgStudioError

CAMERA = "/World/Camera"


@pytest.fixture
def stage():
    stage = new_stage()
    add_camera(stage)
    add_cube(stage, "/World/Cube", 1.0, (0.0, 0.0, -5.0), label="cube")
    return stage


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stage": None}, "stage None: expected a Usd.Stage or the path of a USD file"),
        ({"stage": 42}, "stage 42: expected a Usd.Stage"),
        ({"engine": 5}, "engine 5: expected one of auto, embree, numpy or a RayEngine"),
        ({"engine": "cuda"}, "engine 'cuda': unknown"),
        ({"threads": 0}, "threads 0: expected a whole number of at least 1"),
        ({"threads": -3}, "threads -3"),
        ({"threads": True}, "threads True"),
        ({"threads": 1.5}, "threads 1.5"),
    ],
)
def test_bad_backend_arguments_are_named(stage, kwargs, message):
    arguments = {"stage": stage, **kwargs}
    with pytest.raises(EmbeddedRenderError, match=message) as caught:
        EmbeddedBackend(**arguments)
    assert isinstance(caught.value, SdgStudioError)


def test_a_path_is_opened_and_a_missing_one_named(tmp_path, stage):
    stage.GetRootLayer().Export(str(tmp_path / "scene.usda"))
    frame = EmbeddedBackend(tmp_path / "scene.usda").render(CAMERA, (16, 16), ["instance_id_segmentation"])
    assert "/World/Cube" in frame["instance_id_segmentation"]["info"]["idToLabels"].values()
    with pytest.raises(SdgStudioError, match=r"nowhere\.usda: no such file"):
        EmbeddedBackend(str(tmp_path / "nowhere.usda"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"camera": 123}, "camera 123: expected a camera prim path or 'auto'"),
        ({"camera": None}, "camera None"),
        ({"annotators": None}, "annotators None: expected a list of annotator names"),
        ({"annotators": []}, r"annotators \[\]: name at least one of rgb"),
        ({"annotators": ["rgb", 3]}, "annotators"),
        ({"resolution": (64.7, 48.2)}, r"resolution \(64.7, 48.2\): expected \(width, height\), two whole numbers"),
        ({"resolution": (True, True)}, r"resolution \(True, True\)"),
        ({"resolution": "64x64"}, "resolution '64x64'"),
        ({"resolution": (0, 16)}, "at least 1"),
        ({"time": "later"}, "time 'later': must be a finite time code"),
        ({"time": float("nan")}, "time nan"),
        ({"semantic_types": 5}, "semantic_types 5: expected taxonomy names"),
        ({"semantic_types": ()}, "give at least one taxonomy name"),
        ({"colorize": "yes"}, "colorize 'yes': expected True or False"),
    ],
)
def test_bad_render_arguments_are_named(stage, kwargs, message):
    arguments = {"camera": CAMERA, "resolution": (16, 16), "annotators": ["rgb"], **kwargs}
    camera, resolution, annotators = (arguments.pop(k) for k in ("camera", "resolution", "annotators"))
    with pytest.raises(EmbeddedRenderError, match=message):
        EmbeddedBackend(stage).render(camera, resolution, annotators, **arguments)


def test_numpy_integers_and_a_single_taxonomy_string_are_accepted(stage):
    frame = EmbeddedBackend(stage).render(
        CAMERA, (np.int64(16), np.int32(12)), "semantic_segmentation", semantic_types="class"
    )
    assert frame["semantic_segmentation"]["data"].shape == (12, 16)
    assert {"class": "cube"} in frame["semantic_segmentation"]["info"]["idToLabels"].values()


@pytest.mark.parametrize("value", [float("nan"), 0.0, -1.0])
def test_a_bad_vertical_aperture_is_one_clear_error(stage, value):
    stage.GetPrimAtPath(CAMERA).GetAttribute("verticalAperture").Set(value)
    with pytest.raises(EmbeddedRenderError, match=f"camera '/World/Camera': verticalAperture is {value}"):
        EmbeddedBackend(stage).render(CAMERA, (16, 16), ["rgb"])


@pytest.mark.parametrize("engine_name", ["embree", "numpy"])
def test_engines_answer_misses_before_any_scene_is_loaded(stage, engine_name):
    from omni.sdg_studio.backends.embedded.engines import make_engine

    engine = make_engine(engine_name)
    camera = read_camera(stage, CAMERA, (8, 8), Usd.TimeCode.Default())
    hits = engine.cast(camera)
    assert (hits.geometry == -1).all() and np.isinf(hits.distance).all()
    met = engine.meets(camera, np.arange(64), np.zeros(64, np.int64), [np.zeros(0, np.int64)])
    assert met.shape == (64,) and not met.any()
