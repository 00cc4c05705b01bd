"""Plan labeling without touching the stage: which prims get which labels, and why.

:func:`plan` evaluates a :class:`RuleSet` on a stage and returns a :class:`LabelPlan`: one row per
decision (ADD / REPLACE / SKIP / REMOVE / UPGRADE / REDIRECT / CONFLICT / WARN) plus the label
histogram before and after, the geometry left unlabeled and the rules that matched nothing.
``apply.py`` writes exactly the rows that change something; re-planning after that changes nothing.

Precedence, per prim and taxonomy: an ``exclude`` rule wins; otherwise the highest ``priority``
wins and ties go to the earlier rule in the file. ``mode`` then meets the labels already there
(``add`` merges, ``replace`` overwrites, ``skip`` leaves a labeled taxonomy alone).
"""

from __future__ import annotations

import gc
import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any

from pxr import Sdf, Usd

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.matching import (
    ExcludeFilter,
    PrimFields,
    RuleMatch,
    RuleMatcher,
    is_gprim_type,
    scope_prims,
    scope_roots,
)
from omni.sdg_studio.core.semantics.prim_labels import (
    PrimLabels,
    dedupe,
    has_label_tokens,
    instance_root,
    prim_has_label_tokens,
)
from omni.sdg_studio.core.semantics.rules import ALL_TAXONOMIES, Rule, RuleSet
from omni.sdg_studio.core.semantics.schema import (
    LegacySemantics,
    label_problem,
    labels_attr_name,
    legacy_semantics,
    taxonomy_problem,
)

ProgressCallback = Callable[[int], None]
#: Decisions between two progress callbacks.
PROGRESS_STEP = 4096


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many small objects are made (plan, apply)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class LabelPlanError(SdgStudioError):
    """The rules cannot be planned on this stage as asked (a policy says ``error``/``fail``)."""


class Action(str, Enum):
    """What a plan row does."""

    ADD = "ADD"
    REPLACE = "REPLACE"
    SKIP = "SKIP"
    REMOVE = "REMOVE"
    UPGRADE = "UPGRADE"
    REDIRECT = "REDIRECT"
    CONFLICT = "CONFLICT"
    WARN = "WARN"


#: Rows with these actions change the stage when applied; the others only inform.
WRITE_ACTIONS = frozenset({Action.ADD, Action.REPLACE, Action.REMOVE, Action.UPGRADE})


@dataclass(frozen=True)
class PlanRow:
    """One decision about one prim and taxonomy.

    ``before``/``after`` are the prim's own ``LabelsAPI`` labels of ``taxonomy``. ``legacy_instances``
    names the legacy ``SemanticsAPI`` instances the row removes (UPGRADE, REMOVE). ``source_path``
    is the prim the rule matched when the row is about another prim (an instance proxy's root).
    """

    path: str
    prim_type: str
    rule_id: str
    action: Action
    taxonomy: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    legacy_instances: tuple[str, ...] = ()
    source_path: str = ""
    message: str = ""

    @property
    def writes(self) -> bool:
        return self.action in WRITE_ACTIONS

    def log_line(self, preview: bool = True) -> str:
        """The editor-style log line: ``[PREVIEW][ADD]: '/W/SM_Chair_01' --> 'class':['chair']``."""
        head = ("[PREVIEW]" if preview else "") + f"[{self.action.value}]: '{self.path}'"
        rule = f"  (rule '{self.rule_id}')" if self.rule_id else ""
        after = f"'{self.taxonomy}':{list(self.after)}"
        if self.action == Action.ADD:
            body = f" --> {after}"
        elif self.action in (Action.REPLACE, Action.REMOVE):
            body = f" '{self.taxonomy}':{list(self.before)} --> {list(self.after)}"
        elif self.action == Action.UPGRADE:
            body = f" From:'SemanticsAPI:{','.join(self.legacy_instances)}' To:{after}"
        elif self.action == Action.SKIP:
            body = f" '{self.taxonomy}' already labeled {list(self.before)}"
        else:
            body = f" {self.message}"
        return head + body + rule

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["action"] = self.action.value
        out["before"], out["after"] = list(self.before), list(self.after)
        out["legacy_instances"] = list(self.legacy_instances)
        return out


Histogram = dict[str, dict[str, int]]


