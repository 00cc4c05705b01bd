"""Memory stays bounded by pixels + triangles: the coplanar-cover stage that grew to 24 GB renders in 3 GB."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omni.sdg_studio.backends.embedded import EmbeddedBackend, EmbeddedRenderError
from omni.sdg_studio.backends.embedded.backend import frame_bytes

TESTS = Path(__file__).resolve().parent

SCRIPT = textwrap.dedent(
    """
    import resource, sys
    sys.path.insert(0, {tests!r})
    import numpy as np
    from embedded_stages import coplanar_cover_stage
    from omni.sdg_studio.backends.embedded import EmbeddedBackend

    stage = coplanar_cover_stage()
    limit = 3 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    backend = EmbeddedBackend(stage, threads=2)
    frame = backend.render("/World/Camera", (512, 512), ["rgb", "instance_segmentation", "occlusion"])
    ids = frame["instance_segmentation"]
    names = {{ids["info"]["idToLabels"][int(i)] for i in np.unique(ids["data"])}}
    ratios = dict(zip(frame["occlusion"]["info"]["primPaths"], frame["occlusion"]["data"]["occlusionRatio"].tolist()))
    print(sorted(names), ratios)
    """
)


def test_coplanar_cover_stage_renders_under_a_3_gb_address_space_limit():
    """Every pixel ties between the cover and one of 5,000 grid triangles; the cover (first) wins, the
    grid is fully hidden (occlusion 1) and the run needs a small fraction of the limit."""
    env = dict(os.environ, MALLOC_ARENA_MAX="2")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(tests=str(TESTS))], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['/World/Cover'] {'/World/Cover': 0.0, '/World/Grid': 1.0}"


def test_a_frame_that_cannot_fit_is_refused_before_any_work(monkeypatch):
    from embedded_stages import add_camera, new_stage

    import omni.sdg_studio.backends.embedded.backend as backend_module

    stage = new_stage()
    add_camera(stage)
    backend = EmbeddedBackend(stage)
    monkeypatch.setattr(backend_module, "available_memory", lambda: frame_bytes((4096, 4096), ["rgb"]) // 2)
    with pytest.raises(EmbeddedRenderError, match=r"resolution 4096x4096 with 1 annotators needs about \d+ MB"):
        backend.render("/World/Camera", (4096, 4096), ["rgb"])
    assert backend._state is None  # nothing was extracted
