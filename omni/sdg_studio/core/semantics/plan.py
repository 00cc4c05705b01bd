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

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import PurePosixPath
from typing import Any

from pxr import Pcp, Sdf, Tf, Usd, UsdShade

from omni.sdg_studio.core.errors import SdgStudioError
from omni.sdg_studio.core.semantics.rules import ALL_TAXONOMIES, Rule, RuleSet
from omni.sdg_studio.core.semantics.schema import (
    LABELS_API_PREFIX,
    LEGACY_API_PREFIX,
    LegacySemantics,
    label_problem,
    labels_api_labels,
    labels_attr_name,
    legacy_attr_names,
    legacy_semantics,
    taxonomy_problem,
)

#: Prims the rules see: active, loaded, defined, not abstract, including instance proxies.
TRAVERSAL = Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)
_GPRIM = Tf.Type.FindByName("UsdGeomGprim")

ProgressCallback = Callable[[int], None]


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

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)


# --- what one prim carries now -------------------------------------------------------------------


@dataclass(frozen=True)
class PrimLabels:
    """The labels a prim carries now (its own opinions, both schemas), as plan rows need them."""

    path: str
    type_name: str
    labels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    legacy: tuple[LegacySemantics, ...] = ()
    time_sampled: frozenset[str] = frozenset()
    legacy_time_sampled: frozenset[str] = frozenset()

    @classmethod
    def read(cls, prim: Usd.Prim) -> PrimLabels:
        labels = labels_api_labels(prim)
        legacy = tuple(legacy_semantics(prim))
        sampled = frozenset(t for t in labels if prim.GetAttribute(labels_attr_name(t)).GetNumTimeSamples() > 0)
        legacy_sampled = frozenset(
            item.instance
            for item in legacy
            if any(prim.GetAttribute(name).GetNumTimeSamples() > 0 for name in legacy_attr_names(item.instance))
        )
        return cls(str(prim.GetPath()), prim.GetTypeName(), labels, legacy, sampled, legacy_sampled)

    def combined(self) -> dict[str, tuple[str, ...]]:
        """Both schemas merged per taxonomy (legacy type is the taxonomy), like ``direct_labels``."""
        out = {tax: list(labels) for tax, labels in self.labels.items()}
        for item in self.legacy:
            if item.semantic_type and item.semantic_data:
                bucket = out.setdefault(item.semantic_type, [])
                if item.semantic_data not in bucket:
                    bucket.append(item.semantic_data)
        return {tax: tuple(labels) for tax, labels in out.items()}

    def legacy_of(self, taxonomy: str) -> list[LegacySemantics]:
        return [item for item in self.legacy if item.semantic_type == taxonomy]


def dedupe(labels: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(labels))


def has_label_tokens(tokens: Sequence[str]) -> bool:
    """True when applied-schema ``tokens`` include either label schema."""
    return any(t.startswith((LABELS_API_PREFIX, LEGACY_API_PREFIX)) for t in tokens)


def instance_root(prim: Usd.Prim) -> Usd.Prim | None:
    """The nearest writable instance prim above an instance proxy (``None`` if there is none)."""
    current = prim.GetParent()
    while current and (current.IsInstanceProxy() or not current.IsInstance()):
        current = current.GetParent()
    return current if current and current.IsInstance() else None


# --- prim fields rules can match on --------------------------------------------------------------


def referenced_asset(prim: Usd.Prim) -> str:
    """Layer path of the strongest reference/payload arc that leaves the stage's own layers."""
    own = {layer.identifier for layer in prim.GetStage().GetLayerStack()}
    query = Usd.PrimCompositionQuery(prim)
    for arc in query.GetCompositionArcs():
        if arc.GetArcType() not in (Pcp.ArcTypeReference, Pcp.ArcTypePayload):
            continue
        layer = arc.GetTargetLayer()
        if layer is not None and layer.identifier not in own:
            return layer.realPath or layer.identifier
    return ""


