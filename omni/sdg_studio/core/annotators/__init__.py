"""Replicator annotator names and output formats, shared by backends, writers and the visualizer."""

from omni.sdg_studio.core.annotators.formats import (
    ANNOTATORS,
    BBOX2D_DTYPE,
    BBOX3D_DTYPE,
    LABEL_ANNOTATORS,
    OCCLUSION_DTYPE,
    AnnotatorFormatError,
    check_annotator_output,
)

__all__ = [
    "ANNOTATORS",
    "BBOX2D_DTYPE",
    "BBOX3D_DTYPE",
    "LABEL_ANNOTATORS",
    "OCCLUSION_DTYPE",
    "AnnotatorFormatError",
    "check_annotator_output",
]
