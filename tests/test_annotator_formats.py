import numpy as np
import pytest

from omni.sdg_studio.core.annotators import BBOX2D_DTYPE, AnnotatorFormatError, check_annotator_output
from omni.sdg_studio.core.annotators.formats import CAMERA_PARAMS_KEYS


def test_bbox_dtype_field_order_matches_replicator():
    assert BBOX2D_DTYPE.names == ("semanticId", "x_min", "y_min", "x_max", "y_max", "occlusionRatio")
    assert [BBOX2D_DTYPE[n].str for n in BBOX2D_DTYPE.names] == ["<u4", "<i4", "<i4", "<i4", "<i4", "<f4"]


def test_images_are_checked_for_dtype_and_shape():
    check_annotator_output("rgb", np.zeros((4, 5, 4), np.uint8))
    check_annotator_output("distance_to_camera", np.zeros((4, 5), np.float32))
    with pytest.raises(AnnotatorFormatError, match="rgb: dtype float32"):
        check_annotator_output("rgb", np.zeros((4, 5, 4), np.float32))
    with pytest.raises(AnnotatorFormatError, match=r"shape \(4, 5, 1\)"):
        check_annotator_output("distance_to_image_plane", np.zeros((4, 5, 1), np.float32))


def test_segmentation_key_types():
    data = np.zeros((2, 2), np.uint32)
    check_annotator_output(
        "semantic_segmentation", {"data": data, "info": {"idToLabels": {"0": {"class": "BACKGROUND"}}}}
    )
    with pytest.raises(AnnotatorFormatError, match="must be str"):
        check_annotator_output("semantic_segmentation", {"data": data, "info": {"idToLabels": {0: {"class": "x"}}}})
    with pytest.raises(AnnotatorFormatError, match="idToSemantics"):
        check_annotator_output("instance_segmentation", {"data": data, "info": {"idToLabels": {0: "BACKGROUND"}}})


def test_bbox_rows_must_match_info():
    rows = np.zeros(2, BBOX2D_DTYPE)
    info = {"idToLabels": {}, "bboxIds": np.arange(2), "primPaths": ["/a"]}
    with pytest.raises(AnnotatorFormatError, match="one entry per row"):
        check_annotator_output("bounding_box_2d_tight", {"data": rows, "info": info})


def test_camera_params_needs_every_key():
    params = {k: 0 for k in CAMERA_PARAMS_KEYS}
    params["cameraProjection"] = params["cameraViewTransform"] = np.eye(4).ravel()
    check_annotator_output("camera_params", params)
    del params["cameraNearFar"]
    with pytest.raises(AnnotatorFormatError, match="cameraNearFar"):
        check_annotator_output("camera_params", params)


def test_unknown_annotator_is_named():
    with pytest.raises(AnnotatorFormatError, match="foo: unknown annotator"):
        check_annotator_output("foo", None)


def test_info_dict_values_and_idtosemantics_keys_are_checked():
    data = np.zeros((2, 2), np.uint32)
    with pytest.raises(AnnotatorFormatError, match="str -> str"):
        check_annotator_output("semantic_segmentation", {"data": data, "info": {"idToLabels": {"0": {"class": 3}}}})
    info = {"idToLabels": {0: "BACKGROUND"}, "idToSemantics": {"0": {"class": "BACKGROUND"}}}
    with pytest.raises(AnnotatorFormatError, match="idToSemantics key '0' has type str"):
        check_annotator_output("instance_segmentation", {"data": data, "info": info})
    info["idToSemantics"] = {0: {"class": "BACKGROUND"}}
    check_annotator_output("instance_segmentation", {"data": data, "info": info})
