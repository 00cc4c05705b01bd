"""The recorder's camera jitter as a scenario: one ``camera`` randomizer with ``jitter`` on the given cameras.

``CameraJitter(position=P, rotation=R)`` becomes ``{type: camera, select: <the cameras>, jitter:
{position: P, rotation: R}}``: each camera's own transform moved by up to P units and turned by up to
R degrees about its X, Y and Z axes, drawn per frame from (seed, 0, frame).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from omni.sdg_studio.core.randomize.scenario import CameraSpec, JitterSpec, Scenario, Selection, Selector
from omni.sdg_studio.core.recorder.config import CameraJitter
from omni.sdg_studio.core.semantics.rules import Match

FIELD = "camera_jitter"


def camera_jitter_scenario(jitter: CameraJitter, cameras: Sequence[str]) -> Scenario:
    """A scenario doing what ``jitter`` does to ``cameras`` (prim paths); empty when the jitter is off."""
    if not jitter.enabled or not cameras:
        return Scenario()
    paths = list(dict.fromkeys(cameras))
    selectors = tuple(Selector(matches=(Match.build("path", "regex", re.escape(p), False),)) for p in paths)
    select = Selection(selectors=selectors, text=", ".join(paths), at=(FIELD,))
    camera = CameraSpec(
        index=0, at=(FIELD,), select=select, jitter=JitterSpec(position=jitter.position, rotation=jitter.rotation)
    )
    return Scenario(randomizers=(camera,))
