"""The one Isaac Sim 5.1 / 6.0 difference we adapt to: how a Replicator writer learns where to write (R6).

Writer signatures below are those of Isaac Sim's source: BasicWriter 6.x takes ``backend`` and ``output_dir``
(the 6.0.1 recorder passes ``backend``; 5.1.0's passes ``output_dir`` and ``s3_*``); PoseWriter 5.1.0 takes
``output_dir`` and ``s3_*`` but no backend, 6.0.1 adds ``backend``; KittiWriter / CocoWriter get ``output_dir``
in Isaac's 6.0.1 scene_based_sdg configs (``backend_type: null``); CosmosWriter in 5.1.0's examples gets a backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from omni.sdg_studio.backends.replicator.writer_output import (
    ISAAC_SIM_5_1,
    ISAAC_SIM_6_0,
    ReplicatorSetupError,
    accepted_keywords,
    isaac_sim_line,
    writer_output,
)
from omni.sdg_studio.core.recorder.config import S3_BACKEND, RecorderConfig

OUT = Path("/data/run")
BASIC = frozenset({"output_dir", "s3_bucket", "s3_region", "s3_endpoint", "rgb", "backend"})
POSE_5_1 = frozenset({"output_dir", "use_s3", "s3_bucket", "s3_endpoint_url", "s3_region", "frame_padding"})
KITTI = frozenset({"output_dir", "semantic_types", "mapping_dict", "colorize_instance_segmentation"})
COSMOS = frozenset({"backend", "segmentation_mapping"})


def disk_config() -> RecorderConfig:
    return RecorderConfig()


def s3_config() -> RecorderConfig:
    config = RecorderConfig(storage=S3_BACKEND)
    config.output.folder = "runs/a"
    config.s3.bucket, config.s3.region = "bucket", "eu-west-1"
    return config


def test_kit_build_versions_map_to_their_isaac_sim_line():
    assert isaac_sim_line("107.3.3+isaac.229672.69cbf6ad.gl.manylinux_2_35_x86_64.release") is ISAAC_SIM_5_1
    assert isaac_sim_line("110.1.2+production.manylinux_2_35_x86_64.release") is ISAAC_SIM_6_0
    with pytest.raises(ReplicatorSetupError, match="Kit version"):
        isaac_sim_line("dev")


def test_on_6_0_a_writer_taking_a_backend_gets_one():
    out = writer_output(ISAAC_SIM_6_0, "BasicWriter", BASIC, disk_config(), OUT)
    assert (out.backend, out.backend_params, out.writer_kwargs) == ("DiskBackend", {"output_dir": str(OUT)}, {})
    s3 = writer_output(ISAAC_SIM_6_0, "BasicWriter", BASIC, s3_config(), OUT)
    assert s3.backend == "S3Backend"
    assert s3.backend_params == {"key_prefix": "runs/a", "bucket": "bucket", "region": "eu-west-1"}


def test_on_5_1_the_same_writer_gets_output_dir_as_isaacs_5_1_recorder_passes():
    out = writer_output(ISAAC_SIM_5_1, "BasicWriter", BASIC, disk_config(), OUT)
    assert (out.backend, out.writer_kwargs) == (None, {"output_dir": str(OUT)})
    s3 = writer_output(ISAAC_SIM_5_1, "BasicWriter", BASIC, s3_config(), OUT)
    assert s3.writer_kwargs == {
        "output_dir": "runs/a",
        "s3_bucket": "bucket",
        "s3_region": "eu-west-1",
        "s3_endpoint": None,
    }


def test_writers_without_a_backend_parameter_get_output_dir_on_both_lines():
    for line in (ISAAC_SIM_5_1, ISAAC_SIM_6_0):
        for accepts in (KITTI, POSE_5_1):
            out = writer_output(line, "W", accepts, disk_config(), OUT)
            assert (out.backend, out.writer_kwargs) == (None, {"output_dir": str(OUT)})


def test_a_writer_taking_only_a_backend_gets_one_on_both_lines():
    for line in (ISAAC_SIM_5_1, ISAAC_SIM_6_0):
        assert writer_output(line, "CosmosWriter", COSMOS, disk_config(), OUT).backend == "DiskBackend"


def test_an_undeclared_signature_follows_the_lines_own_recorder():
    assert writer_output(ISAAC_SIM_6_0, "W", None, disk_config(), OUT).backend == "DiskBackend"
    assert writer_output(ISAAC_SIM_5_1, "W", None, disk_config(), OUT).writer_kwargs == {"output_dir": str(OUT)}


def test_s3_with_a_writer_that_cannot_write_there_is_one_clear_error():
    with pytest.raises(ReplicatorSetupError, match=r"KittiWriter cannot write to S3Backend on Isaac Sim 6\.0"):
        writer_output(ISAAC_SIM_6_0, "KittiWriter", KITTI, s3_config(), OUT)


def test_accepted_keywords_reads_init_then_an_initialize_override():
    class Init:
        def __init__(self, output_dir: str = "", rgb: bool = False, **kwargs: object) -> None: ...

    class Initialize:
        def __init__(self) -> None: ...

        def initialize(self, backend: object = None) -> None: ...

    class KwargsOnly:
        def __init__(self, **kwargs: object) -> None: ...

    assert accepted_keywords(Init) == {"output_dir", "rgb"}
    assert accepted_keywords(Initialize) == {"backend"}
    assert accepted_keywords(KwargsOnly) is None
    assert accepted_keywords(None) is None
