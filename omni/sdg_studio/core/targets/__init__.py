"""Training targets from annotator outputs (numpy only): one function for streams, readers and writers.

``frame_targets(frame, classes, targets)`` turns one frame's annotator outputs into a
:class:`DetectionTargets` (image, boxes, class ids, masks, optional depth / semantic / normals /
occlusion); :class:`TargetClasses` resolves labels to class ids; :mod:`.polygons` outlines masks.
"""

from omni.sdg_studio.core.targets.classes import TargetClasses, stage_labels
from omni.sdg_studio.core.targets.detection import (
    TARGET_KINDS,
    DetectionTargets,
    TargetError,
    check_targets,
    frame_targets,
    target_annotators,
)
from omni.sdg_studio.core.targets.polygons import join_parts, mask_outlines, mask_polygon, simplify

__all__ = [
    "TARGET_KINDS",
    "DetectionTargets",
    "TargetClasses",
    "TargetError",
    "check_targets",
    "frame_targets",
    "join_parts",
    "mask_outlines",
    "mask_polygon",
    "simplify",
    "stage_labels",
    "target_annotators",
]
