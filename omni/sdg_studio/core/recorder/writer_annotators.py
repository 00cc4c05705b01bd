"""Which annotators Replicator's built-in writers attach, from the config alone (for the pre-record check in Kit).

BasicWriter attaches one annotator per enabled flag; KittiWriter and CocoWriter attach fixed sets
(``recorder_writers.md`` section 2.1). A custom writer's annotators are unknown until it is built.
"""

from __future__ import annotations

from omni.sdg_studio.core.recorder.config import BASIC_WRITER, BASIC_WRITER_FLAGS, RecorderConfig
from omni.sdg_studio.core.writers.base import AnnotatorRequest

#: BasicWriter flags that attach an annotator of the same name: the recorder's flags less the options.
BASIC_ANNOTATOR_FLAGS = tuple(
    flag for flag in BASIC_WRITER_FLAGS if not flag.startswith("colorize_") and flag != "pointcloud_include_unlabelled"
)
FIXED_ANNOTATORS: dict[str, tuple[str, ...]] = {
    "KittiWriter": (
        "rgb",
        "bounding_box_2d_tight",
        "bounding_box_2d_loose",
        "semantic_segmentation",
        "instance_segmentation",
        "distance_to_camera",
        "camera_params",
    ),
    "CocoWriter": ("rgb", "bounding_box_2d_tight", "semantic_segmentation"),
}


def writer_annotators(config: RecorderConfig) -> list[AnnotatorRequest]:
    """The annotator requests of the config's writer, or ``[]`` for a writer not listed here."""
    params = config.effective_writer_params()
    types = params.get("semantic_types") or ("class",)
    semantic_types = tuple(types) if isinstance(types, (list, tuple)) else ("class",)
    if config.writer_name == BASIC_WRITER:
        names = [flag for flag in BASIC_ANNOTATOR_FLAGS if params.get(flag)]
    else:
        names = list(FIXED_ANNOTATORS.get(config.writer_name, ()))
    return [AnnotatorRequest(name, semantic_types=semantic_types) for name in names]
