"""Which prims the rules look at, and which rules match each of them.

Everything per prim is read column by column with ``map`` over USD's accessors (no Python loop per
prim). Rules that read only the name and the type are evaluated once per distinct (name, type),
each rule over all pairs at once; a path glob whose last segment stays within a name is split in
two, the name half tested per distinct name and the parent half per distinct parent path; other
path clauses read the path column of the rows still in question; rules on asset, folder or material
are evaluated per prim with lazily computed fields.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from itertools import compress
from operator import attrgetter
from typing import Any

from pxr import Sdf, Tf, Usd, UsdShade

from omni.sdg_studio.core.semantics.assets import asset_chain, asset_folder, asset_name, pick_assets
from omni.sdg_studio.core.semantics.rules import (
    CHEAP_FIELDS,
    NEAREST_ASSET,
    AssetDepth,
    Match,
    Rule,
    RuleSet,
    glob_to_regex,
)

#: Prims the rules see: active, loaded, defined, not abstract, including instance proxies.
TRAVERSAL = Usd.TraverseInstanceProxies(Usd.PrimDefaultPredicate)
_GPRIM = Tf.Type.FindByName("UsdGeomGprim")
_DEPTH = attrgetter("pathElementCount")

RuleMatch = tuple[Rule, dict[str, str]]
NameType = tuple[str, str]


def bound_material_name(prim: Usd.Prim) -> str:
    material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    return material.GetPrim().GetName() if material else ""


class PrimFields:
    """Lazily computed match and template fields of one prim."""

    def __init__(self, prim: Usd.Prim, name: str, type_name: str, ruleset: RuleSet) -> None:
        self.prim, self.ruleset = prim, ruleset
        self._values: dict[str, str] = {"name": name, "type": type_name}
        self._chain: tuple[str, ...] | None = None

    def get(self, key: str) -> str:
        found = self._values.get(key)
        if found is None:
            found = self._values[key] = self._compute(key)
        return found

    def assets(self, depths: AssetDepth = NEAREST_ASSET) -> list[str]:
        """Asset files on the prim's composition path at ``depths`` (1 = nearest, -1 = outermost)."""
        if self._chain is None:
            self._chain = asset_chain(self.prim)
        return pick_assets(self._chain, depths)

    def asset_field(self, key: str, depths: AssetDepth) -> str:
        """``asset`` / ``folder`` of the first asset at ``depths`` (``""`` when there is none)."""
        found = self.assets(depths)
        if not found:
            return ""
        return asset_name(found[0]) if key == "asset" else asset_folder(found[0])

    def _compute(self, key: str) -> str:
        prim = self.prim
        if key == "path":
            return str(prim.GetPath())
        if key == "parent":
            return prim.GetPath().GetParentPath().name
        if key == "norm":
            return self.ruleset.normalizer.normalize(self.get("name"))
        if key in ("asset", "folder"):
            return self.asset_field(key, NEAREST_ASSET)
        if key == "material":
            return bound_material_name(prim)
        raise KeyError(key)


def _isa(type_name: str, bases: Sequence[str]) -> bool:
    prim_type = Usd.SchemaRegistry.GetTypeFromName(type_name)
    return any(prim_type.IsA(Usd.SchemaRegistry.GetTypeFromName(base)) for base in bases)


def is_gprim_type(type_name: str) -> bool:
    """Whether prims of ``type_name`` are renderable geometry (``UsdGeomGprim``)."""
    return bool(type_name) and Usd.SchemaRegistry.GetTypeFromName(type_name).IsA(_GPRIM)


def type_passes(rule: Rule, type_name: str) -> bool:
    """The rule's ``prim_types`` (exact) and ``isa`` (schema inheritance) filters."""
    return (not rule.prim_types or type_name in rule.prim_types) and (not rule.isa or _isa(type_name, rule.isa))


def _clause(match: Match, fields: PrimFields, groups: dict[str, str]) -> bool:
    """Whether one clause holds for a prim; an asset/folder clause tries each asset at its depths and
    names the one that matched in ``groups`` (``{asset}`` / ``{folder}``, unless a regex group took the name)."""
    if match.on not in ("asset", "folder"):
        found = match.test(fields.get(match.on) or "")
        if found is None:
            return False
        groups.update(found.groupdict())
        return True
    for asset in fields.assets(match.asset_depth) or [""]:
        found = match.test(asset_name(asset) if match.on == "asset" else asset_folder(asset))
        if found is not None:
            groups.update(found.groupdict())
            groups.setdefault("asset", asset_name(asset))
            groups.setdefault("folder", asset_folder(asset))
            return True
    return False


