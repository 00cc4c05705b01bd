"""How well a stage is labeled: label histogram, unlabeled geometry, legacy and conflicting prims."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pxr import Usd

from omni.sdg_studio.core.semantics.matching import scope_prims, scope_roots
from omni.sdg_studio.core.semantics.plan import Histogram, Planner, ProgressCallback, histogram, no_gc
from omni.sdg_studio.core.semantics.rules import Defaults, RuleSet


@dataclass
class Coverage:
    """Labels on a stage (instance proxies included: they are rendered) for one taxonomy of interest."""

    taxonomy: str
    prim_count: int = 0
    gprim_count: int = 0
    histogram: Histogram = field(default_factory=dict)
    unlabeled: list[str] = field(default_factory=list)
    legacy_prims: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    @property
    def labeled_count(self) -> int:
        return self.gprim_count - len(self.unlabeled)

    @property
    def ratio(self) -> float:
        """Share of gprims with a label of :attr:`taxonomy` (own or inherited); 1.0 without gprims."""
        return self.labeled_count / self.gprim_count if self.gprim_count else 1.0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["labeled_count"], out["ratio"] = self.labeled_count, self.ratio
        return out


def coverage(
    stage: Usd.Stage,
    taxonomy: str = "class",
    roots: Sequence[str] = ("/",),
    progress: ProgressCallback | None = None,
) -> Coverage:
    """Count labels (direct, both schemas), gprims without a ``taxonomy`` label, legacy and conflicts."""
    planner = Planner(stage, RuleSet(defaults=Defaults(taxonomy=taxonomy, legacy="keep")))
    planner.read_ancestors(scope_roots(stage, roots)[0])
    with no_gc():
        planner.visit_all(scope_prims(stage, roots, True, None), progress)
    labels = {path: state.combined() for path, state in planner.states.items()}
    conflicts = []
    for state in planner.states.values():
        for item in state.legacy:
            new = state.labels.get(item.semantic_type)
            if new and item.semantic_data and item.semantic_data not in new:
                conflicts.append(state.path)
                break
    return Coverage(
        taxonomy=taxonomy,
        prim_count=planner.prim_count,
        gprim_count=len(planner.gprims),
        histogram=histogram(labels.values()),
        unlabeled=planner.unlabeled(labels),
        legacy_prims=[state.path for state in planner.states.values() if state.legacy],
        conflicts=conflicts,
    )
