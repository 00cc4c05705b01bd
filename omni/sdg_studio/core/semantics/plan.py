"""Plan labeling without touching the stage: which prims get which labels, and why.

:func:`plan` evaluates a :class:`RuleSet` on a stage and returns a :class:`LabelPlan`: one row per
decision (ADD / REPLACE / SKIP / REMOVE / UPGRADE / DEINSTANCE / REFERENCE / REDIRECT / CONFLICT /
WARN) plus the label histogram before and after, the geometry left unlabeled and the rules that
matched nothing. ``apply.py`` writes exactly the rows that change something; re-planning after that
changes nothing.

Precedence, per prim and taxonomy: an ``exclude`` rule wins; otherwise the highest ``priority``
wins and ties go to the earlier rule in the file. ``mode`` then meets the labels already there
(``add`` merges, ``replace`` overwrites, ``skip`` leaves a labeled taxonomy alone). Matches inside
instances are settled by ``defaults.instances`` (``instances.py``).

Speed: prims are read column by column, rules are matched once per distinct (name, type), and a
decision (which rule gives which labels) is made once per distinct set of matching rules and then
shared by every prim with that set.
"""

from __future__ import annotations

import gc
import itertools
import sys
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from operator import attrgetter

from pxr import Sdf, Usd

from omni.sdg_studio.core.semantics.instances import resolve_instances
from omni.sdg_studio.core.semantics.matching import (
    ExcludeFilter,
    PrimFields,
    RuleMatch,
    RuleMatcher,
    group_value,
    is_gprim_type,
    scope_prims,
    scope_roots,
)
from omni.sdg_studio.core.semantics.plan_rows import (
    WRITE_ACTIONS,
    Action,
    Histogram,
    Intent,
    LabelPlan,
    LabelPlanError,
    PlanRow,
    add_row,
    histogram,
    histogram_of,
    intent_row,
)
from omni.sdg_studio.core.semantics.prim_labels import (
    PrimLabels,
    dedupe,
    has_label_tokens,
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

__all__ = [
    "WRITE_ACTIONS",
    "Action",
    "Histogram",
    "Intent",
    "LabelPlan",
    "LabelPlanError",
    "PlanRow",
    "Planner",
    "ProgressCallback",
    "histogram",
    "intent_row",
    "no_gc",
    "plan",
]

ProgressCallback = Callable[[int], None]
#: Prims visited between two progress callbacks.
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


@dataclass(frozen=True)
class _Decision:
    """What one set of matching rules decides, shared by every prim matched by that set.

    ``items`` are (taxonomy, rule, groups, intent, problems): ``intent`` is ``None`` when the labels
    depend on the prim itself (templates on its path, asset, material) and are rendered per prim, or
    when every rendered label was invalid; ``problems`` are the invalid labels (WARN rows on each prim).
    """

    excluded: bool
    items: tuple[tuple[str, Rule, dict[str, str], Intent | None, tuple[str, ...]], ...] = ()
    #: A remove rule on every taxonomy (``'*'``) needs the prim's own taxonomies.
    per_prim: bool = False

    @cached_property
    def labels_only(self) -> tuple[tuple[str, bool, Intent], ...] | None:
        """(taxonomy, topmost, intent) when every item labels with labels known in advance (the common
        case, decided inline for an unlabeled prim outside instances); ``None`` otherwise."""
        if self.excluded or self.per_prim:
            return None
        out = []
        for taxonomy, rule, _, intent, problems in self.items:
            if intent is None or problems:
                return None
            if intent.remove is None:  # removing from an unlabeled prim changes nothing
                out.append((taxonomy, rule.hierarchy == "topmost", intent))
        return tuple(out)


class Planner:
    """Collects per-prim decisions in traversal order and turns them into a :class:`LabelPlan`."""

    def __init__(self, stage: Usd.Stage, ruleset: RuleSet) -> None:
        self.stage, self.ruleset = stage, ruleset
        self.defaults = ruleset.defaults
        self.taxonomy = ruleset.defaults.taxonomy
        self.allowed = {c.name for c in ruleset.classes}
        #: Prims whose labels were read (they carry a label schema), in traversal order.
        self.states: dict[Sdf.Path, PrimLabels] = {}
        #: Type names of the other prims the plan reports on.
        self.types: dict[Sdf.Path, str] = {}
        #: Labeled ancestors above the scope roots (they count for hierarchy and coverage).
        self.outside: dict[Sdf.Path, PrimLabels] = {}
        #: Instance proxies the plan decided something for (``instances.py`` settles them).
        self.parts: dict[Sdf.Path, Usd.Prim] = {}
        #: Every instance proxy the plan reports on (labeled or decided for).
        self.proxies: set[Sdf.Path] = set()
        self.intents: dict[Sdf.Path, dict[str, Intent]] = {}
        self.notes: dict[Sdf.Path, list[PlanRow]] = {}
        #: Rows about specs in asset labels layers, DEINSTANCE and REFERENCE rows (``instances.py``).
        self.extra_rows: list[PlanRow] = []
        #: Stage prims whose labels asset rows change: path -> (before, after) per taxonomy.
        self.asset_changes: dict[Sdf.Path, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        #: While visiting: the visited ancestors of the current prim that carry (or are given) taxonomies,
        #: and how many of them hold each taxonomy.
        self._above: list[tuple[Sdf.Path, Collection[str]]] = []
        self._held: dict[str, int] = {}
        #: Unlabeled prims outside instances given labels known per (name, type): (path, type name,
        #: intents), in pre-order; kept out of :attr:`intents` (speed) unless instance parts are settled.
        self._bulk: list[tuple[Sdf.Path, str, dict[str, Intent]]] = []
        self.gprims: list[Sdf.Path] = []
        #: Each gprim's parent (an index into ``_parent_paths``), for coverage.
        self._gprim_parents: list[int] | None = None
        self._parent_paths: list[Sdf.Path] = []
        self.prim_count = 0
        self.hits = {rule.id: 0 for rule in ruleset.rules}
        self._decisions: dict[int, tuple[list[RuleMatch], _Decision]] = {}
        self._by_signature: dict[tuple[object, ...], _Decision] = {}
        self._resolved = False

    # state -------------------------------------------------------------------------------------

    def read_ancestors(self, roots: Sequence[Usd.Prim]) -> None:
        """Record the labels of the prims above the scope roots: descendants inherit them."""
        for root in roots:
            for path in root.GetPath().GetParentPath().GetPrefixes():
                prim = self.stage.GetPrimAtPath(path)
                if path not in self.outside and prim and prim_has_label_tokens(prim):
                    self.outside[path] = PrimLabels.read(prim)

    def record(self, prim: Usd.Prim, path: Sdf.Path | None = None, has_tokens: bool | None = None) -> PrimLabels:
        """The current labels of ``prim``, which the plan reports on (read only if it has label schemas)."""
        path = path or prim.GetPath()
        found = self.states.get(path)
        if found is not None:
            return found
        if has_tokens is None:
            has_tokens = prim_has_label_tokens(prim)
        if not has_tokens:
            self.types.setdefault(path, prim.GetTypeName())
            return PrimLabels(str(path), prim.GetTypeName())
        found = self.states[path] = PrimLabels.read(prim)
        return found

    def state_of(self, path: Sdf.Path) -> PrimLabels:
        """The recorded labels of a prim the plan reports on (empty when it carries none)."""
        found = self.states.get(path)
        return found if found is not None else PrimLabels(str(path), self.types.get(path, ""))

    def note(self, row: PlanRow) -> None:
        """An informational row (REDIRECT, WARN, CONFLICT) reported with the prim's other rows."""
        path = Sdf.Path(row.path)
        self.notes.setdefault(path, []).append(row)
        if path not in self.states and path not in self.types:
            prim = self.stage.GetPrimAtPath(path) if Sdf.Path.IsValidPathString(row.path) else None
            if prim:
                self.record(prim, path)
            else:
                self.types[path] = row.prim_type

    def ancestor_has(self, taxonomy: str) -> bool:
        """While visiting: whether an ancestor of the current prim carries ``taxonomy`` now or is given
        it by this plan (pre-order: every ancestor was decided before its descendants)."""
        return self._held.get(taxonomy, 0) > 0

    # traversal ---------------------------------------------------------------------------------

    def visit_all(self, prims: list[Usd.Prim], progress: ProgressCallback | None = None) -> None:
        """Match every prim (column by column), then decide the matched and labeled ones in order.

        ``prims`` (pre-order) is emptied once read, to free memory. ``progress`` gets a count that
        reaches the number of prims when done.
        """
        self.prim_count = len(prims)
        # interned: prims share a few type names and many part names (memory at a million prims)
        names = list(map(sys.intern, map(Usd.Prim.GetName, prims)))
        types = list(map(sys.intern, map(Usd.Prim.GetTypeName, prims)))
        applied = map(Usd.PrimTypeInfo.GetAppliedAPISchemas, map(Usd.Prim.GetPrimTypeInfo, prims))
        labeled = {i for i, tokens in enumerate(applied) if tokens and has_label_tokens(tokens)}
        geometry = {t for t in set(types) if is_gprim_type(t)}
        matched = RuleMatcher(self.ruleset).match_all(prims, names, types)
        # the prims read further, in pre-order: matched and labeled ones (decided) and geometry (coverage)
        visit = sorted(labeled.union(matched, [i for i, t in enumerate(types) if t in geometry]))
        visit_prims = [prims[i] for i in visit]
        prims.clear()  # the largest list of a plan: only the prims visited are needed now
        paths = list(map(Usd.Prim.GetPath, visit_prims))
        self.gprims = [path for i, path in zip(visit, paths, strict=True) if types[i] in geometry]
        # without prototypes on the stage no prim is an instance proxy (one query instead of one per prim)
        proxies = list(map(Usd.Prim.IsInstanceProxy, visit_prims)) if self.stage.GetPrototypes() else None
        leaf = any(rule.hierarchy == "leaf" for rule in self.ruleset.rules)
        dropped = leaf_drops([(paths[k], matched.get(i, ())) for k, i in enumerate(visit)]) if leaf else set()
        seen: list[int] = []  # id() of each prim's list of matching rules, for the rule hit counts
        self._above, self._held = [], {}
        for path, state in sorted(self.outside.items()):
            self._push(path, set(state.combined()))
        above, held_count, push, bulk = self._above, self._held, self._push, self._bulk
        decide, decisions, decision_of = self.decide, self._decisions, self._decision
        for k, (i, prim, path) in enumerate(zip(visit, visit_prims, paths, strict=True)):
            if progress is not None and k % PROGRESS_STEP == 0:
                progress(k * self.prim_count // len(visit))
            found = matched.get(i)
            has_tokens = i in labeled
            if found is None and not has_tokens:
                continue  # geometry nothing matched: read for coverage only
            while above and not path.HasPrefix(above[-1][0]):
                for taxonomy in above.pop()[1]:
                    held_count[taxonomy] -= 1
            if dropped and found:
                found = [(rule, groups) for rule, groups in found if (rule.order, path) not in dropped]
            is_proxy = proxies[k] if proxies is not None else False
            fast = None
            if found:
                seen.append(id(found))
                if not is_proxy and not has_tokens:
                    cached = decisions.get(id(found))
                    decision = cached[1] if cached is not None and cached[0] is found else None
                    fast = (decision or decision_of(found, names[i], types[i])).labels_only
            if fast is None:
                held = decide(prim, path, found or (), has_tokens, is_proxy, names[i], types[i])
            else:  # inline decide() for the common case: an unlabeled prim, labels known per (name, type)
                per_prim: dict[str, Intent] | None = None
                for taxonomy, topmost, intent in fast:
                    if topmost and held_count.get(taxonomy):
                        continue
                    if per_prim is None:
                        per_prim = {taxonomy: intent}
                    elif taxonomy not in per_prim or intent.rank < per_prim[taxonomy].rank:
                        per_prim[taxonomy] = intent
                if per_prim is not None:
                    bulk.append((path, types[i], per_prim))
                held = per_prim
            if held:
                push(path, held)
        self._above, self._held = [], {}
        for key, count in Counter(seen).items():
            for rule, _ in self._decisions[key][0]:
                self.hits[rule.id] += count
        if progress is not None:
            progress(self.prim_count)

    def _push(self, path: Sdf.Path, held: Collection[str]) -> None:
        """While visiting: ``path`` carries (or is given) the taxonomies ``held``; its descendants come next."""
        self._above.append((path, held))
        for taxonomy in held:
            self._held[taxonomy] = self._held.get(taxonomy, 0) + 1

    def _decision(self, found: list[RuleMatch], name: str, type_name: str) -> _Decision:
        """The decision of one list of matching rules, cached per list (lists are shared per (name, type))
        and per signature: the rules, their regex groups, and the name and type only where templates read them."""
        cached = self._decisions.get(id(found))
        if cached is not None and cached[0] is found:
            return cached[1]
        by_name = by_type = False
        signature: list[object] = []
        for rule, groups in found:
            signature.append((rule.order, tuple(groups.items()) if groups else ()))
            used = rule.template_fields
            by_name = by_name or "name" in used or "norm" in used
            by_type = by_type or "type" in used
        key = (tuple(signature), name if by_name else None, type_name if by_type else None)
        decision = self._by_signature.get(key)
        if decision is None:
            decision = self._by_signature[key] = self._decide_rules(found, name, type_name)
        self._decisions[id(found)] = (found, decision)
        return decision

    def _decide_rules(self, found: Sequence[RuleMatch], name: str, type_name: str) -> _Decision:
        if any(rule.action == "exclude" for rule, _ in found):
            return _Decision(True)
        if any(ALL_TAXONOMIES in rule.taxonomies for rule, _ in found):
            return _Decision(False, per_prim=True)
        decided: dict[str, RuleMatch] = {}
        for rule, groups in found:
            for taxonomy in rule.taxonomies:
                decided.setdefault(taxonomy, (rule, groups))
        items = []
        for taxonomy, (rule, groups) in decided.items():
            intent: Intent | None = None
            problems: list[str] = []
            if rule.action == "remove":
                intent = Intent(rule, (), _removed_labels(rule, taxonomy))
            elif rule.labels_per_name:

                def lookup(key: str, groups: dict[str, str] = groups, rule: Rule = rule) -> str:
                    return _name_field(key, groups, name, type_name, self.ruleset, rule)

                labels, problems = self._labels(rule, taxonomy, lookup)
                intent = Intent(rule, labels) if labels else None
            items.append((taxonomy, rule, groups, intent, tuple(problems)))
        return _Decision(False, tuple(items))

    def decide(
        self,
        prim: Usd.Prim,
        path: Sdf.Path,
        found: Sequence[RuleMatch],
        has_tokens: bool,
        is_proxy: bool,
        name: str,
        type_name: str,
    ) -> set[str] | None:
        """Turn one prim's matching rules (in precedence order) into intents and notes.

        Returns the taxonomies the prim carries afterwards (now or by this plan), for ``topmost``.
        """
        held: set[str] | None = None
        state: PrimLabels | None = None
        if has_tokens:
            if self.defaults.legacy == "fail" and legacy_semantics(prim):
                raise LabelPlanError(
                    f"{path} carries the legacy SemanticsAPI (defaults.legacy: fail); "
                    "set defaults.legacy to upgrade (convert to LabelsAPI) or keep"
                )
            state = self.record(prim, path, True)
            held = set(state.combined())
            if is_proxy:
                self.proxies.add(path)
                if state.legacy and self.defaults.legacy == "upgrade":
                    message = "legacy labels inside an instance prototype cannot be upgraded here; upgrade its asset"
                    self.note(_row(prim, "", Action.WARN, message))
        if not found:
            return held
        decision = (
            self._decision(found, name, type_name)
            if isinstance(found, list)
            else self._decide_rules(found, name, type_name)
        )
        if decision.excluded:
            return held
        if is_proxy and not self._allow_part(prim, found[0][0].id):
            return held
        if decision.per_prim:
            return self._decide_per_prim(prim, path, found, name, type_name, state, held)
        fields: PrimFields | None = None
        for taxonomy, rule, groups, intent, problems in decision.items:
            if rule.hierarchy == "topmost" and self.ancestor_has(taxonomy):
                continue
            for message in problems:
                self.note(PlanRow(str(path), type_name, rule.id, Action.WARN, taxonomy, message=message))
            if intent is None:
                if problems:
                    continue
                fields = fields or PrimFields(prim, name, type_name, self.ruleset)
                intent = self._render(prim, path, rule, taxonomy, groups, fields)
                if intent is None:
                    continue
            if state is None and path not in self.types:
                self.types[path] = type_name
            if is_proxy:
                self.parts.setdefault(path, prim)
                self.proxies.add(path)
            if self.place(path, taxonomy, intent, state):
                held = held or set()
                held.add(taxonomy)
            elif held:
                held.discard(taxonomy)
        return held

    def _decide_per_prim(
        self,
        prim: Usd.Prim,
        path: Sdf.Path,
        found: Sequence[RuleMatch],
        name: str,
        type_name: str,
        state: PrimLabels | None,
        held: set[str] | None,
    ) -> set[str] | None:
        """The slow path for a remove rule on every taxonomy (``'*'``): it needs the prim's own taxonomies."""
        decided: dict[str, RuleMatch] = {}
        for rule, groups in found:
            taxonomies = rule.taxonomies
            if ALL_TAXONOMIES in taxonomies:
                present = self.record(prim, path).taxonomies()
                present.update(t for r, _ in found for t in r.taxonomies if t != ALL_TAXONOMIES)
                taxonomies = tuple(sorted(present))
            for taxonomy in taxonomies:
                decided.setdefault(taxonomy, (rule, groups))
        fields = PrimFields(prim, name, type_name, self.ruleset)
        held = set(held or ())
        for taxonomy, (rule, groups) in decided.items():
            if rule.hierarchy == "topmost" and self.ancestor_has(taxonomy):
                continue
            if rule.action == "remove":
                intent: Intent | None = Intent(rule, (), _removed_labels(rule, taxonomy))
            else:
                intent = self._render(prim, path, rule, taxonomy, groups, fields)
            if intent is None:
                continue
            if state is None and path not in self.types:
                self.types[path] = type_name
            if prim.IsInstanceProxy():
                self.parts.setdefault(path, prim)
                self.proxies.add(path)
            if self.place(path, taxonomy, intent, state):
                held.add(taxonomy)
            else:
                held.discard(taxonomy)
        return held

    def _allow_part(self, proxy: Usd.Prim, rule_id: str) -> bool:
        """Whether a match on an instance proxy is planned (``skip`` notes it, ``error`` stops)."""
        policy = self.defaults.instances
        if policy == "error":
            raise LabelPlanError(
                f"rule '{rule_id}' matches instance proxy {proxy.GetPath()}, which cannot be written "
                "(defaults.instances: error; root, deinstance or asset label it, skip skips it)"
            )
        if policy == "skip":
            self.note(_row(proxy, rule_id, Action.WARN, "instance proxy: skipped (defaults.instances: skip)"))
            return False
        return True

    def _labels(self, rule: Rule, taxonomy: str, lookup: Callable[[str], str]) -> tuple[tuple[str, ...], list[str]]:
        """The rule's rendered labels of ``taxonomy`` and the problems of the invalid ones (not kept)."""
        out, problems = [], []
        for tax, templates in rule.labels:
            if tax != taxonomy:
                continue
            for template in templates:
                label = template.render(lookup, self.ruleset.normalizer).strip()
                problem = label_problem(label)
                if problem is None and self.allowed and taxonomy == self.taxonomy and label not in self.allowed:
                    problem = f"label {label!r} is not in the rules file's classes"
                if problem:
                    origin = f" (from {template.text!r})" if template.fields else ""
                    problems.append(f"{problem}{origin}; not written")
                    continue
                out.append(label)
        return dedupe(out), problems

    def _render(
        self,
        prim: Usd.Prim,
        path: Sdf.Path,
        rule: Rule,
        taxonomy: str,
        groups: Mapping[str, str],
        fields: PrimFields,
    ) -> Intent | None:
        """The rule's labels for ``prim``; invalid ones become WARN rows instead."""
        labels, problems = self._labels(rule, taxonomy, lambda key: group_value(groups, fields, rule, key))
        for problem in problems:
            self.note(PlanRow(str(path), prim.GetTypeName(), rule.id, Action.WARN, taxonomy, message=problem))
        return Intent(rule, labels) if labels else None

    def redirect(self, proxy: Usd.Prim, rule_id: str) -> Usd.Prim | None:
        """Where an edit of an instance proxy is planned: the proxy itself (``instances.py`` settles it),
        or ``None`` when the policy skips it."""
        return proxy if self._allow_part(proxy, rule_id) else None

    def intend(
        self,
        target: Usd.Prim,
        taxonomy: str,
        intent: Intent,
        path: Sdf.Path | None = None,
        is_proxy: bool | None = None,
    ) -> None:
        """Record what a rule wants for (``target``, ``taxonomy``); the better-ranked rule wins.

        An instance proxy's intent waits for ``instances.py`` (see :meth:`finish`).
        """
        path = path or target.GetPath()
        if is_proxy is None:
            is_proxy = target.IsInstanceProxy()
        if is_proxy:
            self.parts.setdefault(path, target)
            self.proxies.add(path)
        state = self.states.get(path)
        if state is None and path not in self.types:
            state = self.record(target, path)
        self.place(path, taxonomy, intent, state)

    def place(self, path: Sdf.Path, taxonomy: str, intent: Intent, state: PrimLabels | None = None) -> bool:
        """Keep ``intent`` for (``path``, ``taxonomy``) unless a better-ranked one is there; the same rule's
        intents for one prim (several proxies of one instance) merge. Returns whether the prim carries
        the taxonomy afterwards."""
        per_prim = self.intents.get(path)
        if per_prim is None:
            per_prim = self.intents[path] = {}
        current = per_prim.get(taxonomy)
        if current is None or intent.rank < current.rank:
            current = per_prim[taxonomy] = intent
        elif current.rule is intent.rule and current.remove == intent.remove:
            current = per_prim[taxonomy] = replace(
                current,
                labels=dedupe([*current.labels, *intent.labels]),
                sources=tuple(dict.fromkeys([*current.sources, *intent.sources])),
            )
        if current.remove is None:
            return True
        state = state if state is not None else self.states.get(path)
        if state is None or not current.remove:
            return False
        return bool(set(state.combined().get(taxonomy, ())) - set(current.remove))

    def _fold_bulk(self) -> None:
        """Move the bulk prims' intents into :attr:`intents`, where instance settling can see and change them."""
        for path, type_name, per_prim in self._bulk:
            self.intents[path] = per_prim
            self.types.setdefault(path, type_name)
        self._bulk = []

    # rows --------------------------------------------------------------------------------------

    def rows_for(self, path: Sdf.Path, state: PrimLabels) -> list[PlanRow]:
        """Rows of one prim: its notes, legacy upgrades, then each taxonomy's rule decision."""
        rows: list[PlanRow] = list(self.notes.get(path, []))
        if path in self.proxies and path not in self.intents:
            return rows  # a proxy whose labels come from its prototype: only reported on
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
        if self.defaults.legacy == "upgrade" and state.legacy and path not in self.proxies:
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
                    rows.extend(redirect_rows(state.path, row, intent))
        for row in conflicts:  # a rule may have given LabelsAPI the legacy labels: then it is an upgrade
            labels = current.get(row.taxonomy, ())
            legacy = {i.semantic_data for i in legacy_left if i.instance in row.legacy_instances}
            if labels and legacy <= set(labels):
                take(replace(row, action=Action.UPGRADE, before=labels, after=labels, message=""))
            else:
                rows.append(row)
        return rows

    def finish(self) -> LabelPlan:
        """Settle the instance proxies' intents, then turn every intent and note into rows."""
        if not self._resolved:
            if self.parts:  # instance roots may be bulk prims: settle the parts with every intent in view
                self._fold_bulk()
            resolve_instances(self)
            self._resolved = True
        rows: list[PlanRow] = []
        before_pairs: list[tuple[str, str]] = []
        after_pairs: list[tuple[str, str]] = []
        holders_before: set[Sdf.Path] = set()
        holders_after: set[Sdf.Path] = set()
        taxonomy = self.taxonomy
        notes, states, intents, known_types = self.notes, self.states, self.intents, self.types
        slow = [*states, *(p for p in notes if p not in states)]
        slow += [p for p in self.proxies if p in intents and p not in states and p not in notes]
        for path in slow:  # labeled prims, prims with notes, parts of instances: the general rules
            state = self.state_of(path)
            prim_rows = [
                row if row.path != state.path else replace(row, sdf_path=path) for row in self.rows_for(path, state)
            ]
            rows.extend(prim_rows)
            before = state.combined()
            after = labels_after(state, prim_rows) if prim_rows else before
            before_pairs.extend((tax, label) for tax, labels in before.items() for label in set(labels))
            after_pairs.extend((tax, label) for tax, labels in after.items() for label in set(labels))
            if before.get(taxonomy):
                holders_before.add(path)
            if after.get(taxonomy):
                holders_after.add(path)
        done = set(slow)
        uses: dict[tuple[str, int], int] = {}  # (taxonomy, id(intent)) -> prims, for the histogram
        by_id: dict[int, Intent] = {}
        # bulk prims carry no labels, notes or instance parts (never in ``slow``): each intent is one ADD row
        for path, type_name, per_prim in self._bulk:
            text = path.pathString
            for tax, intent in per_prim.items():
                rows.append(add_row(text, type_name, intent.rule.id, tax, intent.labels, path))
                key = (tax, id(intent))
                uses[key] = uses.get(key, 0) + 1
                by_id[id(intent)] = intent
            if taxonomy in per_prim:
                holders_after.add(path)
        self._bulk = []
        while intents:  # unlabeled prims of instance roots and edits (popped: memory is freed as rows grow)
            path, per_prim = intents.popitem()
            if path in done:
                continue
            text = path.pathString
            type_name = known_types.pop(path, "")
            for tax, intent in per_prim.items():
                if intent.remove is not None or not intent.labels:
                    continue
                source = intent.sources[0] if intent.sources else ""
                row = PlanRow(
                    text, type_name, intent.rule.id, Action.ADD, tax, (), intent.labels, (), source, sdf_path=path
                )
                rows.append(row)
                if intent.sources:
                    rows.extend(redirect_rows(text, row, intent))
                key = (tax, id(intent))
                uses[key] = uses.get(key, 0) + 1
                by_id[id(intent)] = intent
                if tax == taxonomy:
                    holders_after.add(path)
        for (tax, key), count in uses.items():
            after_pairs.extend([(tax, label) for label in by_id[key].labels] * count)
        before_counts = Counter(before_pairs)
        after_counts = Counter(after_pairs)
        for path, changed in self.asset_changes.items():  # parts labeled through their asset's labels layer
            for tax, (before_labels, after_labels) in changed.items():
                after_counts.subtract((tax, label) for label in set(before_labels))
                after_counts.update((tax, label) for label in set(after_labels))
                if tax == taxonomy:
                    (holders_after.add if after_labels else holders_after.discard)(path)
        rows.extend(self.extra_rows)
        # stable: a prim's rows keep the order above
        rows.sort(key=attrgetter("layer", "path") if any(row.layer for row in rows) else attrgetter("path"))
        for path, state in self.outside.items():
            if state.combined().get(taxonomy):
                holders_before.add(path)
                holders_after.add(path)
        return LabelPlan(
            rows=rows,
            taxonomy=self.taxonomy,
            prim_count=self.prim_count,
            gprim_count=len(self.gprims),
            histogram_before=histogram_of(before_counts),
            histogram_after=histogram_of(after_counts),
            unlabeled_before_paths=self.uncovered(holders_before),
            unlabeled_paths=self.uncovered(holders_after),
            rule_hits=dict(self.hits),
            instance_policy=self.defaults.instances,
        )

    def uncovered(self, holders: set[Sdf.Path]) -> list[Sdf.Path]:
        """Gprims in scope neither in ``holders`` nor below one (no label of the default taxonomy)."""
        if not holders:
            return list(self.gprims)
        if self._gprim_parents is None:  # each gprim's parent as an index into the distinct parents (read once)
            index: dict[Sdf.Path, int] = {}
            self._gprim_parents = [index.setdefault(p, len(index)) for p in map(Sdf.Path.GetParentPath, self.gprims)]
            self._parent_paths = list(index)
        memo: dict[Sdf.Path, bool] = {Sdf.Path.absoluteRootPath: False}
        for parent in self._parent_paths:
            chain = []
            current = parent
            found = memo.get(current)
            while found is None:
                if current in holders:
                    found = memo[current] = True
                    break
                chain.append(current)
                current = current.GetParentPath()
                found = memo.get(current)
            for seen in chain:
                memo[seen] = found
        covered = [memo[parent] for parent in self._parent_paths]
        return [g for g, k in zip(self.gprims, self._gprim_parents, strict=True) if not covered[k] and g not in holders]

    def unlabeled(self, labels: Mapping[Sdf.Path, Mapping[str, tuple[str, ...]]]) -> list[str]:
        """Gprims in scope without a label of the default taxonomy, own or inherited."""
        holders = {p for p, per_tax in labels.items() if per_tax.get(self.taxonomy)}
        holders.update(p for p, state in self.outside.items() if state.combined().get(self.taxonomy))
        return list(map(str, self.uncovered(holders)))


def _removed_labels(rule: Rule, taxonomy: str) -> tuple[str, ...]:
    return tuple(t.text for tax, templates in rule.labels if tax == taxonomy for t in templates)


def _name_field(key: str, groups: Mapping[str, str], name: str, type_name: str, ruleset: RuleSet, rule: Rule) -> str:
    """A template field of a rule whose labels depend on the name and type only."""
    value = groups.get(key)
    if value is not None:
        return value
    if key == "name":
        return name
    if key == "type":
        return type_name
    if key == "norm":
        return ruleset.normalizer.normalize(name)
    raise KeyError(f"rule '{rule.id}': field {key!r} is not available per name")


def _row(prim: Usd.Prim, rule_id: str, action: Action, message: str, taxonomy: str = "") -> PlanRow:
    return PlanRow(str(prim.GetPath()), prim.GetTypeName(), rule_id, action, taxonomy, message=message)


def redirect_rows(root: str, row: PlanRow, intent: Intent) -> list[PlanRow]:
    """REDIRECT rows for the instance proxies whose match was written on their instance root."""
    message = f"instance proxy --> instance root '{root}'"
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


def labels_after(state: PrimLabels, rows: Sequence[PlanRow]) -> Mapping[str, tuple[str, ...]]:
    """Both schemas merged after the prim's write rows are applied."""
    labels = {tax: tuple(values) for tax, values in state.labels.items()}
    removed: set[str] = set()
    for row in rows:
        if not row.writes or row.path != state.path:
            continue
        removed.update(row.legacy_instances)
        if row.action == Action.REMOVE and not row.after:
            labels.pop(row.taxonomy, None)
        elif row.taxonomy:
            labels[row.taxonomy] = row.after
    kept = PrimLabels(state.path, state.type_name, labels, tuple(i for i in state.legacy if i.instance not in removed))
    return kept.combined()


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