def _groups(rule: Rule, fields: PrimFields) -> dict[str, str] | None:
    """The rule's regex groups when all its clauses hold and no ``unless`` does, else ``None``."""
    groups: dict[str, str] = {}
    for match in rule.matches:
        if not _clause(match, fields, groups):
            return None
    if any(_clause(m, fields, {}) for m in rule.unless):
        return None
    return groups


#: Fields read as whole columns (one ``map`` of the regex per rule); others come from :class:`PrimFields`.
COLUMN_FIELDS = frozenset({"name", "type", "path"})
Hits = dict[int, dict[str, str]]


class PathColumn:
    """Prim paths, their strings and their parents' strings, computed only for the rows asked for."""

    def __init__(self, prims: Sequence[Usd.Prim]) -> None:
        self.prims = prims
        self._paths: dict[int, Sdf.Path] = {}
        self._strings: dict[int, str] = {}
        self._parent_strings: dict[Sdf.Path, str] = {Sdf.Path.absoluteRootPath: ""}

    def paths(self, rows: Sequence[int]) -> list[Sdf.Path]:
        missing = [r for r in rows if r not in self._paths]
        if missing:
            prims = self.prims
            self._paths.update(zip(missing, map(Usd.Prim.GetPath, [prims[r] for r in missing]), strict=True))
        cache = self._paths
        return [cache[r] for r in rows]

    def take(self, rows: Sequence[int]) -> list[str]:
        """The path strings of ``rows``; missing ones are computed in one pass."""
        missing = [r for r in rows if r not in self._strings]
        if missing:
            self._strings.update(zip(missing, map(str, self.paths(missing)), strict=True))
        cache = self._strings
        return [cache[r] for r in rows]

    def parents(self, rows: Sequence[int]) -> list[str]:
        """The parent path strings of ``rows`` (``""`` for the root's children), once per distinct parent."""
        parents = list(map(Sdf.Path.GetParentPath, self.paths(rows)))
        cache = self._parent_strings
        missing = [p for p in dict.fromkeys(parents) if p not in cache]
        cache.update(zip(missing, map(str, missing), strict=True))
        return [cache[p] for p in parents]


Column = Sequence[str] | PathColumn


#: The groups of a row no regex clause captured from (shared; never mutated).
NO_GROUPS: dict[str, str] = {}


def _filter(rows: list[int], match: Match, column: Callable[[str], Column], keep: bool) -> list[int]:
    """The ``rows`` whose field passes (``keep``) or fails ``match``."""
    values = column(match.on)
    if isinstance(values, PathColumn) and match.split is not None:
        parent_regex, name_regex = match.split
        names = column("name")
        assert not isinstance(names, PathColumn)
        name_ok = {name: name_regex.fullmatch(name) is not None for name in dict.fromkeys(names[r] for r in rows)}
        candidates = [r for r in rows if name_ok[names[r]]]
        passed = set(compress(candidates, map(parent_regex.fullmatch, values.parents(candidates))))
        return [r for r in rows if (r in passed) == keep]
    test = match.regex.search if match.kind == "contains" else match.regex.fullmatch
    texts = values.take(rows) if isinstance(values, PathColumn) else [values[r] for r in rows]
    found = map(test, texts)
    return list(compress(rows, found if keep else map(operator.not_, found)))


def _groups_of(rows: list[int], matches: Sequence[Match], column: Callable[[str], Column]) -> Hits:
    """The named groups each matched row's regex clauses captured (later clauses win a shared name)."""
    out: Hits = {}
    for match in matches:
        if match.kind != "regex" or not match.regex.groupindex:
            continue
        values = column(match.on)
        texts = values.take(rows) if isinstance(values, PathColumn) else [values[r] for r in rows]
        for row, found in zip(rows, map(match.regex.fullmatch, texts), strict=True):
            if found is not None:
                out[row] = {**out.get(row, NO_GROUPS), **found.groupdict()}
    return out


def evaluate(rule: Rule, rows: Sequence[int], column: Callable[[str], Column]) -> Hits:
    """The ``rows`` (indexes into the columns) a rule's clauses match, with their regex groups.

    Clauses on the path are tested last, on the rows the others left; groups are read from the
    matched rows only.
    """
    kept = list(rows)
    for match in sorted(rule.matches, key=lambda m: m.on == "path"):
        kept = _filter(kept, match, column, keep=True)
    for match in rule.unless:
        kept = _filter(kept, match, column, keep=False)
    groups = _groups_of(kept, rule.matches, column) if rule.group_names else {}
    return {row: groups.get(row, NO_GROUPS) for row in kept}