def bound_material_name(prim: Usd.Prim) -> str:
    material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    return material.GetPrim().GetName() if material else ""


class PrimFields:
    """Lazily computed match/template fields of one prim."""

    def __init__(self, prim: Usd.Prim, name: str, type_name: str, ruleset: RuleSet) -> None:
        self.prim, self.ruleset = prim, ruleset
        self._values: dict[str, str] = {"name": name, "type": type_name}

    def get(self, key: str) -> str:
        if key not in self._values:
            self._values[key] = self._compute(key)
        return self._values[key]

    def _compute(self, key: str) -> str:
        prim = self.prim
        if key == "path":
            return str(prim.GetPath())
        if key == "parent":
            return prim.GetPath().GetParentPath().name
        if key == "norm":
            return self.ruleset.normalizer.normalize(self.get("name"))
        if key == "asset":
            return PurePosixPath(referenced_asset(prim).replace("\\", "/")).name
        if key == "folder":
            asset = referenced_asset(prim).replace("\\", "/")
            return PurePosixPath(asset).parent.name if asset else ""
        if key == "material":
            return bound_material_name(prim)
        raise KeyError(key)


RuleMatch = tuple[Rule, dict[str, str]]


class RuleMatcher:
    """Evaluates the rules on prims; results for rules reading only name and type are cached."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.ranked = ruleset.ranked_rules()
        self._type_ok: dict[tuple[int, str], bool] = {}
        self._cache: dict[tuple[str, str], list[RuleMatch]] = {}
        self._cheap = [r for r in self.ranked if r.fields <= {"name", "type"}]
        self._costly = [r for r in self.ranked if not r.fields <= {"name", "type"}]

    def _type_passes(self, rule: Rule, type_name: str) -> bool:
        key = (rule.order, type_name)
        found = self._type_ok.get(key)
        if found is None:
            found = (not rule.prim_types or type_name in rule.prim_types) and (
                not rule.isa or _isa(type_name, rule.isa)
            )
            self._type_ok[key] = found
        return found

    def _test(self, rule: Rule, fields: PrimFields) -> dict[str, str] | None:
        if not self._type_passes(rule, fields.get("type")):
            return None
        groups: dict[str, str] = {}
        for match in rule.matches:
            found = match.test(fields.get(match.on))
            if found is None:
                return None
            groups.update(found.groupdict())
        if any(m.test(fields.get(m.on)) is not None for m in rule.unless):
            return None
        return groups

    def matches(self, prim: Usd.Prim, name: str, type_name: str) -> tuple[list[RuleMatch], PrimFields | None]:
        """Matching rules in precedence order, and the prim's fields if they were needed."""
        key = (name, type_name)
        cheap = self._cache.get(key)
        fields = None
        if cheap is None:
            fields = PrimFields(prim, name, type_name, self.ruleset)
            cheap = [(r, g) for r in self._cheap if (g := self._test(r, fields)) is not None]
            self._cache[key] = cheap
        if not self._costly:
            return cheap, fields
        fields = fields or PrimFields(prim, name, type_name, self.ruleset)
        costly = [(r, g) for r in self._costly if (g := self._test(r, fields)) is not None]
        found = sorted([*cheap, *costly], key=lambda m: (-m[0].priority, m[0].order))
        return found, fields


def _isa(type_name: str, bases: Sequence[str]) -> bool:
    prim_type = Usd.SchemaRegistry.GetTypeFromName(type_name)
    return any(prim_type.IsA(Usd.SchemaRegistry.GetTypeFromName(base)) for base in bases)


def is_gprim_type(type_name: str, _cache: dict[str, bool] = {}) -> bool:  # noqa: B006 - a deliberate memo
    found = _cache.get(type_name)
    if found is None:
        found = _cache[type_name] = bool(type_name) and Usd.SchemaRegistry.GetTypeFromName(type_name).IsA(_GPRIM)
    return found


# --- scope ---------------------------------------------------------------------------------------


