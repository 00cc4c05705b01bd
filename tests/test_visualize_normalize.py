import numpy as np
import pytest

from omni.sdg_studio.core.visualize.normalize import (
    AnnotatorDataError,
    as_image,
    boxes,
    is_empty,
    pack_rgba,
    parse_label_key,
    segmentation,
    semantic_label_text,
    unpack,
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (3, (3, False)),
        ("3", (3, False)),
        (np.uint32(4), (4, False)),
        ("(35, 198, 233, 255)", (35 | 198 << 8 | 233 << 16 | 255 << 24, True)),
        ("(0,0,0,0)", (0, True)),
        ((1, 2, 3, 4), (1 | 2 << 8 | 3 << 16 | 4 << 24, True)),
    ],
)
def test_label_keys_of_every_kind_parse(key, expected):
    assert parse_label_key(key) == expected


@pytest.mark.parametrize("key", ["x", "(1, 2, 3)", "(1, 2, 3, 300)", 1.5, True])
def test_bad_label_keys_are_rejected(key):
    with pytest.raises(ValueError):
        parse_label_key(key)


def test_packed_rgba_equals_the_uint32_view_of_the_pixel():
    pixel = np.array([[35, 198, 233, 255]], np.uint8)
    assert pack_rgba(35, 198, 233, 255) == int(pixel.view("<u4")[0, 0])


def test_semantic_label_text_handles_one_or_several_taxonomies():
    assert semantic_label_text({"class": "palette,stack"}) == "palette,stack"
    assert semantic_label_text({"class": "box", "color": "red"}) == "class=box; color=red"
    assert semantic_label_text({"class": "box", "color": "red"}, taxonomy="color") == "red"
    assert semantic_label_text({"class": "box"}, taxonomy="color") == "UNLABELLED"


def test_depth_with_a_trailing_channel_is_squeezed():
    depth = np.ones((4, 5, 1), np.float32)
    assert as_image("distance_to_camera", depth).shape == (4, 5)


def test_unpack_and_empty_first_frames():
    assert unpack(np.zeros(2))[1] == {}
    assert unpack({"data": 1, "info": {"a": 1}}) == (1, {"a": 1})
    assert is_empty(None) and is_empty(np.zeros((0,), np.uint8)) and is_empty({"data": np.zeros(0), "info": {}})
    from omni.sdg_studio.core.annotators.formats import BBOX2D_DTYPE

    assert not is_empty({"data": np.zeros(0, BBOX2D_DTYPE), "info": {}}), "no boxes is a valid answer"


def test_instance_keys_may_be_ints_and_semantic_keys_strings():
    inst = segmentation(
        "instance_segmentation",
        {
            "data": np.array([[0, 5]], np.uint32),
            "info": {"idToLabels": {0: "BACKGROUND", 5: "/World/A"}, "idToSemantics": {5: {"class": "a"}}},
        },
    )
    assert inst.labels == {0: "BACKGROUND", 5: "/World/A"} and inst.semantics == {5: "a"} and not inst.colorized


def test_mixed_id_and_color_keys_are_an_error():
    value = {"data": np.zeros((1, 1), np.uint32), "info": {"idToLabels": {"0": {"class": "a"}, "(0, 0, 0, 0)": {}}}}
    with pytest.raises(AnnotatorDataError, match="mixes"):
        segmentation("semantic_segmentation", value)


def test_segmentation_without_id_to_labels_names_the_annotator():
    with pytest.raises(AnnotatorDataError, match="semantic_segmentation: info\\['idToLabels'\\] missing"):
        segmentation("semantic_segmentation", {"data": np.zeros((1, 1), np.uint32), "info": {}})


def test_float_segmentation_is_rejected():
    value = {"data": np.zeros((2, 2), np.float32), "info": {"idToLabels": {}}}
    with pytest.raises(AnnotatorDataError, match="integer ids"):
        segmentation("instance_id_segmentation", value)


def test_box_labels_follow_semantic_id_and_prim_paths_must_match_rows():
    from omni.sdg_studio.core.annotators.formats import BBOX2D_DTYPE

    rows = np.zeros(2, BBOX2D_DTYPE)
    rows["semanticId"] = [4, 9]
    found = boxes("bounding_box_2d_tight", {"data": rows, "info": {"idToLabels": {"4": {"class": "cone"}}}})
    assert found.labels == ["cone", "#9"]
    with pytest.raises(AnnotatorDataError, match="1 primPaths for 2 boxes"):
        boxes("bounding_box_2d_tight", {"data": rows, "info": {"idToLabels": {}, "primPaths": ["/a"]}})