class RuleMatcher:
    """Finds the matching rules of every prim, in precedence order."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.ranked = ruleset.ranked_rules()
        self._rank = {rule.order: index for index, rule in enumerate(self.ranked)}

    def match_all(
        self, prims: Sequence[Usd.Prim], names: Sequence[str], types: Sequence[str]
    ) -> dict[int, list[RuleMatch]]:
        """Index of every matched prim -> its matching rules in precedence order.

        Prims with the same (name, type) matched by the same rules share one list object.
        """
        distinct = list(dict.fromkeys(zip(names, types, strict=True)))
        distinct_columns = {"name": [p[0] for p in distinct], "type": [p[1] for p in distinct]}
        paths = PathColumn(prims)

        def prim_column(name: str) -> Column:
            return {"name": names, "type": types, "path": paths}[name]

        by_pair: dict[NameType, list[RuleMatch]] = {}
        matched: dict[int, list[RuleMatch]] = {}
        distinct_types = set(types)
        pairs_of_type: dict[str, list[int]] = {}
        for index, (_, type_name) in enumerate(distinct):
            pairs_of_type.setdefault(type_name, []).append(index)
        for rule in self.ranked:
            allowed = {t for t in distinct_types if type_passes(rule, t)}
            if not allowed:
                continue
            fields = rule.fields
            if fields <= CHEAP_FIELDS:
                if allowed == distinct_types:
                    rows = list(range(len(distinct)))
                else:
                    rows = sorted(i for t in allowed for i in pairs_of_type[t])
                for row, groups in evaluate(rule, rows, distinct_columns.__getitem__).items():
                    by_pair.setdefault(distinct[row], []).append((rule, groups))
                continue
            rows = (
                list(range(len(types)))
                if allowed == distinct_types
                else [i for i, t in enumerate(types) if t in allowed]
            )
            if fields <= COLUMN_FIELDS:
                for row, groups in evaluate(rule, rows, prim_column).items():
                    matched.setdefault(row, []).append((rule, groups))
            else:
                cheap = tuple(m for m in rule.matches if m.on in COLUMN_FIELDS)
                if cheap:  # narrow down by the clauses read from columns first
                    rows = list(evaluate(Rule(rule.id, rule.order, matches=cheap), rows, prim_column))
                for row in rows:
                    groups = _groups(rule, PrimFields(prims[row], names[row], types[row], self.ruleset))
                    if groups is not None:
                        matched.setdefault(row, []).append((rule, groups))
        if not matched:
            return {i: by_pair[pair] for i, pair in enumerate(zip(names, types, strict=True)) if pair in by_pair}
        for i, pair in enumerate(zip(names, types, strict=True)):
            shared = by_pair.get(pair)
            if shared is None:
                continue
            own = matched.get(i)
            matched[i] = shared if own is None else sorted([*shared, *own], key=lambda m: self._rank[m[0].order])
        return matched


def scope_roots(stage: Usd.Stage, roots: Sequence[str]) -> tuple[list[Usd.Prim], list[str]]:
    """Existing root prims (roots nested in other roots dropped) and the roots that are missing."""
    kept: list[Sdf.Path] = []
    for path in sorted({Sdf.Path(r) for r in roots}):
        if not any(path.HasPrefix(k) for k in kept):
            kept.append(path)
    prims, missing = [], []
    for path in kept:
        prim = stage.GetPrimAtPath(path)
        if prim:
            prims.append(prim)
        else:
            missing.append(str(path))
    return prims, missing


class ExcludeFilter:
    """The scope's excluded subtrees: path globs, fully matched (``**`` crosses ``/``)."""

    def __init__(self, patterns: Sequence[str], ignore_case: bool) -> None:
        source = "|".join(f"(?:{glob_to_regex(p.rstrip('/') or '/')})" for p in patterns)
        self.regex = re.compile(source, re.IGNORECASE if ignore_case else 0)
        deep = any("**" in p for p in patterns)
        #: Deepest path a pattern can match (elements), or ``None`` when a ``**`` reaches any depth.
        self.max_depth = None if deep else max(p.rstrip("/").count("/") for p in patterns)
        #: Every pattern is a plain path (no wildcard): the excluded prims are looked up, not searched for.
        self.literal = None if any(c in p for p in patterns for c in "*?[") else [p.rstrip("/") for p in patterns]
        self.ignore_case = ignore_case

    def matches(self, prim: Usd.Prim) -> bool:
        return self.regex.fullmatch(str(prim.GetPath())) is not None

    def remove_from(self, prims: list[Usd.Prim]) -> list[Usd.Prim]:
        """``prims`` (a pre-order range) without the subtrees whose root path matches.

        Plain paths are looked up on the stage and their subtree cut out of the list; for globs, only
        prims no deeper than the deepest pattern get their path string tested, and a subtree is the run
        of following prims deeper than its root.
        """
        if self.literal is not None and prims:
            return self._remove_literal(prims)
        depths = list(map(_DEPTH, map(Usd.Prim.GetPath, prims)))
        limit = self.max_depth
        shallow = [i for i, d in enumerate(depths) if limit is None or d <= limit]
        fullmatch = self.regex.fullmatch
        texts = map(str, map(Usd.Prim.GetPath, [prims[i] for i in shallow]))
        excluded = [i for i, text in zip(shallow, texts, strict=True) if fullmatch(text)]
        if not excluded:
            return prims
        kept: list[Usd.Prim] = []
        start = 0
        for index in excluded:
            if index < start:  # inside a subtree already dropped
                continue
            kept.extend(prims[start:index])
            end = index + 1
            root_depth = depths[index]
            while end < len(prims) and depths[end] > root_depth:
                end += 1
            start = end
        kept.extend(prims[start:])
        return kept

    def _remove_literal(self, prims: list[Usd.Prim]) -> list[Usd.Prim]:
        assert self.literal is not None
        stage = prims[0].GetStage()
        cuts = []
        for path in self.literal:
            for excluded in _prims_named(stage, path, self.ignore_case):
                try:
                    start = prims.index(excluded)  # USD compares prims; the excluded folders come early
                except ValueError:
                    continue  # not in this range
                cuts.append((start, start + sum(1 for _ in Usd.PrimRange(excluded, TRAVERSAL))))
        kept: list[Usd.Prim] = []
        position = 0
        for start, end in sorted(cuts):
            kept.extend(prims[position:start])
            position = max(position, end)
        kept.extend(prims[position:])
        return kept