def scope_roots(stage: Usd.Stage, roots: Sequence[str]) -> tuple[list[Usd.Prim], list[str]]:
    """Existing root prims (nested roots dropped) and the roots that are missing."""
    paths = sorted({Sdf.Path(r) for r in roots})
    kept: list[Sdf.Path] = []
    for path in paths:
        if not any(path.HasPrefix(k) for k in kept):
            kept.append(path)
    prims, missing = [], []
    for path in kept:
        prim = stage.GetPrimAtPath(path)
        (prims.append(prim) if prim else missing.append(str(path)))
    return prims, missing


def scope_prims(stage: Usd.Stage, roots: Sequence[str], include_descendants: bool, exclude: Any) -> Iterator[Usd.Prim]:
    """Prims under ``roots`` in pre-order (``exclude``: a compiled path regex pruning subtrees)."""
    prims, _ = scope_roots(stage, roots)
    for root in prims:
        if not include_descendants:
            if not root.IsPseudoRoot() and not (exclude and exclude.fullmatch(str(root.GetPath()))):
                yield root
            continue
        walk = Usd.PrimRange.Stage(stage, TRAVERSAL) if root.IsPseudoRoot() else Usd.PrimRange(root, TRAVERSAL)
        if exclude is None:
            yield from walk
            continue
        iterator = iter(walk)
        for prim in iterator:
            if exclude.fullmatch(str(prim.GetPath())):
                iterator.PruneChildren()
                continue
            yield prim


# --- the planner ---------------------------------------------------------------------------------


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


Pending = tuple[Usd.Prim, list[RuleMatch], "PrimFields | None"]


