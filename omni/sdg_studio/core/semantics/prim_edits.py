"""Click-to-label: edit the labels of chosen prims through the same plan/apply path as the rules.

Each function returns a :class:`LabelPlan` (preview it, then ``apply`` it, and undo it the same
way). An edit of an instance proxy follows the instance policy, as a rule's match would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pxr import Sdf, Usd

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.plan import Action, Intent, LabelPlan, Planner, PlanRow, plan
from omni.sdg_studio.core.semantics.prim_labels import dedupe
from omni.sdg_studio.core.semantics.rules import Defaults, InstancePolicy, Mode, Rule, RuleSet, Scope
from omni.sdg_studio.core.semantics.schema import label_problem, taxonomy_problem

#: The rule id plan rows carry for edits made by hand (panel, API).
MANUAL_RULE_ID = "manual"

LabelsByTaxonomy = Mapping[str, Sequence[str] | str]


class LabelEditError(SdgStudioError):
    """A label or taxonomy typed by the user cannot be written."""


def check_labels(labels: LabelsByTaxonomy) -> dict[str, tuple[str, ...]]:
    """Trimmed, de-duplicated labels per taxonomy; raises :class:`LabelEditError` when one is invalid."""
    out: dict[str, tuple[str, ...]] = {}
    for taxonomy, values in labels.items():
        problem = taxonomy_problem(taxonomy)
        if problem:
            raise LabelEditError(problem)
        items = [values] if isinstance(values, str) else list(values)
        cleaned = dedupe(value.strip() for value in items)
        for label in cleaned:
            problem = label_problem(label)
            if problem:
                raise LabelEditError(f"{taxonomy}: {problem}")
        out[taxonomy] = cleaned
    return out


def _planner(stage: Usd.Stage, instances: InstancePolicy = "root") -> Planner:
    return Planner(stage, RuleSet(defaults=Defaults(legacy="keep", instances=instances)))


def _target(planner: Planner, stage: Usd.Stage, path: str) -> Usd.Prim | None:
    """The prim at ``path`` (an instance proxy is settled by the instance policy when the plan finishes)."""
    prim = stage.GetPrimAtPath(path) if Sdf.Path.IsValidPathString(path) else None
    if not prim:
        planner.note(PlanRow(path, "", MANUAL_RULE_ID, Action.WARN, "", message="no prim at this path"))
        return None
    if prim.IsInstanceProxy():
        return planner.redirect(prim, MANUAL_RULE_ID)
    return prim


def label_prims(
    stage: Usd.Stage,
    paths: Sequence[str],
    labels: LabelsByTaxonomy,
    mode: Mode = "add",
    instances: InstancePolicy = "root",
) -> LabelPlan:
    """Plan giving every prim of ``paths`` ``labels`` (``{taxonomy: label or labels}``) in ``mode``."""
    wanted = {tax: values for tax, values in check_labels(labels).items() if values}
    if not wanted:
        raise LabelEditError("no label given")
    planner = _planner(stage, instances)
    rule = Rule(MANUAL_RULE_ID, 0, mode=mode)
    for path in paths:
        target = _target(planner, stage, path)
        if target is not None:
            for taxonomy, values in wanted.items():
                planner.intend(target, taxonomy, Intent(rule, tuple(values)))
    return planner.finish()


def set_labels(
    stage: Usd.Stage, labels_by_path: Mapping[str, LabelsByTaxonomy], instances: InstancePolicy = "root"
) -> LabelPlan:
    """Plan replacing, per prim, the listed taxonomies' labels (an empty list removes the taxonomy)."""
    planner = _planner(stage, instances)
    rule = Rule(MANUAL_RULE_ID, 0, mode="replace")
    for path, labels in labels_by_path.items():
        target = _target(planner, stage, path)
        if target is None:
            continue
        for taxonomy, values in check_labels(labels).items():
            planner.intend(target, taxonomy, Intent(rule, tuple(values), None if values else ()))
    return planner.finish()


def remove_labels(
    stage: Usd.Stage,
    paths: Sequence[str],
    taxonomy: str | None = None,
    labels: Sequence[str] = (),
    instances: InstancePolicy = "root",
) -> LabelPlan:
    """Plan removing ``labels`` of ``taxonomy`` (all its labels when empty; every taxonomy when ``None``)."""
    if taxonomy is not None and taxonomy_problem(taxonomy):
        raise LabelEditError(str(taxonomy_problem(taxonomy)))
    planner = _planner(stage, instances)
    rule = Rule(MANUAL_RULE_ID, 0, action="remove")
    for path in paths:
        target = _target(planner, stage, path)
        if target is None:
            continue
        state = planner.record(target)
        taxonomies = [taxonomy] if taxonomy else sorted(state.taxonomies())
        for tax in taxonomies:
            planner.intend(target, tax, Intent(rule, (), tuple(labels)))
    return planner.finish()


def upgrade_semantics(stage: Usd.Stage, roots: Sequence[str] | None = None) -> LabelPlan:
    """Plan converting every legacy ``SemanticsAPI`` label under ``roots`` to ``LabelsAPI``."""
    return plan(stage, RuleSet(defaults=Defaults(legacy="upgrade"), scope=Scope()), roots)