@dataclass
class LabelPlan:
    """The result of :func:`plan`: rows in path order plus coverage numbers for the preview."""

    rows: list[PlanRow]
    taxonomy: str
    prim_count: int = 0
    gprim_count: int = 0
    histogram_before: Histogram = field(default_factory=dict)
    histogram_after: Histogram = field(default_factory=dict)
    unlabeled_before: list[str] = field(default_factory=list)
    unlabeled: list[str] = field(default_factory=list)
    rule_hits: dict[str, int] = field(default_factory=dict)

    @property
    def changes(self) -> list[PlanRow]:
        """The rows :func:`apply` writes."""
        return [row for row in self.rows if row.writes]

    @property
    def unmatched_rules(self) -> list[str]:
        """Ids of rules that matched no prim."""
        return [rule_id for rule_id, hits in self.rule_hits.items() if hits == 0]

    def counts(self) -> dict[str, int]:
        """Rows per action, in :class:`Action` order, zero counts left out."""
        found = Counter(row.action for row in self.rows)
        return {action.value: found[action] for action in Action if found[action]}

    def log_lines(self, preview: bool = True) -> list[str]:
        return [row.log_line(preview) for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        return {
            "taxonomy": self.taxonomy,
            "prim_count": self.prim_count,
            "gprim_count": self.gprim_count,
            "counts": self.counts(),
            "rows": [row.to_json() for row in self.rows],
            "histogram_before": self.histogram_before,
            "histogram_after": self.histogram_after,
            "unlabeled_before": self.unlabeled_before,
            "unlabeled": self.unlabeled,
            "rule_hits": self.rule_hits,
            "unmatched_rules": self.unmatched_rules,
        }


@dataclass
class Intent:
    """What the rules want for one (prim, taxonomy).

    ``remove`` is ``None`` for a labeling rule; for a remove rule it names the labels to remove,
    ``()`` meaning the whole taxonomy.
    """

    rule: Rule
    labels: list[str]
    remove: tuple[str, ...] | None = None
    sources: list[str] = field(default_factory=list)

    @property
    def rank(self) -> tuple[int, int]:
        return (-self.rule.priority, self.rule.order)


class Planner:
    """Collects per-prim decisions in traversal order and turns them into a :class:`LabelPlan`."""

    def __init__(self, stage: Usd.Stage, ruleset: RuleSet) -> None:
        self.stage, self.ruleset = stage, ruleset
        self.defaults = ruleset.defaults
        self.taxonomy = ruleset.defaults.taxonomy
        self.allowed = {c.name for c in ruleset.classes}
        #: Prims the plan reports on (labeled or given an intent), in traversal order.
        self.states: dict[Sdf.Path, PrimLabels] = {}
        #: Labeled ancestors above the scope roots (they count for hierarchy and coverage).
        self.outside: dict[Sdf.Path, PrimLabels] = {}
        self.proxies: set[Sdf.Path] = set()
        self.intents: dict[Sdf.Path, dict[str, Intent]] = {}
        self.notes: dict[Sdf.Path, list[PlanRow]] = {}
        #: Per taxonomy, the prims that carry it now or are given it by this plan (for ``topmost``).
        self.holders: dict[str, set[Sdf.Path]] = {}
        self.gprims: list[Sdf.Path] = []
        self.prim_count = 0
        self.hits = {rule.id: 0 for rule in ruleset.rules}

    # state -------------------------------------------------------------------------------------

    def read_ancestors(self, roots: Sequence[Usd.Prim]) -> None:
        """Record the labels of the prims above the scope roots: descendants inherit them."""
        for root in roots:
            for path in root.GetPath().GetParentPath().GetPrefixes():
                prim = self.stage.GetPrimAtPath(path)
                if path not in self.outside and prim and prim_has_label_tokens(prim):
                    state = self.outside[path] = PrimLabels.read(prim)
                    for taxonomy in state.combined():
                        self.holders.setdefault(taxonomy, set()).add(path)

    def record(self, prim: Usd.Prim, path: Sdf.Path | None = None, has_tokens: bool | None = None) -> PrimLabels:
        """The current labels of ``prim``, which the plan reports on (read only if it has label schemas)."""
        path = path or prim.GetPath()
        found = self.states.get(path)
        if found is None:
            if has_tokens is None:
                has_tokens = prim_has_label_tokens(prim)
            found = PrimLabels.read(prim) if has_tokens else PrimLabels(str(path), prim.GetTypeName())
            self.states[path] = found
            for taxonomy in found.combined():
                self.holders.setdefault(taxonomy, set()).add(path)
            if prim.IsInstanceProxy():
                self.proxies.add(path)
        return found

    def note(self, row: PlanRow) -> None:
        """An informational row (REDIRECT, WARN) reported with the prim's other rows."""
        path = Sdf.Path(row.path)
        self.notes.setdefault(path, []).append(row)
        if path not in self.states:
            prim = self.stage.GetPrimAtPath(path) if Sdf.Path.IsValidPathString(row.path) else None
            self.states[path] = PrimLabels.read(prim) if prim else PrimLabels(row.path, row.prim_type)

    def ancestor_has(self, path: Sdf.Path, taxonomy: str) -> bool:
        """Whether an ancestor carries ``taxonomy`` now or is given it by this plan."""
        holders = self.holders.get(taxonomy)
        return bool(holders) and any(p in holders for p in path.GetParentPath().GetPrefixes())

    # traversal ---------------------------------------------------------------------------------

    def visit_all(self, prims: Sequence[Usd.Prim], progress: ProgressCallback | None = None) -> None:
        """Match every prim (column by column), then decide the matched and labeled ones in order.

        ``progress`` gets a count that reaches ``len(prims)`` when done.
        """
        self.prim_count = len(prims)
        names = list(map(Usd.Prim.GetName, prims))
        types = list(map(Usd.Prim.GetTypeName, prims))
        applied = map(Usd.PrimTypeInfo.GetAppliedAPISchemas, map(Usd.Prim.GetPrimTypeInfo, prims))
        labeled = {i for i, tokens in enumerate(applied) if tokens and has_label_tokens(tokens)}
        geometry = {t for t in set(types) if is_gprim_type(t)}
        self.gprims = [prims[i].GetPath() for i, t in enumerate(types) if t in geometry]
        matched = RuleMatcher(self.ruleset).match_all(prims, names, types)
        pending = sorted(labeled.union(matched))
        paths = {i: prims[i].GetPath() for i in pending}
        dropped = leaf_drops([(paths[i], matched.get(i, ())) for i in pending])
        for done, i in enumerate(pending, 1):
            found = matched.get(i, [])
            if dropped and found:
                found = [(rule, groups) for rule, groups in found if (rule.order, paths[i]) not in dropped]
            self.decide(prims[i], paths[i], found, i in labeled)
            if progress is not None and done % PROGRESS_STEP == 0:
                progress(done * self.prim_count // len(pending))
        if progress is not None:
            progress(self.prim_count)

    def decide(self, prim: Usd.Prim, path: Sdf.Path, found: Sequence[RuleMatch], has_tokens: bool) -> None:
        """Turn one prim's matching rules (in precedence order) into intents and notes."""
        for rule, _ in found:
            self.hits[rule.id] += 1
        is_proxy = prim.IsInstanceProxy()
        if has_tokens:
            if self.defaults.legacy == "fail" and legacy_semantics(prim):
                raise LabelPlanError(
                    f"{path} carries the legacy SemanticsAPI (defaults.legacy: fail); "
                    "set defaults.legacy to upgrade (convert to LabelsAPI) or keep"
                )
            state = self.record(prim, path, True)
            if is_proxy and state.legacy and self.defaults.legacy == "upgrade":
                message = "legacy labels inside an instance prototype cannot be upgraded here; upgrade its asset"
                self.note(_row(prim, "", Action.WARN, message))
        if not found or any(rule.action == "exclude" for rule, _ in found):
            return
        target = self.redirect(prim, found[0][0].id) if is_proxy else prim
        if target is None:
            return
        target_path = target.GetPath() if is_proxy else path
        source = [str(path)] if is_proxy else []
        decided: dict[str, RuleMatch] = {}
        for rule, groups in found:
            taxonomies = rule.taxonomies
            if ALL_TAXONOMIES in taxonomies:  # every taxonomy the prim has or a matching rule gives it
                present = self.record(target, target_path).taxonomies()
                present.update(t for r, _ in found for t in r.taxonomies if t != ALL_TAXONOMIES)
                taxonomies = tuple(sorted(present))
            for taxonomy in taxonomies:
                decided.setdefault(taxonomy, (rule, groups))
        fields: PrimFields | None = None
        for taxonomy, (rule, groups) in decided.items():
            # For a redirected proxy the instance root is an ancestor, so its labels count here.
            if rule.hierarchy == "topmost" and self.ancestor_has(path, taxonomy):
                continue
            if rule.action == "remove":
                specific = tuple(t.text for tax, templates in rule.labels if tax == taxonomy for t in templates)
                self.intend(target, taxonomy, Intent(rule, [], specific, list(source)), target_path)
                continue
            fields = fields or PrimFields(prim, prim.GetName(), prim.GetTypeName(), self.ruleset)
            labels = self._render(prim, target, rule, taxonomy, groups, fields)
            if labels:
                self.intend(target, taxonomy, Intent(rule, labels, None, list(source)), target_path)

    def redirect(self, proxy: Usd.Prim, rule_id: str) -> Usd.Prim | None:
        """Where a rule matching an instance proxy writes, per ``defaults.instances``."""
        policy = self.defaults.instances
        if policy == "error":
            raise LabelPlanError(
                f"rule '{rule_id}' matches instance proxy {proxy.GetPath()}, which cannot be written "
                "(defaults.instances: error; 'root' labels the instance root instead, 'skip' skips it)"
            )
        root = instance_root(proxy) if policy == "root" else None
        if root is None:
            why = "skipped (defaults.instances: skip)" if policy == "skip" else "no writable instance root"
            self.note(_row(proxy, rule_id, Action.WARN, f"instance proxy: {why}"))
        return root

    def _render(
        self,
        prim: Usd.Prim,
        target: Usd.Prim,
        rule: Rule,
        taxonomy: str,
        groups: Mapping[str, str],
        fields: PrimFields,
    ) -> list[str]:
        """The rule's labels for ``prim``; invalid ones become WARN rows instead."""

        def lookup(key: str) -> str:
            value = groups.get(key)
            return value if value is not None else fields.get(key)

        out = []
        for tax, templates in rule.labels:
            if tax != taxonomy:
                continue
            for template in templates:
                label = template.render(lookup, self.ruleset.normalizer).strip()
                problem = label_problem(label)
                if problem is None and self.allowed and taxonomy == self.taxonomy and label not in self.allowed:
                    problem = f"label {label!r} is not in the rules file's classes"
                if problem:
                    origin = f" (from {template.text!r} on '{prim.GetName()}')" if template.fields else ""
                    self.note(_row(target, rule.id, Action.WARN, f"{problem}{origin}; not written", taxonomy))
                    continue
                out.append(label)
        return list(dedupe(out))

    def intend(self, target: Usd.Prim, taxonomy: str, intent: Intent, path: Sdf.Path | None = None) -> None:
        """Record what a rule wants for (``target``, ``taxonomy``); the better-ranked rule wins."""
        path = path or target.GetPath()
        state = self.record(target, path)
        per_prim = self.intents.setdefault(path, {})
        current = per_prim.get(taxonomy)
        if current is None or intent.rank < current.rank:
            per_prim[taxonomy] = current = intent
        elif current.rule is intent.rule:  # several proxies of one instance: their labels merge
            current.labels = list(dedupe([*current.labels, *intent.labels]))
            current.sources.extend(intent.sources)
        holders = self.holders.setdefault(taxonomy, set())
        left = set(state.combined().get(taxonomy, ())) - set(current.remove or ())
        if current.remove is None or (current.remove and left):
            holders.add(path)
        else:
            holders.discard(path)

    # rows --------------------------------------------------------------------------------------

    def rows_for(self, path: Sdf.Path, state: PrimLabels) -> list[PlanRow]:
        """Rows of one prim: its notes, legacy upgrades, then each taxonomy's rule decision."""
        rows: list[PlanRow] = list(self.notes.get(path, []))
        if path in self.proxies:
            return rows
        current = {tax: tuple(labels) for tax, labels in state.labels.items()}
        legacy_left = list(state.legacy)

        def take(row: PlanRow) -> None:
            nonlocal legacy_left
            rows.append(row)
            if not row.writes:
                return
            if row.action == Action.REMOVE and not row.after:
                current.pop(row.taxonomy, None)
            else:
                current[row.taxonomy] = row.after
            legacy_left = [item for item in legacy_left if item.instance not in row.legacy_instances]

        conflicts: list[PlanRow] = []
        if self.defaults.legacy == "upgrade" and state.legacy:
            for row in upgrade_rows(state, current):
                if row.action == Action.CONFLICT:
                    conflicts.append(row)
                else:
                    take(row)
        for taxonomy, intent in self.intents.get(path, {}).items():
            row = intent_row(state, taxonomy, intent, current, legacy_left)
            if row is not None:
                take(row)
                if row.writes:
                    rows.extend(redirect_rows(state, row, intent))
        for row in conflicts:  # a rule may have given LabelsAPI the legacy labels: then it is an upgrade
            labels = current.get(row.taxonomy, ())
            legacy = {i.semantic_data for i in legacy_left if i.instance in row.legacy_instances}
            if labels and legacy <= set(labels):
                take(replace(row, action=Action.UPGRADE, before=labels, after=labels, message=""))
            else:
                rows.append(row)
        return rows

    def finish(self) -> LabelPlan:
        rows: list[PlanRow] = []
        before: dict[Sdf.Path, Mapping[str, tuple[str, ...]]] = {}
        after: dict[Sdf.Path, Mapping[str, tuple[str, ...]]] = {}
        for path, state in self.states.items():
            prim_rows = self.rows_for(path, state)
            rows.extend(prim_rows)
            before[path] = state.combined()
            after[path] = labels_after(state, prim_rows) if prim_rows else before[path]
        rows.sort(key=lambda row: row.path)  # stable: a prim's rows keep the order above
        return LabelPlan(
            rows=rows,
            taxonomy=self.taxonomy,
            prim_count=self.prim_count,
            gprim_count=len(self.gprims),
            histogram_before=histogram(before),
            histogram_after=histogram(after),
            unlabeled_before=self.unlabeled(before),
            unlabeled=self.unlabeled(after),
            rule_hits=dict(self.hits),
        )

    def unlabeled(self, labels: Mapping[Sdf.Path, Mapping[str, tuple[str, ...]]]) -> list[str]:
        """Gprims in scope without a label of the default taxonomy, their own or inherited."""
        labeled = {p for p, per_tax in labels.items() if per_tax.get(self.taxonomy)}
        labeled.update(p for p, state in self.outside.items() if state.combined().get(self.taxonomy))
        if not labeled:
            return [str(path) for path in self.gprims]
        memo: dict[Sdf.Path, bool] = {Sdf.Path.absoluteRootPath: False}

        def covered(path: Sdf.Path) -> bool:
            found = memo.get(path)
            if found is None:
                found = memo[path] = path in labeled or covered(path.GetParentPath())
            return found

        return [str(path) for path in self.gprims if not covered(path)]


def _row(prim: Usd.Prim, rule_id: str, action: Action, message: str, taxonomy: str = "") -> PlanRow:
    return PlanRow(str(prim.GetPath()), prim.GetTypeName(), rule_id, action, taxonomy, message=message)


def redirect_rows(state: PrimLabels, row: PlanRow, intent: Intent) -> list[PlanRow]:
    """REDIRECT rows for the instance proxies whose match was written on their instance root."""
    message = f"instance proxy --> instance root '{state.path}'"
    return [
        PlanRow(source, "", intent.rule.id, Action.REDIRECT, row.taxonomy, row.before, row.after, (), source, message)
        for source in dict.fromkeys(intent.sources)
    ]


def leaf_drops(matches: Sequence[tuple[Sdf.Path, Sequence[RuleMatch]]]) -> set[tuple[int, Sdf.Path]]:
    """(rule order, path) pairs a ``hierarchy: leaf`` rule drops because it also matched a descendant."""
    by_rule: dict[int, list[Sdf.Path]] = {}
    for path, found in matches:
        for rule, _ in found:
            if rule.hierarchy == "leaf":
                by_rule.setdefault(rule.order, []).append(path)
    dropped = set()
    for order, paths in by_rule.items():
        for here, following in itertools.pairwise(paths):  # pre-order: a descendant comes right after
            if following.HasPrefix(here):
                dropped.add((order, here))
    return dropped


def upgrade_rows(state: PrimLabels, current: Mapping[str, tuple[str, ...]]) -> list[PlanRow]:
    """UPGRADE / CONFLICT / WARN rows converting a prim's legacy instances to ``LabelsAPI``."""
    rows = []
    by_type: dict[str, list[LegacySemantics]] = {}
    for item in state.legacy:
        if not item.semantic_type or not item.semantic_data:
            problem = f"legacy instance '{item.instance}' has an empty semanticType or semanticData; left in place"
        elif item.instance in state.legacy_time_sampled:
            problem = f"legacy instance '{item.instance}' is time-sampled; left untouched"
        else:
            invalid = taxonomy_problem(item.semantic_type) or label_problem(item.semantic_data)
            problem = f"legacy instance '{item.instance}' cannot be upgraded: {invalid}" if invalid else None
        if problem:
            rows.append(PlanRow(state.path, state.type_name, "", Action.WARN, item.semantic_type, message=problem))
        else:
            by_type.setdefault(item.semantic_type, []).append(item)
    for taxonomy, items in by_type.items():
        before = current.get(taxonomy, ())
        data = dedupe(item.semantic_data for item in items)
        instances = tuple(item.instance for item in items)
        row = PlanRow(state.path, state.type_name, "", Action.UPGRADE, taxonomy, before, before, instances)
        if taxonomy in state.time_sampled:
            message = f"'{labels_attr_name(taxonomy)}' is time-sampled; legacy labels left in place"
            rows.append(replace(row, action=Action.WARN, legacy_instances=(), message=message))
        elif before and not set(data) <= set(before):
            message = f"legacy {list(data)} differs from LabelsAPI {list(before)}; left for you to resolve"
            rows.append(replace(row, action=Action.CONFLICT, message=message))
        else:
            rows.append(replace(row, after=dedupe([*before, *data])))
    return rows


def intent_row(
    state: PrimLabels,
    taxonomy: str,
    intent: Intent,
    current: Mapping[str, tuple[str, ...]],
    legacy_left: Sequence[LegacySemantics],
) -> PlanRow | None:
    """The row for a rule's decision on one taxonomy, or ``None`` when nothing would change."""
    before = current.get(taxonomy, ())
    source = intent.sources[0] if intent.sources else ""
    row = PlanRow(state.path, state.type_name, intent.rule.id, Action.SKIP, taxonomy, before, before, (), source)
    legacy = [item for item in legacy_left if item.semantic_type == taxonomy] if legacy_left else []
    if taxonomy in state.time_sampled:
        return replace(
            row, action=Action.WARN, message=f"'{labels_attr_name(taxonomy)}' is time-sampled; left untouched"
        )
    if intent.remove is not None:
        if intent.remove:
            after = tuple(label for label in before if label not in intent.remove)
            legacy = [item for item in legacy if item.semantic_data in intent.remove]
            changed = after != before
        else:
            after, changed = (), taxonomy in current
        if not changed and not legacy:
            return None
        return replace(row, action=Action.REMOVE, after=after, legacy_instances=tuple(i.instance for i in legacy))
    if intent.rule.mode == "skip" and (taxonomy in current or legacy):
        return replace(row, before=before or dedupe(item.semantic_data for item in legacy), after=())
    after = tuple(intent.labels) if intent.rule.mode == "replace" else dedupe([*before, *intent.labels])
    if after == before and taxonomy in current:
        return None
    action = Action.REPLACE if intent.rule.mode == "replace" and before else Action.ADD
    return PlanRow(state.path, state.type_name, intent.rule.id, action, taxonomy, before, after, (), source)


def labels_after(state: PrimLabels, rows: Sequence[PlanRow]) -> Mapping[str, tuple[str, ...]]:
    """Both schemas merged after the prim's write rows are applied."""
    labels = {tax: tuple(values) for tax, values in state.labels.items()}
    removed: set[str] = set()
    for row in rows:
        if not row.writes:
            continue
        removed.update(row.legacy_instances)
        if row.action == Action.REMOVE and not row.after:
            labels.pop(row.taxonomy, None)
        else:
            labels[row.taxonomy] = row.after
    kept = PrimLabels(state.path, state.type_name, labels, tuple(i for i in state.legacy if i.instance not in removed))
    return kept.combined()


def histogram(labels: Mapping[str, Mapping[str, tuple[str, ...]]]) -> Histogram:
    """Prims per (taxonomy, label)."""
    counts: dict[str, Counter[str]] = {}
    for per_tax in labels.values():
        for taxonomy, values in per_tax.items():
            counts.setdefault(taxonomy, Counter()).update(set(values))
    return {tax: dict(sorted(c.items())) for tax, c in sorted(counts.items())}


def plan(
    stage: Usd.Stage,
    rules: RuleSet,
    scope: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
) -> LabelPlan:
    """Evaluate ``rules`` on ``stage`` without changing it.

    ``scope`` (prim paths, e.g. the selection) replaces the rules file's ``scope.roots``;
    ``progress`` is called with the number of prims visited so far.
    """
    roots = tuple(scope) if scope is not None else rules.scope.roots
    planner = Planner(stage, rules)
    found, missing = scope_roots(stage, roots)
    for path in missing:
        planner.note(PlanRow(path, "", "", Action.WARN, "", message="scope root is not on the stage"))
    planner.read_ancestors(found)
    exclude = ExcludeFilter(rules.scope.exclude, rules.defaults.ignore_case) if rules.scope.exclude else None
    with no_gc():
        planner.visit_all(scope_prims(stage, roots, rules.scope.include_descendants, exclude), progress)
        return planner.finish()
