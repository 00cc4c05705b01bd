"""Which prims a randomizer's ``select`` picks, with the labeling rules' matcher.

A selector is evaluated as a labeling rule (``core/semantics/matching.py``): glob / regex / contains
on name, path, type, asset, folder or material, plus the prim's own labels (both schemas). Several
selectors in a list add up. Instance proxies cannot be edited and are never picked; a prim inside
another picked prim is dropped (moving the outer one moves it already).
"""

from __future__ import annotations

from collections.abc import Sequence

from pxr import Sdf, Usd

from omni.sdg_studio.core.randomize.scenario import Selection, Selector
from omni.sdg_studio.core.semantics.matching import RuleMatcher, scope_prims
from omni.sdg_studio.core.semantics.rules import Rule, RuleSet
from omni.sdg_studio.core.semantics.schema import direct_labels


class StagePrims:
    """The stage's editable prims in stage order, with the name and type columns the matcher reads."""

    def __init__(self, stage: Usd.Stage) -> None:
        prims = [p for p in scope_prims(stage, ["/"], True, None) if not p.IsInstanceProxy()]
        self.prims = prims
        self.names = [p.GetName() for p in prims]
        self.types = [str(p.GetTypeName()) for p in prims]


def _labels_hold(prim: Usd.Prim, wanted: Sequence[tuple[str | None, str]]) -> bool:
    labels = direct_labels(prim)
    for taxonomy, label in wanted:
        pools = [labels.get(taxonomy, ())] if taxonomy is not None else list(labels.values())
        if not any(label in pool for pool in pools):
            return False
    return True


def _picked(candidates: StagePrims, selector: Selector, order: int) -> list[int]:
    rows = range(len(candidates.prims))
    if selector.matches:
        rule = Rule(id=f"select-{order}", order=0, matches=selector.matches)
        found = RuleMatcher(RuleSet(rules=(rule,))).match_all(candidates.prims, candidates.names, candidates.types)
        rows = sorted(found)
    if selector.labels:
        rows = [r for r in rows if _labels_hold(candidates.prims[r], selector.labels)]
    return list(rows)


def select(candidates: StagePrims, selection: Selection) -> list[Usd.Prim]:
    """The prims ``selection`` picks, in stage order, without prims nested in another picked prim."""
    rows: set[int] = set()
    for order, selector in enumerate(selection.selectors):
        rows.update(_picked(candidates, selector, order))
    picked: list[Usd.Prim] = []
    last: Sdf.Path | None = None
    for row in sorted(rows):  # stage order is pre-order: an ancestor comes right before its subtree
        path = candidates.prims[row].GetPath()
        if last is not None and path.HasPrefix(last):
            continue
        picked.append(candidates.prims[row])
        last = path
    return picked
