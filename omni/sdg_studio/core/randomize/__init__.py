"""Domain randomization: scenario files applied to a USD stage frame by frame, reproducibly by seed.

>>> from omni.sdg_studio.core.randomize import RandomizationEngine, load_scenario
>>> engine = RandomizationEngine(stage, load_scenario("config/scenarios/warehouse_offline.yaml"), seed=7)
>>> record = engine.apply(3)   # frame 3's variation, on an anonymous sublayer of the session layer
>>> engine.restore()

See ``docs/randomization.md`` for every scenario key.
"""

from omni.sdg_studio.core.randomize.engine import RandomizationEngine, RandomizeError, frame_rng
from omni.sdg_studio.core.randomize.export import export_frame
from omni.sdg_studio.core.randomize.record import FrameRecord, RandomizerRecord
from omni.sdg_studio.core.randomize.scenario import Scenario
from omni.sdg_studio.core.randomize.scenario_file import load_scenario, parse_scenario, parse_scenario_text
from omni.sdg_studio.core.randomize.source import ScenarioSource, inline_scenario_source, load_scenario_source

__all__ = [
    "FrameRecord",
    "RandomizationEngine",
    "RandomizeError",
    "RandomizerRecord",
    "Scenario",
    "ScenarioSource",
    "export_frame",
    "frame_rng",
    "inline_scenario_source",
    "load_scenario",
    "load_scenario_source",
    "parse_scenario",
    "parse_scenario_text",
]