def _prims_named(stage: Usd.Stage, path: str, ignore_case: bool) -> list[Usd.Prim]:
    """The prims whose path is ``path`` (any letter case with ``ignore_case``)."""
    if not ignore_case:
        prim = stage.GetPrimAtPath(path) if Sdf.Path.IsValidPathString(path) else None
        return [prim] if prim else []
    found = [stage.GetPseudoRoot()]
    for segment in (s.casefold() for s in path.split("/") if s):  # names in one call per parent: no prim per child
        found = [
            parent.GetChild(name)
            for parent in found
            for name in parent.GetFilteredChildrenNames(TRAVERSAL)
            if name.casefold() == segment
        ]
    return found if path.strip("/") else []


def _subtree(prim: Usd.Prim) -> Usd.PrimRange:
    return Usd.PrimRange.Stage(prim.GetStage(), TRAVERSAL) if prim.IsPseudoRoot() else Usd.PrimRange(prim, TRAVERSAL)


def _below(prim: Usd.Prim) -> Any:
    """``prim``'s descendants in pre-order (USD iterates; Python only hands them on), as a ``Usd.PrimRange``
    iterator (``PruneChildren()`` skips the last prim's descendants)."""
    walk = iter(_subtree(prim))
    if not prim.IsPseudoRoot():
        next(walk)
    return walk


def scope_prims(
    stage: Usd.Stage, roots: Sequence[str], include_descendants: bool, scope_exclude: ExcludeFilter | None
) -> list[Usd.Prim]:
    """Prims under ``roots`` in pre-order, minus the subtrees whose path ``scope_exclude`` matches."""
    prims, _ = scope_roots(stage, roots)
    out: list[Usd.Prim] = []
    for root in prims:
        if scope_exclude is not None and not root.IsPseudoRoot() and scope_exclude.matches(root):
            continue
        if not root.IsPseudoRoot():
            out.append(root)
        if not include_descendants:
            continue
        below = list(_below(root))
        out.extend(scope_exclude.remove_from(below) if scope_exclude is not None else below)
    return out


def group_value(groups: Mapping[str, str], fields: PrimFields, rule: Rule, key: str) -> str:
    """A template field: a regex group (or the asset a clause matched), else the prim's field at the
    rule's ``asset_depth`` for ``{asset}`` / ``{folder}``."""
    value = groups.get(key)
    if value is not None:
        return value
    if key in ("asset", "folder") and rule.asset_depth != NEAREST_ASSET:
        return fields.asset_field(key, rule.asset_depth)
    return fields.get(key)
