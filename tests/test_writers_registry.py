"""The writer registry: listing writers and typed parameters, validating dicts, custom writers."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint

import pytest
from frames import make_batch
from writer_plugins import BoxCountWriter, Untyped

from omni.sdg_studio.core.writers import registry as registry_module
from omni.sdg_studio.core.writers.basic_writer import BasicWriter
from omni.sdg_studio.core.writers.params import WriterParamError
from omni.sdg_studio.core.writers.registry import (
    WRITERS,
    UnknownWriterError,
    WriterRegistry,
    create_writer,
    get_writer,
)

#: BasicWriter.initialize() parameters and defaults as recorder_writers.md section 2.1 lists them
#: (output_dir and backend are resolved by the recorder, not user parameters).
REPLICATOR_BASIC_WRITER = {
    "s3_bucket": None,
    "s3_region": None,
    "s3_endpoint": None,
    "semantic_types": None,
    "rgb": False,
    "bounding_box_2d_tight": False,
    "bounding_box_2d_loose": False,
    "semantic_segmentation": False,
    "instance_id_segmentation": False,
    "instance_segmentation": False,
    "distance_to_camera": False,
    "distance_to_image_plane": False,
    "bounding_box_3d": False,
    "occlusion": False,
    "normals": False,
    "motion_vectors": False,
    "camera_params": False,
    "pointcloud": False,
    "pointcloud_include_unlabelled": False,
    "image_output_format": "png",
    "colorize_semantic_segmentation": True,
    "colorize_instance_id_segmentation": True,
    "colorize_instance_segmentation": True,
    "colorize_depth": False,
    "skeleton_data": False,
    "frame_padding": 4,
    "semantic_filter_predicate": None,
    "use_common_output_dir": False,
}
#: The 20 flags Isaac Sim's recorder passes (default_config.json basic_writer_params), one run's values.
RECORDER_FLAGS = {
    "rgb": True,
    "bounding_box_2d_tight": True,
    "bounding_box_2d_loose": False,
    "semantic_segmentation": True,
    "colorize_semantic_segmentation": False,
    "instance_id_segmentation": False,
    "colorize_instance_id_segmentation": False,
    "instance_segmentation": False,
    "colorize_instance_segmentation": False,
    "distance_to_camera": True,
    "distance_to_image_plane": False,
    "colorize_depth": False,
    "bounding_box_3d": False,
    "occlusion": False,
    "normals": False,
    "motion_vectors": False,
    "camera_params": False,
    "pointcloud": False,
    "pointcloud_include_unlabelled": False,
    "skeleton_data": False,
}


def test_builtin_writers_are_listed():
    assert WRITERS.names()[:3] == ["BasicWriter", "KittiWriter", "CocoWriter"]
    assert all(entry.summary for entry in WRITERS.entries())


def test_basic_writer_parameters_match_replicator_initialize():
    entry = get_writer("BasicWriter")
    assert entry.defaults() == REPLICATOR_BASIC_WRITER
    assert list(entry.defaults()) == list(REPLICATOR_BASIC_WRITER)  # same order as initialize()
    assert entry.param("image_output_format").choices[0] == "png"
    assert entry.param("semantic_types").kind == "str_list" and entry.param("semantic_types").nullable
    assert entry.param("frame_padding").help.startswith("Digits")
    assert {p.name for p in entry.params if p.compat} == {"s3_bucket", "s3_region", "s3_endpoint", "skeleton_data"}


def test_kitti_and_coco_parameters_are_typed():
    kitti = get_writer("KittiWriter")
    assert kitti.param("mapping_dict").kind == "mapping"
    assert kitti.param("partly_occluded_threshold").kind == "float"
    assert kitti.defaults()["bbox_height_threshold"] == 25
    coco = get_writer("CocoWriter")
    assert coco.param("coco_categories").kind == "mapping" and coco.defaults()["frame_padding"] == 4


def test_the_isaac_recorder_flags_validate_and_record(tmp_path):
    entry = get_writer("BasicWriter")
    writer = entry.create({**RECORDER_FLAGS, "output_dir": "ignored"}, output_dir=tmp_path, seed=9)
    assert isinstance(writer, BasicWriter) and writer.output_dir == tmp_path and writer.seed == 9
    writer.write(make_batch(0))
    writer.finish()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bounding_box_2d_tight_0000.npy",
        "bounding_box_2d_tight_labels_0000.json",
        "bounding_box_2d_tight_prim_paths_0000.json",
        "distance_to_camera_0000.npy",
        "metadata.txt",
        "rgb_0000.png",
        "semantic_segmentation_0000.png",
        "semantic_segmentation_labels_0000.json",
    ]


@pytest.mark.parametrize(
    ("values", "param", "message"),
    [
        ({"rbg": True}, "rbg", "unknown parameter; did you mean 'rgb'?"),
        ({"frame_padding": "4"}, "frame_padding", "expected an integer, got string '4'"),
        ({"rgb": 1}, "rgb", "expected true or false, got number 1"),
        ({"rgb": None}, "rgb", "expected true or false, got null"),
        ({"image_output_format": "gif"}, "image_output_format", "'gif' is not one of png, jpg"),
        ({"semantic_types": "class"}, "semantic_types", "expected a list of strings, got string 'class' (null also"),
    ],
)
def test_validation_errors_name_the_parameter(values, param, message):
    with pytest.raises(WriterParamError) as caught:
        get_writer("BasicWriter").validate(values)
    assert caught.value.param == param
    assert str(caught.value).startswith(f"BasicWriter: parameter '{param}': ")
    assert message in str(caught.value)


def test_validation_normalizes_values():
    kitti = get_writer("KittiWriter")
    assert kitti.validate({"partly_occluded_threshold": 1, "semantic_types": ("class",)}) == {
        "partly_occluded_threshold": 1.0,
        "semantic_types": ["class"],
    }


def test_text_values_are_parsed_by_type():
    entry = get_writer("BasicWriter")
    assert entry.parse({"rgb": "true", "frame_padding": "6", "semantic_types": "class, coco"}) == {
        "rgb": True,
        "frame_padding": 6,
        "semantic_types": ["class", "coco"],
    }
    assert entry.parse({"semantic_filter_predicate": "none"}) == {"semantic_filter_predicate": None}
    assert get_writer("KittiWriter").parse({"mapping_dict": '{"car": [0, 0, 142, 255]}'}) == {
        "mapping_dict": {"car": [0, 0, 142, 255]}
    }
    with pytest.raises(WriterParamError, match="'rgb': expected true or false, got string 'maybe'"):
        entry.parse({"rgb": "maybe"})
    with pytest.raises(WriterParamError, match="'mapping_dict': is not valid JSON"):
        get_writer("KittiWriter").parse({"mapping_dict": "{car"})


def test_unknown_writer_suggests_the_closest_name():
    with pytest.raises(UnknownWriterError, match=r"unknown writer 'BasicWritter'; did you mean 'BasicWriter'\?"):
        get_writer("BasicWritter")


def test_custom_writers_register_list_validate_and_write(tmp_path):
    registry = WriterRegistry()
    entry = registry.register(BoxCountWriter)
    assert registry.names() == ["BoxCountWriter"]
    assert [(p.name, p.kind, p.default) for p in entry.params] == [
        ("prefix", "str", "boxes"),
        ("min_height", "int", 0),
        ("mode", "choice", "json"),
    ]
    assert entry.param("min_height").help == "Boxes lower than this are not counted."
    with pytest.raises(WriterParamError, match="BoxCountWriter: parameter 'mode'"):
        entry.validate({"mode": "xml"})
    # run options the class does not take (classes, resume, ...) are not passed
    writer = entry.create({"min_height": 25}, output_dir=tmp_path, seed=1, resume=True)
    writer.write(make_batch(0, ("a",)))
    writer.finish()
    frame = make_batch(0, ("a",)).products["a"]["bounding_box_2d_tight"]["data"]
    expected = int(((frame["y_max"] - frame["y_min"]) >= 25).sum())
    assert json.loads((tmp_path / "a" / "boxes_0.json").read_text()) == {"count": expected}


def test_writers_can_be_named_by_import_path_once_their_module_is_loaded():
    registry = WriterRegistry()
    with pytest.raises(UnknownWriterError, match="not loaded: a config never imports code by itself"):
        registry.get("writer_plugins:BoxCountWriter")
    registry.load_plugin("writer_plugins")
    entry = registry.get("writer_plugins:BoxCountWriter")
    assert entry.cls is BoxCountWriter and "writer_plugins:BoxCountWriter" in registry.names()
    with pytest.raises(UnknownWriterError, match="has no class 'Nope'"):
        registry.get("writer_plugins:Nope")
    with pytest.raises(UnknownWriterError, match="plugin no_such_module: cannot import it"):
        registry.load_plugin("no_such_module")


def test_writers_come_from_entry_points(monkeypatch):
    point = EntryPoint("boxes", "writer_plugins:BoxCountWriter", registry_module.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [point] if group == point.group else [])
    registry = WriterRegistry()
    assert registry.get("boxes").cls is BoxCountWriter


def test_unusable_writer_classes_are_refused():
    registry = WriterRegistry()
    with pytest.raises(TypeError, match="'flag' needs a type annotation"):
        registry.register(Untyped)
    with pytest.raises(TypeError, match="lacks annotators, write, finish"):
        registry.register(type("NotAWriter", (), {"__init__": lambda self, output_dir: None}))
    registry.register(BoxCountWriter)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(type("BoxCountWriter", (BoxCountWriter,), {}))


def test_create_writer_builds_a_registered_writer(tmp_path):
    writer = create_writer("KittiWriter", tmp_path, {"omit_semantic_type": True}, seed=4, resume=True)
    assert writer.name == "KittiWriter" and writer.seed == 4 and writer.resume and writer.omit_semantic_type
    writer.close()
    with pytest.raises(WriterParamError, match="'omit_semantic_typ': unknown parameter"):
        create_writer("KittiWriter", tmp_path, {"omit_semantic_typ": True})
