"""What a frame's randomization drew: a compact, typed record per randomizer, as JSON beside a recording.

With the seed, the frame number reproduces the values; the record explains them (where each prim
went, which corner, which asset, which color) without re-running anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Decimals kept for floats in JSON (micrometres for metre scenes).
JSON_DECIMALS = 6


@dataclass(frozen=True, eq=False)
class RandomizerRecord:
    """The values one randomizer wrote in one frame.

    ``frame`` is the frame its values were drawn for (with ``every: N`` the last multiple of N);
    ``values`` maps a name to one row per prim of ``prims`` (or a single value); ``notes`` says
    what did not go as asked (prims that did not fit, nothing below to settle on, ...).
    """

    index: int
    type: str
    frame: int
    prims: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "type": self.type,
            "frame": self.frame,
            "prims": list(self.prims),
            "values": {name: _plain(value) for name, value in self.values.items()},
            "notes": list(self.notes),
        }


@dataclass(frozen=True, eq=False)
class FrameRecord:
    """Everything one frame's randomization drew, randomizers in the order they ran."""

    seed: int
    frame: int
    randomizers: tuple[RandomizerRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {"seed": self.seed, "frame": self.frame, "randomizers": [r.to_json() for r in self.randomizers]}

    def prims_changed(self) -> int:
        """How many prims the frame edited (a prim edited by several randomizers counts once)."""
        return len({p for r in self.randomizers for p in r.prims})


def _plain(value: Any) -> Any:
    """Arrays as nested lists with floats rounded to :data:`JSON_DECIMALS`, numpy scalars as Python ones."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return (np.round(value, JSON_DECIMALS) + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
        if value.dtype.kind == "O":
            return [_plain(v) for v in value.tolist()]
        return value.tolist()
    if isinstance(value, (np.floating, float)):
        return round(float(value), JSON_DECIMALS) + 0.0
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
