"""A scenario and where it came from: a scenario file, or a mapping inline in a recorder config.

Recorder configs name a scenario under ``sdg_studio.randomization`` (a file path, or the scenario
itself). :class:`ScenarioSource` keeps the parsed :class:`Scenario` with its *resolved content*: the
document's data with every ``spawn`` asset list resolved to absolute files, which parses to the same
scenario from anywhere. Manifests hold that content (the scenario as run) and ``--resume`` compares it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from omni.sdg_studio.core.config_document import ConfigDocument, FieldPath, load_document
from omni.sdg_studio.core.randomize.scenario import Scenario, SpawnSpec
from omni.sdg_studio.core.randomize.scenario_file import parse_scenario


@dataclass(frozen=True, eq=False)
class ScenarioSource:
    """A parsed scenario, its resolved content and its file (``path`` None: inline in a config).

    Two sources are equal when their resolved contents are: the same scenario, wherever it was read from.
    """

    scenario: Scenario
    content: dict[str, Any]
    path: Path | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScenarioSource) and self.canonical() == other.canonical()

    def __repr__(self) -> str:
        return f"ScenarioSource({self.describe()})"

    def canonical(self) -> str:
        """The resolved content as one canonical JSON text (keys sorted)."""
        return json.dumps(self.content, sort_keys=True, separators=(",", ":"))

    def describe(self) -> str:
        """``path`` or ``inline scenario``, with the number of randomizers."""
        count = len(self.scenario.randomizers)
        where = str(self.path) if self.path is not None else "inline scenario"
        return f"{where} ({count} randomizer{'s' if count != 1 else ''})"

    def yaml_text(self) -> str:
        """The resolved content as a scenario file."""
        return yaml.safe_dump(self.content, sort_keys=False, allow_unicode=True)


def resolved_content(scenario: Scenario) -> dict[str, Any]:
    """``scenario``'s document data with each spawn's ``assets`` replaced by the absolute files it resolved to."""
    data = scenario.doc.data if scenario.doc is not None else {"randomizers": []}
    content = json.loads(json.dumps(copy.deepcopy(data), default=str))
    for spec in scenario.randomizers:
        if isinstance(spec, SpawnSpec):
            content["randomizers"][spec.index]["assets"] = list(spec.assets)
    return content


def load_scenario_source(path: str | Path) -> ScenarioSource:
    """The scenario file at ``path`` (errors name its file, line and field)."""
    path = Path(path)
    scenario = parse_scenario(load_document(path))
    return ScenarioSource(scenario, resolved_content(scenario), path.resolve())


def document_at(doc: ConfigDocument, at: FieldPath) -> ConfigDocument:
    """The part of ``doc`` under ``at`` as a document of its own, keeping the file's line numbers."""
    data = doc.data
    for part in at:
        data = data[part]
    size = len(at)
    marks = {path[size:]: mark for path, mark in doc.marks.items() if path[:size] == at}
    return ConfigDocument(data=data, path=doc.path, marks=marks)


def inline_scenario_source(doc: ConfigDocument, at: FieldPath, base_dir: str | Path) -> ScenarioSource:
    """The scenario written inline in ``doc`` at ``at``; relative asset paths are relative to ``base_dir``.

    Errors name the config file and the line in it (fields relative to ``at``)."""
    scenario = parse_scenario(document_at(doc, at), base_dir=base_dir)
    return ScenarioSource(scenario, resolved_content(scenario), None)
