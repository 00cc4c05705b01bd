"""What a recording is: render products, frames, writer, output and backend, as typed data.

The fields mirror Isaac Sim's Synthetic Data Recorder (``isaacsim.replicator.synthetic_recorder``,
``synthetic_recorder_window.py`` and ``data/default_config.json``) so its JSON config round-trips,
plus what SDG Studio adds: the output-folder policy, a seed, a randomization scenario and per-frame camera
jitter (a shorthand the recorder turns into one more randomizer of the scenario).
"""

from __future__ import annotations

import copy
import os
import secrets
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from omni.sdg_studio.core.bounds import Bounded
from omni.sdg_studio.core.randomize.source import ScenarioSource
from omni.sdg_studio.core.render_backend import RenderProduct

#: BasicWriter flags the recorder window shows, in its order (``default_config.json``).
BASIC_WRITER_FLAGS: tuple[str, ...] = (
    "rgb",
    "bounding_box_2d_tight",
    "bounding_box_2d_loose",
    "semantic_segmentation",
    "colorize_semantic_segmentation",
    "instance_id_segmentation",
    "colorize_instance_id_segmentation",
    "instance_segmentation",
    "colorize_instance_segmentation",
    "distance_to_camera",
    "distance_to_image_plane",
    "colorize_depth",
    "bounding_box_3d",
    "occlusion",
    "normals",
    "motion_vectors",
    "camera_params",
    "pointcloud",
    "pointcloud_include_unlabelled",
    "skeleton_data",
)

BASIC_WRITER = "BasicWriter"
DISK_BACKEND = "DiskBackend"
S3_BACKEND = "S3Backend"
#: Replicator storage backends the recorder knows (``backend_type``).
STORAGE_BACKENDS = (DISK_BACKEND, S3_BACKEND)
#: Render backends: the embedded ray caster (anywhere) and Replicator (inside Kit).
RENDER_BACKENDS = ("embedded", "replicator")
#: Kit's default viewport camera, the recorder's default render product.
KIT_PERSPECTIVE_CAMERA = "/OmniverseKit_Persp"
DEFAULT_RESOLUTION = (1280, 720)
DEFAULT_OUT_DIR = "_out_sdrec"


def default_basic_writer_flags() -> dict[str, bool]:
    """The recorder's defaults: only ``rgb`` on (every flag passed explicitly, colorize ones off)."""
    return {name: name == "rgb" for name in BASIC_WRITER_FLAGS}


class OutputPolicy(str, Enum):
    """What to do when the output folder already holds files."""

    REFUSE = "refuse"  # stop with an error (the default: nothing is overwritten unless asked)
    OVERWRITE = "overwrite"  # empty the folder first
    INCREMENT = "increment"  # write to <folder>_0001, <folder>_0002, ... (first one free)
    TIMESTAMP = "timestamp"  # write to <folder>_<YYYYmmdd-HHMMSS>


@dataclass
class OutputConfig:
    """Where files go: ``working_dir / folder`` (empty working dir = current directory), and the policy."""

    working_dir: str = ""
    folder: str = DEFAULT_OUT_DIR
    policy: OutputPolicy = OutputPolicy.REFUSE

    @property
    def path(self) -> Path:
        """The folder the policy starts from (relative paths are relative to the current directory)."""
        return Path(os.path.join(self.working_dir, self.folder) if self.working_dir else self.folder)


@dataclass
class S3Config:
    """Replicator ``S3Backend`` parameters as the recorder window stores them (``s3_params``)."""

    bucket: str = ""
    region: str = ""
    endpoint: str = ""


@dataclass
class CameraJitter(Bounded):
    """Per-frame random camera offsets: translation up to ``position`` stage units, rotation up to ``rotation``°."""

    minimums: ClassVar = {"position": 0.0, "rotation": 0.0}
    maximums: ClassVar = {"position": 1e9, "rotation": 360.0}

    position: float = 0.0
    rotation: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.position > 0 or self.rotation > 0


@dataclass
class RecorderConfig(Bounded):
    """Everything a recording needs except the stage.

    ``writer_params`` holds the chosen writer's keyword arguments; for BasicWriter the 20 flags live in
    ``basic_writer_params`` (as in the recorder window) and ``writer_params`` holds any others
    (``frame_padding``, ``semantic_types``, ...). ``custom_writer_name``, ``custom_params_path`` and
    ``config_file`` are the window's fields, kept so a loaded config saves back unchanged. Frames,
    subframes and seed are never negative; the resolution is at least 1x1.
    """

    minimums: ClassVar = {"frames": 0, "rt_subframes": 0, "seed": 0, "resolution": 1}

    render_products: list[RenderProduct] = field(default_factory=list)
    frames: int = 0  # 0 = until stopped
    rt_subframes: int = 0
    control_timeline: bool = False
    writer_name: str = BASIC_WRITER
    basic_writer_params: dict[str, bool] = field(default_factory=default_basic_writer_flags)
    writer_params: dict[str, Any] = field(default_factory=dict)
    output: OutputConfig = field(default_factory=OutputConfig)
    storage: str = DISK_BACKEND
    s3: S3Config = field(default_factory=S3Config)
    backend: str = "embedded"
    seed: int | None = None
    resolution: tuple[int, int] = DEFAULT_RESOLUTION  # for cameras given without one
    camera_jitter: CameraJitter = field(default_factory=CameraJitter)
    randomization: ScenarioSource | None = None  # the scenario applied before every frame
    classes: str = ""  # rules file whose ``classes`` give label ids and colors to the writers ("" = hashed colors)
    custom_writer_name: str = "MyCustomWriter"
    custom_params_path: str = ""
    config_file: str = "custom_config.json"

    def effective_writer_params(self) -> dict[str, Any]:
        """Keyword arguments for the writer (without ``backend`` / ``output_dir``)."""
        if self.writer_name == BASIC_WRITER:
            return {**self.basic_writer_params, **self.writer_params}
        return dict(self.writer_params)

    def copy(self) -> RecorderConfig:
        """A deep copy (the model edits configs in place)."""
        return copy.deepcopy(self)

    @property
    def randomized(self) -> bool:
        """Whether anything changes from frame to frame (a scenario with randomizers, or camera jitter)."""
        scenario = self.randomization.scenario if self.randomization is not None else None
        return bool(scenario and scenario.randomizers) or self.camera_jitter.enabled

    def seeded(self) -> tuple[RecorderConfig, int]:
        """A copy whose seed is set, and that seed: this config's (``--seed`` wins), else the scenario's,
        else one drawn from the OS."""
        config = self.copy()
        if config.seed is None and config.randomization is not None:
            config.seed = config.randomization.scenario.seed
        if config.seed is None:
            config.seed = secrets.randbelow(2**31)
        return config, config.seed
