"""Typed fields for writers that are not ours (R7) and which registry entries are Python writers (R12).

The classes below have the shapes found in Isaac Sim's source: a custom writer declaring its parameters on
``__init__`` (isaacsim.replicator.examples tests/test_sdg_getting_started.py ``MyWriter``), PoseWriter's loosely
annotated ``__init__`` with a backend class this process cannot resolve (isaacsim.replicator.writers
pose_writer.py, 6.0.1), an older writer that overrides ``initialize``, and Replicator's ``NodeWriter``.
"""

from __future__ import annotations

from typing import Any

from omni.sdg_studio.core.writers.params import declared_params, signature_params
from omni.sdg_studio.core.writers.registry import python_writer_names

OWNED = frozenset({"output_dir", "backend"})


class Writer:
    """Stands in for Replicator's base class: ``initialize(**kwargs)`` forwards to ``__init__``."""

    def initialize(self, **kwargs: Any) -> None:
        self.__init__(**kwargs)


class NodeWriter:
    def __init__(self, node_type_id: str, annotators: list[str], **kwargs: Any) -> None: ...


class MyWriter(Writer):
    def __init__(self, camera_params: bool = True, bounding_box_3d: bool = True) -> None: ...


class PoseLikeWriter(Writer):
    def __init__(
        self,
        output_dir: str = None,  # type: ignore[assignment]  # noqa: RUF013 (as written in Isaac Sim)
        visibility_threshold: float = 0.0,
        frame_padding: int = 6,
        format: str = None,  # type: ignore[assignment]  # noqa: RUF013
        backend: BaseBackendOnlyKitHas = None,  # type: ignore[name-defined]  # noqa: F821
        image_output_format: str = "png",
    ) -> None: ...


class InitializeWriter(Writer):
    def __init__(self) -> None: ...

    def initialize(self, *, threshold: float = 0.5, classes: list[str] | None = None) -> None: ...  # type: ignore[override]


class UntypedWriter(Writer):
    def __init__(self, size=3, names=("a",), mapping=None, **extra):
        ...


def by_name(params):
    return {p.name: (p.kind, p.default, p.nullable) for p in params}


def test_parameters_come_from_init_as_replicator_writers_declare_them():
    assert by_name(declared_params(MyWriter, "MyWriter")) == {
        "camera_params": ("bool", True, False),
        "bounding_box_3d": ("bool", True, False),
    }
    # Reading `initialize` instead (the old behaviour) finds nothing: the base forwards **kwargs.
    assert signature_params(MyWriter.initialize, "MyWriter") == ()


def test_unresolvable_annotations_fall_back_to_the_defaults_type_and_owned_names_are_skipped():
    assert by_name(declared_params(PoseLikeWriter, "PoseWriter", OWNED)) == {
        "visibility_threshold": ("float", 0.0, False),
        "frame_padding": ("int", 6, False),
        "format": ("str", None, True),
        "image_output_format": ("str", "png", False),
    }


def test_an_initialize_override_is_read_when_init_declares_nothing():
    assert by_name(declared_params(InitializeWriter, "Old")) == {
        "threshold": ("float", 0.5, False),
        "classes": ("str_list", None, True),
    }


def test_unannotated_parameters_take_their_defaults_type():
    assert by_name(declared_params(UntypedWriter, "Untyped")) == {
        "size": ("int", 3, False),
        "names": ("str_list", ("a",), False),
        "mapping": ("str", None, True),
    }


def test_typed_fields_parse_what_is_typed_into_them():
    (threshold,) = [p for p in declared_params(InitializeWriter, "Old") if p.name == "threshold"]
    assert threshold.parse("0.25", "Old") == 0.25


def test_only_python_writer_classes_are_listed():
    registered: dict[str, object] = {
        "PoseWriter": PoseLikeWriter,
        "MyWriter": MyWriter,
        "ROS2PublishImage": NodeWriter,  # what register_node_writer stores
        "RtxLidarDebugDrawPointCloud": NodeWriter,
        "broken": "not a class",
    }
    assert python_writer_names(registered, Writer) == ["MyWriter", "PoseWriter"]