class Planner:
    """Collects per-prim decisions in traversal order and turns them into a :class:`LabelPlan`."""

    def __init__(self, stage: Usd.Stage, ruleset: RuleSet) -> None:
        self.stage, self.ruleset = stage, ruleset
        self.defaults = ruleset.defaults
        self.taxonomy = ruleset.defaults.taxonomy
        self.allowed = {c.name for c in ruleset.classes}
        #: Prims the plan reports on (in scope, labeled or matched), in traversal order.
        self.states: dict[str, PrimLabels] = {}
        #: Prims read only to answer hierarchy questions (ancestors, outside the scope too).
        self.outside: dict[str, PrimLabels] = {}
        self.proxies: set[str] = set()
        self.intents: dict[str, dict[str, Intent]] = {}
        self.notes: dict[str, list[PlanRow]] = {}
        self.gprims: list[Sdf.Path] = []
        self.prim_count = 0
        self.hits = {rule.id: 0 for rule in ruleset.rules}

    # state -------------------------------------------------------------------------------------

    def record(self, prim: Usd.Prim) -> PrimLabels:
        """The current labels of ``prim``, which the plan reports on."""
        key = str(prim.GetPath())
        found = self.states.get(key)
        if found is None:
            found = self.states[key] = self.outside.pop(key, None) or PrimLabels.read(prim)
            if prim.IsInstanceProxy():
                self.proxies.add(key)
        return found

    def note(self, row: PlanRow) -> None:
        """An informational row (REDIRECT, WARN) reported with the prim's other rows."""
        self.notes.setdefault(row.path, []).append(row)
        if row.path not in self.states:
            prim = self.stage.GetPrimAtPath(row.path) if Sdf.Path.IsValidPathString(row.path) else None
            self.states[row.path] = PrimLabels.read(prim) if prim else PrimLabels(row.path, row.prim_type)

    def labels_of(self, path: Sdf.Path) -> PrimLabels | None:
        key = str(path)
        found = self.states.get(key) or self.outside.get(key)
        if found is None:
            prim = self.stage.GetPrimAtPath(path)
            if not prim:
                return None
            found = self.outside[key] = PrimLabels.read(prim)
        return found

    def ancestor_has(self, path: Sdf.Path, taxonomy: str) -> bool:
        """Whether an ancestor carries ``taxonomy`` now or is given it by this plan."""
        for parent in path.GetParentPath().GetPrefixes():
            state = self.labels_of(parent)
            now = state.combined().get(taxonomy) if state is not None else None
            intent = self.intents.get(str(parent), {}).get(taxonomy)
            if intent is None:
                if now is not None:
                    return True
            elif intent.remove is None or (intent.remove and set(now or ()) - set(intent.remove)):
                return True
        return False

    # traversal ---------------------------------------------------------------------------------

    def visit_all(self, prims: Iterable[Usd.Prim], progress: ProgressCallback | None = None) -> None:
        """Match every prim, then decide the matched and labeled ones in traversal order."""
        matcher = RuleMatcher(self.ruleset)
        pending: list[Pending] = []
        count = 0
        for count, prim in enumerate(prims, 1):
            name, type_name = prim.GetName(), prim.GetTypeName()
            found, fields = matcher.matches(prim, name, type_name)
            if is_gprim_type(type_name):
                self.gprims.append(prim.GetPath())
            if found or has_label_tokens(prim.GetPrimTypeInfo().GetAppliedAPISchemas()):
                pending.append((prim, found, fields))
            if progress is not None and count % 4096 == 0:
                progress(count)
        self.prim_count = count
        if progress is not None:
            progress(count)
        dropped = leaf_drops(pending)
        for prim, found, fields in pending:
            key = str(prim.GetPath())
            kept = [(rule, groups) for rule, groups in found if (rule.order, key) not in dropped]
            self.decide(prim, kept, fields)

    def decide(self, prim: Usd.Prim, found: list[RuleMatch], fields: PrimFields | None) -> None:
        """Turn one prim's matching rules (in precedence order) into intents and notes."""
        for rule, _ in found:
            self.hits[rule.id] += 1
        if self.defaults.legacy == "fail" and legacy_semantics(prim):
            raise LabelPlanError(
                f"{prim.GetPath()} carries the legacy SemanticsAPI (defaults.legacy: fail); "
                "set defaults.legacy to upgrade (convert to LabelsAPI) or keep"
            )
        state = self.record(prim)
        if prim.IsInstanceProxy() and state.legacy and self.defaults.legacy == "upgrade":
            message = (
                "legacy labels inside an instance prototype cannot be upgraded here; upgrade the prototype's asset"
            )
            self.note(_row(prim, "", Action.WARN, message))
        labeling = [] if any(rule.action == "exclude" for rule, _ in found) else found
        if not labeling:
            return
        target = self.redirect(prim, labeling[0][0].id) if prim.IsInstanceProxy() else prim
        if target is None:
            return
        state = self.record(target)
        source = str(prim.GetPath()) if target != prim else ""
        # A remove-all rule decides every taxonomy the prim has or any matching rule would give it.
        present = {*state.labels, *(i.semantic_type for i in state.legacy)}
        present.update(t for rule, _ in labeling for t in rule.taxonomies if t != ALL_TAXONOMIES)
        decided: dict[str, RuleMatch] = {}
        for rule, groups in labeling:
            taxonomies = rule.taxonomies
            if ALL_TAXONOMIES in taxonomies:
                taxonomies = tuple(sorted(present))
            for taxonomy in taxonomies:
                decided.setdefault(taxonomy, (rule, groups))
        fields = fields or PrimFields(prim, prim.GetName(), prim.GetTypeName(), self.ruleset)
        for taxonomy, (rule, groups) in decided.items():
            # For a redirected proxy the instance root is an ancestor, so its labels count here.
            if rule.hierarchy == "topmost" and self.ancestor_has(prim.GetPath(), taxonomy):
                continue
            if rule.action == "remove":
                specific = tuple(t.text for tax, templates in rule.labels if tax == taxonomy for t in templates)
                self.intend(target, taxonomy, Intent(rule, [], specific, [source] if source else []))
                continue
            labels = self._render(prim, target, rule, taxonomy, groups, fields)
            if labels:
                self.intend(target, taxonomy, Intent(rule, labels, None, [source] if source else []))

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
            return None
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
            return groups[key] if groups.get(key) is not None else fields.get(key)

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

    def intend(self, target: Usd.Prim, taxonomy: str, intent: Intent) -> None:
        """Record what a rule wants for (``target``, ``taxonomy``); the better-ranked rule wins."""
        self.record(target)
        per_prim = self.intents.setdefault(str(target.GetPath()), {})
        current = per_prim.get(taxonomy)
        if current is None or intent.rank < current.rank:
            per_prim[taxonomy] = intent
        elif current.rule is intent.rule:  # several proxies of one instance: their labels merge
            current.labels = list(dedupe([*current.labels, *intent.labels]))
            current.sources.extend(intent.sources)

    # rows --------------------------------------------------------------------------------------

    def rows_for(self, state: PrimLabels) -> list[PlanRow]:
        """Rows of one prim: its notes, legacy upgrades, then each taxonomy's rule decision."""
        rows: list[PlanRow] = list(self.notes.get(state.path, []))
        if state.path in self.proxies:
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

        if self.defaults.legacy == "upgrade":
            for row in upgrade_rows(state, current):
                take(row)
        for taxonomy, intent in self.intents.get(state.path, {}).items():
            row = intent_row(state, taxonomy, intent, current, legacy_left)
            if row is not None:
                take(row)
                if row.writes:
                    rows.extend(redirect_rows(state, row, intent))
        return rows

    def finish(self) -> LabelPlan:
        rows: list[PlanRow] = []
        before: dict[str, dict[str, tuple[str, ...]]] = {}
        after: dict[str, dict[str, tuple[str, ...]]] = {}
        for path, state in self.states.items():
            prim_rows = self.rows_for(state)
            rows.extend(prim_rows)
            before[path] = state.combined()
            after[path] = labels_after(state, prim_rows)
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

    def unlabeled(self, labels: Mapping[str, Mapping[str, tuple[str, ...]]]) -> list[str]:
        """Gprims in scope without a label of the default taxonomy, their own or inherited."""
        labeled = {Sdf.Path(p) for p, per_tax in labels.items() if per_tax.get(self.taxonomy)}
        memo: dict[Sdf.Path, bool] = {Sdf.Path.absoluteRootPath: False}

        def covered(path: Sdf.Path) -> bool:
            found = memo.get(path)
            if found is None:
                if path in labeled:
                    found = True
                elif str(path) in self.states:
                    found = covered(path.GetParentPath())
                else:  # not reported on: unlabeled in scope, or an ancestor above the scope roots
                    state = self.labels_of(path)
                    found = bool(state and state.combined().get(self.taxonomy)) or covered(path.GetParentPath())
                memo[path] = found
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


def leaf_drops(pending: Sequence[Pending]) -> set[tuple[int, str]]:
    """(rule order, path) pairs a ``hierarchy: leaf`` rule drops because it also matched a descendant."""
    by_rule: dict[int, list[Sdf.Path]] = {}
    for prim, found, _ in pending:
        for rule, _ in found:
            if rule.hierarchy == "leaf":
                by_rule.setdefault(rule.order, []).append(prim.GetPath())
    dropped = set()
    for order, paths in by_rule.items():
        for here, following in itertools.pairwise(paths):  # pre-order: a descendant comes right after
            if following.HasPrefix(here):
                dropped.add((order, str(here)))
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
    legacy = [item for item in legacy_left if item.semantic_type == taxonomy]
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
    return replace(row, action=action, after=after)


def labels_after(state: PrimLabels, rows: Sequence[PlanRow]) -> dict[str, tuple[str, ...]]:
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
    _, missing = scope_roots(stage, roots)
    for path in missing:
        planner.note(PlanRow(path, "", "", Action.WARN, "", message="scope root is not on the stage"))
    exclude = rules.scope.exclude_regex(rules.defaults.ignore_case)
    planner.visit_all(scope_prims(stage, roots, rules.scope.include_descendants, exclude), progress)
    return planner.finish()
